"""The rule language: JSON nodes `all` / `any` / `not` / condition, validated against the fact registry.

A rule is stored as JSON and never `eval`-ed. Nodes:
    {"all": [node, …]}   every child holds
    {"any": [node, …]}   at least one child holds
    {"not": node}        the child does not hold
    {"fact": NAME, "op": OP, "value": V}   a condition on one fact of the registry
Paths name a node or a part of it the way a reader would walk the JSON: "all[1].any[0].value"
("" is the root). Pure Python, no Django imports.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from .registry import FACTS, OPERATOR_LABELS

MAX_DEPTH = 12  # nesting levels, the root being level 1
MAX_NODES = 500  # nodes of all kinds in one rule
MAX_ERRORS = 50  # problems reported for one rule

GROUP_KEYS = ("all", "any")
CONDITION_KEYS = ("fact", "op", "value")


class RuleError(ValueError):
    """A rule that is not valid. `path`, `code` and `message` describe the first problem; `errors`
    lists every problem found (each a RuleError with one problem).

    Codes: malformed_node, empty_group, unknown_fact, operator_not_allowed, invalid_value,
    unknown_code (a code that is not in its vocabulary / GB/T 4754-2017), too_deep, too_large.
    """

    def __init__(self, path: str, code: str, message: str, errors: list[RuleError] | None = None) -> None:
        self.path = path
        self.code = code
        self.message = message
        self.errors: list[RuleError] = errors if errors else [self]
        super().__init__(f"{path or '（根节点）'}：{message}")

    def as_fields(self, prefix: str = "rule") -> list[dict[str, str]]:
        """The problems in the API error format's `fields` shape ({"field", "code", "message"})."""
        return [
            {"field": join(prefix, e.path) if prefix else e.path, "code": e.code, "message": e.message}
            for e in self.errors
        ]


def join(path: str, key: str) -> str:
    """ "all[1]" + "value" → "all[1].value"; "" + "value" → "value"; "all" + "[0]" → "all[0]"."""
    if not path:
        return key
    if key.startswith("["):
        return path + key
    return f"{path}.{key}" if key else path


class _TooLarge(Exception):
    pass


class _Validator:
    def __init__(self) -> None:
        self.errors: list[RuleError] = []
        self.nodes = 0

    def add(self, path: str, code: str, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RuleError(path, code, message))

    def node(self, node: object, path: str, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self.add(path, "too_large", f"规则过大：节点数超过{MAX_NODES}个")
            raise _TooLarge
        if depth > MAX_DEPTH:
            self.add(path, "too_deep", f"规则嵌套过深：超过{MAX_DEPTH}层")
            return
        if not isinstance(node, dict):
            self.add(path, "malformed_node", "规则节点必须是对象（all、any、not 或条件）")
            return
        for key in node:
            if not isinstance(key, str):
                self.add(path, "malformed_node", "规则节点的键必须是字符串")
                return
        group = [key for key in (*GROUP_KEYS, "not") if key in node]
        if group:
            if len(node) != 1:
                others = "、".join(k for k in node if k != group[0])
                self.add(path, "malformed_node", f"“{group[0]}”节点不能再有其他键（多余：{others}）")
                return
            key = group[0]
            if key == "not":
                self.node(node["not"], join(path, "not"), depth + 1)
                return
            children = node[key]
            here = join(path, key)
            if not isinstance(children, list):
                self.add(here, "malformed_node", f"“{key}”的取值必须是规则节点列表")
                return
            if not children:
                self.add(here, "empty_group", f"“{key}”至少需要一个条件")
                return
            for i, child in enumerate(children):
                self.node(child, f"{here}[{i}]", depth + 1)
            return
        self.condition(node, path)

    def condition(self, node: dict[str, Any], path: str) -> None:
        extra = [k for k in node if k not in CONDITION_KEYS]
        if extra:
            for key in extra:
                self.add(join(path, key), "malformed_node", f"条件中不允许的键“{key}”（只能有 fact、op、value）")
            return
        missing = [k for k in CONDITION_KEYS if k not in node]
        if missing:
            self.add(path, "malformed_node", f"条件缺少{'、'.join(missing)}")
            return
        name, op, value = node["fact"], node["op"], node["value"]
        if not isinstance(name, str):
            self.add(join(path, "fact"), "malformed_node", "fact 必须是字符串")
            return
        spec = FACTS.get(name)
        if spec is None:
            self.add(join(path, "fact"), "unknown_fact", f"未知的条件项“{name[:64]}”")
            return
        if not isinstance(op, str):
            self.add(join(path, "op"), "malformed_node", "op 必须是字符串")
            return
        if op not in spec.operators:
            allowed = "、".join(f"{o}（{OPERATOR_LABELS[o]}）" for o in spec.operators)
            message = f"{spec.label}不能使用运算符“{op[:32]}”（可用：{allowed}）"
            self.add(join(path, "op"), "operator_not_allowed", message)
            return
        for sub, code, message in spec.validate_value(op, value):
            self.add(join(path, sub), code, message)


def validate_rule(rule: object) -> None:
    """Raise RuleError (with every problem found, up to 50) unless `rule` is a valid rule."""
    validator = _Validator()
    with contextlib.suppress(_TooLarge):  # the error is recorded; stop walking a rule that large
        validator.node(rule, "", 1)
    if validator.errors:
        first = validator.errors[0]
        raise RuleError(first.path, first.code, first.message, validator.errors)


def iter_conditions(rule: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """(path, condition, negated) for each condition of a valid rule, in document order.

    `negated` is True when the condition sits under an odd number of `not`s: the rule then needs it
    to be unmet.
    """
    stack: list[tuple[dict[str, Any], str, bool]] = [(rule, "", False)]
    while stack:
        node, path, negated = stack.pop()
        if "not" in node:
            stack.append((node["not"], join(path, "not"), not negated))
        elif "all" in node or "any" in node:
            key = "all" if "all" in node else "any"
            here = join(path, key)
            children = list(enumerate(node[key]))
            stack.extend((child, f"{here}[{i}]", negated) for i, child in reversed(children))
        else:
            yield path, node, negated


def rule_facts(rule: object) -> set[str]:
    """The fact names a rule tests (validates it first: RuleError if it is not valid)."""
    validate_rule(rule)
    assert isinstance(rule, dict)
    return {cond["fact"] for _, cond, _ in iter_conditions(rule)}
