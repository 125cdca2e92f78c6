"""The typed rule tree: what `rules.parse_rule` makes of a rule's JSON, and what every walker reads.

A rule is stored (and sent over the API) as JSON; it is parsed once, validated and converted on the
way, into these frozen nodes. The evaluator, the SQL compiler, the descriptions, the policy-list
filter, the rule builder and `iter_leaves` walk the tree, never the JSON, so none of them re-checks
a shape or guesses at a key. Trees are immutable and may be shared (cached compiled rules hold one).

    AllOf(children)                every child holds             {"all": [node, …]}
    AnyOf(children)                at least one child holds      {"any": [node, …]}
    Not(child)                     the child does not hold       {"not": node}
    Condition(spec, op, value)     a condition on one fact       {"fact": NAME, "op": OP, "value": V}
    Attestation(text)              a commitment (承诺)            {"attest": TEXT}
    Judgement(text, department)    a department's judgement      {"judge": TEXT, "department": DEPT}

A `Condition` carries its fact's registry definition (`spec`) rather than its name, and its value
converted to an immutable form: JSON lists become tuples; strings, booleans and numbers stay as
written (numbers are normalised where they are compared, by the registry, so that an explanation
shows the value the rule states). `to_raw` gives the JSON back: `to_raw(parse_rule(raw)) == raw`
for every valid rule. Pure Python, no Django imports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from .registry import MET, UNMET, FactSpec

DEFAULT_DEPARTMENT = "主管部门"  # who judges when a judgement names no department


@dataclass(frozen=True, slots=True)
class AllOf:
    children: tuple[Node, ...]
    kind: ClassVar[str] = "all"


@dataclass(frozen=True, slots=True)
class AnyOf:
    children: tuple[Node, ...]
    kind: ClassVar[str] = "any"


@dataclass(frozen=True, slots=True)
class Not:
    child: Node
    kind: ClassVar[str] = "not"


@dataclass(frozen=True, slots=True)
class Condition:
    spec: FactSpec
    op: str
    value: Any  # the rule's value, lists as tuples (see the module docstring)
    kind: ClassVar[str] = "fact"

    @property
    def fact(self) -> str:
        return self.spec.name

    @property
    def raw_value(self) -> Any:
        """The value in its JSON form (tuples as lists), as the rule states it."""
        return _thaw(self.value)


@dataclass(frozen=True, slots=True)
class Attestation:
    """A commitment the enterprise makes (承诺): no data decides it."""

    text: str
    kind: ClassVar[str] = "attest"


@dataclass(frozen=True, slots=True)
class Judgement:
    """A judgement the responsible department makes (待认定): no data decides it."""

    text: str
    department: str = ""  # as the rule names it; "" when it names none (then 主管部门)
    kind: ClassVar[str] = "judge"

    @property
    def judge(self) -> str:
        """Who judges: the department the rule names, else 主管部门."""
        return self.department or DEFAULT_DEPARTMENT


Group = AllOf | AnyOf
Pending = Attestation | Judgement  # conditions no data decides
Leaf = Condition | Attestation | Judgement
Node = AllOf | AnyOf | Not | Condition | Attestation | Judgement
NODE_TYPES = (AllOf, AnyOf, Not, Condition, Attestation, Judgement)


def freeze(value: Any) -> Any:
    """A JSON value with its lists as tuples (hashable, immutable)."""
    if isinstance(value, list):
        return tuple([freeze(item) if isinstance(item, list) else item for item in value])
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_thaw(item) for item in value]
    return value


def to_raw(node: Node) -> dict[str, Any]:
    """The node's JSON form, as stored and as the API shows it."""
    if isinstance(node, AllOf | AnyOf):
        return {node.kind: [to_raw(child) for child in node.children]}
    if isinstance(node, Not):
        return {"not": to_raw(node.child)}
    if isinstance(node, Condition):
        return {"fact": node.spec.name, "op": node.op, "value": _thaw(node.value)}
    if isinstance(node, Attestation):
        return {"attest": node.text}
    raw = {"judge": node.text}
    if node.department:
        raw["department"] = node.department
    return raw


def join(path: str, key: str) -> str:
    """ "all[1]" + "value" → "all[1].value"; "" + "value" → "value"; "all" + "[0]" → "all[0]"."""
    if not path:
        return key
    if key.startswith("["):
        return path + key
    return f"{path}.{key}" if key else path


def child_paths(node: Group, path: str) -> Iterator[tuple[str, Node]]:
    """(path, child) of each child of a group: "all[0]", "all[1]", … under `path`."""
    here = join(path, node.kind)
    for index, child in enumerate(node.children):
        yield f"{here}[{index}]", child


def iter_leaves(node: Node, path: str = "") -> Iterator[tuple[str, Leaf, bool]]:
    """(path, leaf, negated) for each condition of a tree, in document order.

    Leaves include attestations and judgements. `negated` is True when the leaf sits under an odd
    number of `not`s: the rule then needs it to be unmet.
    """
    stack: list[tuple[Node, str, bool]] = [(node, path, False)]
    while stack:
        current, here, negated = stack.pop()
        if isinstance(current, Not):
            stack.append((current.child, join(here, "not"), not negated))
        elif isinstance(current, AllOf | AnyOf):
            children = list(child_paths(current, here))
            stack.extend((child, child_path, negated) for child_path, child in reversed(children))
        else:
            yield here, current, negated


def three_valued(node: Node, leaf_value: Callable[[Leaf], int]) -> int:
    """The Kleene value of a tree given each leaf's value (registry.UNMET < UNKNOWN < MET).

    `all` is the minimum of its children, `any` the maximum, `not` swaps met and unmet and leaves
    unknown alone. This is the evaluator's logic (the compiled evaluator precomputes the same
    combination as closures, see evaluator._value_fn), for walkers that read a rule with other
    knowledge than a profile: the policy list reads it knowing only the filtered facts.
    """
    if isinstance(node, AllOf):
        result = MET
        for child in node.children:
            result = min(result, three_valued(child, leaf_value))
            if result == UNMET:
                break
        return result
    if isinstance(node, AnyOf):
        result = UNMET
        for child in node.children:
            result = max(result, three_valued(child, leaf_value))
            if result == MET:
                break
        return result
    if isinstance(node, Not):
        return MET + UNMET - three_valued(node.child, leaf_value)
    return leaf_value(node)
