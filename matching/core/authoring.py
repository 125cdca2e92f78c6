"""Authoring checks (编写检查) that need no data: conditions in one `all` that can never hold together.

`contradictions(tree)` reads a rule's typed tree and reports each group of conditions joined by
`all` (nested `all`s flattened into it) that no enterprise can meet, whatever its facts:

- number ranges on one fact that do not overlap (从业人员不低于 500 人 and 不超过 100 人), or that
  leave the fact's possible values (0 up to the registry's `maximum`); for whole-number facts,
  `gt 5` and `lt 6` do not overlap either;
- lists of codes on a single-valued fact with nothing in common (规模为小型 and 为中型; 纳税信用
  等级 in [A] and not_in [A]);
- industry conditions with no code in common (制造业 C and 软件和信息技术服务业 65), sections
  counted as their divisions.

Places (zone, park) are left out on purpose: one licence may run sites in several zones (一照多址),
so "in zone A" and "in zone B" can both hold. Qualifications likewise: an enterprise holds several.

What the district's data say (a condition nobody meets today, a condition that changes nothing, the
overlap with live policies) is counted by the preview (policies.selectors.policy_preview), which
reads enterprises; this module reads only the rule. Pure Python, no Django imports.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .describe import describe_rule
from .industries import SECTION_DIVISIONS, section_divisions
from .registry import FactSpec, ValueType
from .tree import AllOf, AnyOf, Condition, Node, Not, child_paths, join

_NUMERIC = (ValueType.INTEGER, ValueType.NUMBER)
_SINGLE_VALUED = (ValueType.CHOICE, ValueType.COUNTRY, ValueType.BOOLEAN)


@dataclass(frozen=True, slots=True)
class Contradiction:
    """Conditions of one `all` group (at `path`) on one fact that cannot all hold."""

    path: str
    fact: str
    paths: tuple[str, ...]  # the conflicting conditions
    wordings: tuple[str, ...]

    @property
    def message(self) -> str:
        if len(self.wordings) == 1:
            return f"「{self.wordings[0]}」超出了这项数据可能的取值，任何企业都无法满足"
        joined = "」与「".join(self.wordings)
        return f"「{joined}」不可能同时满足，任何企业都无法符合这一组条件"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "fact": self.fact,
            "paths": list(self.paths),
            "wordings": list(self.wordings),
            "message": self.message,
        }


def contradictions(tree: Node) -> list[Contradiction]:
    """Every `all` group of the rule whose conditions on some fact cannot hold together."""
    found: list[Contradiction] = []
    _visit(tree, "", found)
    return found


def _visit(node: Node, path: str, found: list[Contradiction]) -> None:
    if isinstance(node, AllOf):
        conjuncts: list[tuple[str, Condition]] = []
        for child_path, child in _conjuncts(node, path):
            if isinstance(child, Condition):
                conjuncts.append((child_path, child))
            else:
                _visit(child, child_path, found)
        found.extend(_conflicts(path, conjuncts))
    elif isinstance(node, AnyOf):
        for child_path, child in child_paths(node, path):
            _visit(child, child_path, found)
    elif isinstance(node, Not):
        _visit(node.child, join(path, "not"), found)


def _conjuncts(node: AllOf, path: str) -> Iterator[tuple[str, Node]]:
    """The children of an `all`, with nested `all`s flattened in (they are conjunctions too)."""
    for child_path, child in child_paths(node, path):
        if isinstance(child, AllOf):
            yield from _conjuncts(child, child_path)
        else:
            yield child_path, child


def _conflicts(group: str, conjuncts: Sequence[tuple[str, Condition]]) -> Iterator[Contradiction]:
    by_fact: dict[str, list[tuple[str, Condition]]] = defaultdict(list)
    for path, condition in conjuncts:
        by_fact[condition.fact].append((path, condition))
    for fact, conditions in by_fact.items():
        spec = conditions[0][1].spec
        value_type = spec.type
        if len(conditions) < 2 and value_type == ValueType.INDUSTRY:
            continue
        if value_type in _NUMERIC:
            maximum = None if spec.maximum is None else Decimal(str(spec.maximum))
            empty = _range_empty([c for _, c in conditions], whole=value_type == ValueType.INTEGER, maximum=maximum)
        elif value_type in _SINGLE_VALUED:
            empty = _codes_empty([c for _, c in conditions], universe=_universe(spec))
        elif value_type == ValueType.INDUSTRY:
            empty = _industries_empty([c for _, c in conditions])
        else:
            empty = False
        if empty:
            yield Contradiction(
                path=group,
                fact=fact,
                paths=tuple(path for path, _ in conditions),
                wordings=tuple("；".join(describe_rule(c)) for _, c in conditions),
            )


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _range_empty(conditions: Sequence[Condition], *, whole: bool, maximum: Decimal | None) -> bool:
    """Whether the conditions' ranges have no number (whole number for `whole`) in common.

    Every number fact is at least 0 (the registry refuses negative values) and at most its `maximum`
    (the largest value anyone can declare), so `lt 0` alone cannot hold either.
    """
    low: tuple[Decimal, bool] | None = (Decimal(0), True)  # (bound, inclusive)
    high: tuple[Decimal, bool] | None = None if maximum is None else (maximum, True)

    def raise_low(bound: Decimal, inclusive: bool) -> None:
        nonlocal low
        if low is None or bound > low[0] or (bound == low[0] and not inclusive):
            low = (bound, inclusive)

    def lower_high(bound: Decimal, inclusive: bool) -> None:
        nonlocal high
        if high is None or bound < high[0] or (bound == high[0] and not inclusive):
            high = (bound, inclusive)

    for condition in conditions:
        if condition.op == "between":
            bounds = [_number(v) for v in condition.value]
            if len(bounds) != 2 or bounds[0] is None or bounds[1] is None:
                return False
            raise_low(bounds[0], True)
            lower_high(bounds[1], True)
            continue
        value = _number(condition.value)
        if value is None:
            return False
        if condition.op in ("gte", "gt"):
            raise_low(value, condition.op == "gte")
        elif condition.op in ("lte", "lt"):
            lower_high(value, condition.op == "lte")
        elif condition.op == "eq":
            raise_low(value, True)
            lower_high(value, True)
        else:
            return False  # an operator this check does not read: assume it can hold
    if low is None or high is None:
        return False
    if whole:
        # The smallest and largest whole numbers inside each bound.
        least = low[0].to_integral_value(rounding="ROUND_CEILING")
        if least == low[0] and not low[1]:
            least += 1
        most = high[0].to_integral_value(rounding="ROUND_FLOOR")
        if most == high[0] and not high[1]:
            most -= 1
        return least > most
    if low[0] != high[0]:
        return low[0] > high[0]
    return not (low[1] and high[1])


def _universe(spec: FactSpec) -> set[Any] | None:
    """Every value a single-valued fact can take, when the registry closes the list."""
    if spec.type == ValueType.BOOLEAN:
        return {True, False}
    return set(spec.choices) or None


def _codes_empty(conditions: Sequence[Condition], *, universe: set[Any] | None) -> bool:
    """Whether a single-valued fact's `eq` / `in` / `not_in` conditions leave no value possible."""
    allowed: set[Any] | None = universe
    excluded: set[Any] = set()
    for condition in conditions:
        values = set(condition.value) if isinstance(condition.value, tuple) else {condition.value}
        if condition.op in ("eq", "in"):
            allowed = values if allowed is None else allowed & values
        elif condition.op == "not_in":
            excluded |= values
        else:
            return False
    return allowed is not None and not (allowed - excluded)


def _divisions(code: str) -> tuple[str, ...]:
    return section_divisions(code) if code in SECTION_DIVISIONS else (code,)


def _industries_empty(conditions: Sequence[Condition]) -> bool:
    """Whether industry conditions (`under` / `in`, codes of any level) have no industry in common.

    Two codes share an industry when one is the other or lies under it. `not_in` is not read (an
    exclusion narrows but rarely empties; the preview's count shows it).
    """
    groups: list[tuple[str, ...]] = []
    for condition in conditions:
        if condition.op not in ("under", "in"):
            continue
        codes = condition.value if isinstance(condition.value, tuple) else (condition.value,)
        groups.append(tuple(division for code in codes for division in _divisions(str(code))))
    if len(groups) < 2:
        return False
    common = groups[0]
    for group in groups[1:]:
        common = tuple(
            longer
            for a in common
            for b in group
            for longer in ((a if len(a) >= len(b) else b),)
            if a.startswith(b) or b.startswith(a)
        )
        if not common:
            return True
    return False
