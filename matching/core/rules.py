"""The rule language: JSON nodes `all` / `any` / `not` / condition, validated against the fact registry.

A rule is stored as JSON and never `eval`-ed. Nodes:
    {"all": [node, …]}   every child holds
    {"any": [node, …]}   at least one child holds
    {"not": node}        the child does not hold
    {"fact": NAME, "op": OP, "value": V}   a condition on one fact of the registry
    {"attest": TEXT}     a commitment the enterprise makes (承诺); no data can check it
    {"judge": TEXT, "department": DEPT}   a judgement the responsible department makes (待认定);
                         "department" is optional (default: 主管部门); no data can check it
Attestations and judgements are *pending* conditions: no department feed decides them, so the
evaluator never finds them met (see evaluator.py: they stay unknown, the outcome is at best
needs_info, and the explanation says 需您承诺 / 待主管部门认定). TEXT is the matter itself
("近三年无重大安全生产事故"), not prefixed with 承诺 / 认定. They may not sit under a `not`: a
commitment the enterprise must not make means nothing.
Paths name a node or a part of it the way a reader would walk the JSON: "all[1].any[0].value"
("" is the root).

`parse_rule` is the one reading of that JSON: it validates and builds the typed tree (tree.py) in
one walk, raising RuleError with every problem found; every other module walks the tree.
Pure Python, no Django imports.
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable, Iterator
from typing import Any

from .registry import FACTS, OPERATOR_LABELS
from .tree import (
    NODE_TYPES,
    AllOf,
    AnyOf,
    Attestation,
    Condition,
    Judgement,
    Leaf,
    Node,
    Not,
    freeze,
    iter_leaves,
    join,
    to_raw,
)

MAX_DEPTH = 12  # nesting levels, the root being level 1
MAX_NODES = 500  # nodes of all kinds in one rule
MAX_ERRORS = 50  # problems reported for one rule

GROUP_KEYS = ("all", "any")
CONDITION_KEYS = ("fact", "op", "value")
PENDING_KINDS = ("attest", "judge")  # conditions no data decides: 承诺 / 待认定
PENDING_KEYS = {"attest": ("attest",), "judge": ("judge", "department")}
MAX_WORDING = 200  # characters of an attestation's or judgement's wording
MAX_DEPARTMENT = 64
PENDING_LABELS = {"attest": "企业承诺", "judge": "主管部门认定"}


class RuleError(ValueError):
    """A rule that is not valid. `path`, `code` and `message` describe the first problem; `errors`
    lists every problem found (each a RuleError with one problem).

    Codes: malformed_node, empty_group, unknown_fact, operator_not_allowed, invalid_value,
    unknown_code (a code that is not in its vocabulary / GB/T 4754-2017), too_deep, too_large,
    invalid_wording (an attestation's or judgement's text), pending_under_not.
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


class _TooLarge(Exception):
    pass


class _Parser:
    """Walks a rule's JSON once: records every problem (up to MAX_ERRORS) and builds the tree.

    Each method returns the node it built, or None when the JSON under it has a problem (recorded);
    the walk goes on past a problem so that every problem is reported, not just the first.
    """

    def __init__(self) -> None:
        self.errors: list[RuleError] = []
        self.problems = 0  # every problem found, reported or past the cap
        self.nodes = 0

    def add(self, path: str, code: str, message: str) -> None:
        self.problems += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RuleError(path, code, message))

    def node(self, node: object, path: str, depth: int, negated: bool = False) -> Node | None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self.add(path, "too_large", f"规则过大：节点数超过{MAX_NODES}个")
            raise _TooLarge
        if depth > MAX_DEPTH:
            self.add(path, "too_deep", f"规则嵌套过深：超过{MAX_DEPTH}层")
            return None
        if not isinstance(node, dict):
            self.add(path, "malformed_node", "规则节点必须是对象（all、any、not 或条件）")
            return None
        for key in node:
            if not isinstance(key, str):
                self.add(path, "malformed_node", "规则节点的键必须是字符串")
                return None
        group = [key for key in (*GROUP_KEYS, "not") if key in node]
        if group:
            if len(node) != 1:
                others = "、".join(k for k in node if k != group[0])
                self.add(path, "malformed_node", f"“{group[0]}”节点不能再有其他键（多余：{others}）")
                return None
            key = group[0]
            if key == "not":
                child = self.node(node["not"], join(path, "not"), depth + 1, True)
                return None if child is None else Not(child)
            children = node[key]
            here = join(path, key)
            if not isinstance(children, list):
                self.add(here, "malformed_node", f"“{key}”的取值必须是规则节点列表")
                return None
            if not children:
                self.add(here, "empty_group", f"“{key}”至少需要一个条件")
                return None
            # Every child is parsed (a list, not a generator cut short) so that all problems are found.
            parsed = [self.node(child, f"{here}[{i}]", depth + 1, negated) for i, child in enumerate(children)]
            if any(child is None for child in parsed):
                return None
            nodes = tuple(child for child in parsed if child is not None)
            return AllOf(nodes) if key == "all" else AnyOf(nodes)
        pending = [key for key in PENDING_KINDS if key in node]
        if pending:
            return self.pending(node, path, pending[0], negated)
        return self.condition(node, path)

    def pending(self, node: dict[str, Any], path: str, kind: str, negated: bool) -> Node | None:
        label = PENDING_LABELS[kind]
        extra = [k for k in node if k not in PENDING_KEYS[kind]]
        if extra:
            allowed = "、".join(PENDING_KEYS[kind])
            for key in extra:
                self.add(join(path, key), "malformed_node", f"{label}条件中不允许的键“{key[:32]}”（只能有 {allowed}）")
            return None
        if negated:
            self.add(path, "pending_under_not", f"{label}条件不能放在“not”之下（无法要求企业不作承诺或部门不予认定）")
            return None
        before = self.problems
        text = node[kind]
        _wording_problem(self, join(path, kind), text, label, MAX_WORDING)
        if kind == "attest" and isinstance(text, str) and text.strip().startswith("承诺"):
            message = "承诺条件只写承诺的内容，不要以“承诺”开头（页面显示为“需您承诺：…”）"
            self.add(join(path, kind), "invalid_wording", message)
        department = node.get("department", "")
        if "department" in node:
            _wording_problem(self, join(path, "department"), department, "认定部门", MAX_DEPARTMENT)
        if self.problems != before:
            return None
        if kind == "attest":
            return Attestation(text)
        return Judgement(text, department)

    def condition(self, node: dict[str, Any], path: str) -> Node | None:
        extra = [k for k in node if k not in CONDITION_KEYS]
        if extra:
            for key in extra:
                self.add(join(path, key), "malformed_node", f"条件中不允许的键“{key}”（只能有 fact、op、value）")
            return None
        missing = [k for k in CONDITION_KEYS if k not in node]
        if missing:
            self.add(path, "malformed_node", f"条件缺少{'、'.join(missing)}")
            return None
        name, op, value = node["fact"], node["op"], node["value"]
        if not isinstance(name, str):
            self.add(join(path, "fact"), "malformed_node", "fact 必须是字符串")
            return None
        spec = FACTS.get(name)
        if spec is None:
            self.add(join(path, "fact"), "unknown_fact", f"未知的条件项“{name[:64]}”")
            return None
        if not isinstance(op, str):
            self.add(join(path, "op"), "malformed_node", "op 必须是字符串")
            return None
        if op not in spec.operators:
            allowed = "、".join(f"{o}（{OPERATOR_LABELS[o]}）" for o in spec.operators)
            message = f"{spec.label}不能使用运算符“{op[:32]}”（可用：{allowed}）"
            self.add(join(path, "op"), "operator_not_allowed", message)
            return None
        problems = spec.validate_value(op, value)
        for sub, code, message in problems:
            self.add(join(path, sub), code, message)
        return None if problems else Condition(spec, op, freeze(value))


def _wording_problem(parser: _Parser, path: str, text: object, label: str, limit: int) -> None:
    if not isinstance(text, str) or not text.strip():
        parser.add(path, "invalid_wording", f"{label}的内容必须是非空文字")
    elif len(text) > limit:
        parser.add(path, "invalid_wording", f"{label}的内容不能超过{limit}个字符")
    elif text != text.strip() or any(ch < " " or ch == "\x7f" for ch in text):
        parser.add(path, "invalid_wording", f"{label}的内容不能含换行、控制字符或首尾空白")


def parse_rule(rule: object) -> Node:
    """The typed tree of a rule's JSON (see tree.py); RuleError (with every problem found, up to 50)
    unless `rule` is a valid rule. Validation is parsing: a rule is valid when it parses."""
    parser = _Parser()
    tree: Node | None = None
    with contextlib.suppress(_TooLarge):  # the error is recorded; stop walking a rule that large
        tree = parser.node(rule, "", 1)
    if parser.errors:
        first = parser.errors[0]
        raise RuleError(first.path, first.code, first.message, parser.errors)
    assert tree is not None  # no problem recorded: every node was built
    return tree


def as_tree(rule: object) -> Node:
    """`rule` itself when it is a parsed tree already, else its parse (RuleError if it is not valid).

    The walkers accept either, so that a caller holding a tree (a compiled rule's `tree`) does not
    have the JSON parsed again."""
    if isinstance(rule, NODE_TYPES):
        return rule
    return parse_rule(rule)


_TREES_BY_KEY: dict[Hashable, Node] = {}
_TREES_BY_KEY_LIMIT = 5000


def parse_rule_keyed(key: Hashable, rule: object) -> Node:
    """`parse_rule(rule)`, remembered under `key`: for callers that read many stored rules on every
    request (the policy list's filters), so that each rule version is parsed once per process.

    The caller guarantees that `key` changes whenever the rule does: a published version's
    (pk, updated_at). Trees are immutable, so sharing one is safe; a rule that does not parse is
    not remembered (RuleError each time).
    """
    tree = _TREES_BY_KEY.get(key)
    if tree is None:
        if len(_TREES_BY_KEY) >= _TREES_BY_KEY_LIMIT:
            _TREES_BY_KEY.clear()
        tree = _TREES_BY_KEY[key] = parse_rule(rule)
    return tree


def validate_rule(rule: object) -> None:
    """Raise RuleError (with every problem found, up to 50) unless `rule` is a valid rule."""
    parse_rule(rule)


def is_pending(node: dict[str, Any]) -> bool:
    """An attestation or judgement (in a rule's JSON): a condition no data decides."""
    return "attest" in node or "judge" in node


def iter_conditions(rule: object) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """(path, condition, negated) for each condition of a valid rule, in document order, each
    condition in its JSON form (RuleError if the rule is not valid).

    For callers that keep conditions as JSON; walkers of the rule itself read `tree.iter_leaves`.
    Conditions include attestations and judgements (see `is_pending`): callers that read
    `cond["fact"]` must skip those. `negated` is True when the condition sits under an odd number
    of `not`s: the rule then needs it to be unmet.
    """
    for path, leaf, negated in iter_leaves(as_tree(rule)):
        yield path, to_raw(leaf), negated


def rule_facts(rule: object) -> set[str]:
    """The fact names a rule tests (RuleError if it is not valid).

    Attestations and judgements test no fact."""
    return {leaf.fact for _, leaf, _ in iter_leaves(as_tree(rule)) if isinstance(leaf, Condition)}


def undecidable_conditions(rule: object) -> list[tuple[int, str, Leaf, bool, str]]:
    """(number, path, condition, negated, reason) for each condition of a valid rule that no verified source
    decides: an attestation, a judgement, or a fact the registry says only self-declaration supplies
    (no verified source). `number` counts conditions from 1 in document order, as pages list them.
    RuleError if the rule is not valid."""
    found: list[tuple[int, str, Leaf, bool, str]] = []
    for number, (path, leaf, negated) in enumerate(iter_leaves(as_tree(rule)), start=1):
        if isinstance(leaf, Attestation):
            found.append((number, path, leaf, negated, "需企业承诺，没有部门数据可以核验"))
        elif isinstance(leaf, Judgement):
            found.append((number, path, leaf, negated, "需主管部门认定，没有部门数据可以核验"))
        elif not leaf.spec.verified_sources:
            found.append((number, path, leaf, negated, "该信息只能由企业自行填报，没有部门数据可以核验"))
    return found
