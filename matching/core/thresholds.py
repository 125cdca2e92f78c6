"""Thresholds: the nearest figure or date at which a rule's outcome for one enterprise would change.

Computed from the parsed rule and the enterprise's facts, never invented: for each number the rule
tests (directly, or through a derived fact such as size, see `Derivation`) and each date that moves
a condition (an anniversary of establishment for 成立年限, a qualification's expiry or start), the
outcome as a function of that one value is piecewise constant, changing only where a condition's
comparison changes. So the first register value past each such point is a candidate, the candidates
are evaluated in order of distance with the real evaluator, and the first whose status differs is
the threshold: short of it the outcome stands (nothing between two candidates can change it).

Numbers move on the register's grid: whole units for integer facts, the column's decimal places
(Stored.places, 0.01 万元 for amounts) for the others. Dates move one day at a time; the evaluation
date is the only thing that changes, so age and qualification validity move together, as they would.

`group_thresholds` gathers one enterprise's thresholds over many policies by fact, direction and
value, for warnings such as “从业人员再增加6人将不再属于小型企业，影响以下3项政策”.
Pure Python, no Django imports.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from .evaluator import CompiledRule, Status
from .profile import EnterpriseProfile, Fact
from .registry import FACTS, AgeFact, FactSpec, NumberFact, ValueType, format_number
from .tree import Condition, Node, iter_leaves

Number = int | Decimal
UP, DOWN = "up", "down"


@dataclass(frozen=True, slots=True)
class Derivation:
    """A fact derived from others (size from industry and indicators), told to the core by its owner.

    `derive(facts)` recomputes the derived fact from the scalar facts (None: unknown);
    `breaks(facts, key)` gives the values of input `key` at which the derived value may change, each
    meaning “x ≥ b differs from x < b” (the 2017 size table's lower bounds)."""

    key: str  # the profile key it derives
    inputs: frozenset[str]  # the profile keys it reads
    derive: Callable[[Mapping[str, Fact]], Fact | None]
    breaks: Callable[[Mapping[str, Fact], str], Iterable[Number]]
    labels: Mapping[Any, str] = field(default_factory=dict)  # value → how to name it (小型)


@dataclass(frozen=True, slots=True)
class NumberThreshold:
    fact: str  # registry name of the fact that moves (employees)
    direction: str  # UP or DOWN
    current: Number
    value: Number  # the nearest register value at which the status differs
    before: Status
    after: Status
    # A derived fact that changes on the way, with its values now and at `value`: ("size", "小型", "中型").
    derived: tuple[str, str, str] | None = None

    @property
    def delta(self) -> Number:
        difference: Number = self.value - self.current
        return -difference if difference < 0 else difference

    @property
    def spec(self) -> FactSpec:
        return FACTS[self.fact]


@dataclass(frozen=True, slots=True)
class DateThreshold:
    on: date  # the first day on which the status differs
    before: Status
    after: Status
    # What moves on that day: ("age_years", "5") an anniversary (years reached), ("qualification",
    # "high_tech:end") a qualification's last valid day passed, ("qualification", "high_tech:start") one begins.
    causes: tuple[tuple[str, str], ...]
    last_day: date | None = None  # for an expiry: the qualification's last valid day


Threshold = NumberThreshold | DateThreshold


def _step(spec: FactSpec) -> Number:
    if spec.type is ValueType.INTEGER:
        return 1
    places = spec.stored.places if spec.stored is not None and spec.stored.places else 2
    return Decimal(1).scaleb(-places)


def _as_number(value: Any) -> Number | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return Decimal(repr(value))
    return None


def _breaks_of(condition: Condition) -> list[tuple[Number, bool]]:
    """(b, at) for each point where the condition's result changes: at=True “x ≥ b differs from x < b”,
    at=False “x > b differs from x ≤ b”."""
    op, value = condition.op, condition.value
    if op == "between":
        return [(_num(value[0]), True), (_num(value[1]), False)]
    if op in ("gte", "lt"):
        return [(_num(value), True)]
    return [(_num(value), False)]  # gt, lte


def _num(value: Any) -> Number:
    number = _as_number(value)
    if number is None:  # validated rules only hold numbers here
        raise TypeError(f"not a number: {value!r}")
    return number


def _grid_points(b: Number, at: bool, step: Number) -> tuple[Number, Number]:
    """(the first grid value on the upper side, the last on the lower side) of a break."""
    units = Decimal(b) / Decimal(step)
    if at:  # the upper side starts at the first grid value ≥ b
        upper = Decimal(math.ceil(units)) * Decimal(step)
        lower = upper - Decimal(step)
    else:  # the upper side starts above b
        lower = Decimal(math.floor(units)) * Decimal(step)
        upper = lower + Decimal(step)
    if isinstance(step, int):
        return int(upper), int(lower)
    return upper, lower


def _facts_with(
    profile: EnterpriseProfile, key: str, value: Number, derivations: Sequence[Derivation]
) -> EnterpriseProfile:
    facts = dict(profile.facts)
    old = facts[key]
    facts[key] = Fact(value, old.source, old.as_of)
    for derivation in derivations:
        if key in derivation.inputs:
            derived = derivation.derive(facts)
            if derived is None:
                facts.pop(derivation.key, None)
            else:
                facts[derivation.key] = derived
    return replace(profile, facts=facts)


def _conditions(tree: Node) -> list[Condition]:
    return [leaf for _, leaf, _ in iter_leaves(tree) if isinstance(leaf, Condition)]


def number_thresholds(
    compiled: CompiledRule,
    profile: EnterpriseProfile,
    *,
    on: date,
    derivations: Sequence[Derivation] = (),
) -> list[NumberThreshold]:
    """For each number the rule depends on whose value is known, the nearest value above and below at
    which the outcome's status differs (none in a direction where it never does)."""
    conditions = _conditions(compiled.tree)
    tested = {c.spec.profile_key for c in conditions if c.spec.profile_key}
    current_status = compiled.evaluate(profile, on=on).status
    found: list[NumberThreshold] = []
    for spec in FACTS.values():
        if not isinstance(spec, NumberFact) or isinstance(spec, AgeFact):
            continue
        key = spec.profile_key
        fact = profile.fact(key)
        current = _as_number(fact.value) if fact is not None else None
        if current is None:
            continue
        breaks = [b for c in conditions if c.spec is spec for b in _breaks_of(c)]
        used = [d for d in derivations if key in d.inputs and d.key in tested]
        for derivation in used:
            breaks += [(_num(b), True) for b in derivation.breaks(profile.facts, key)]
        if not breaks:
            continue
        step = _step(spec)
        ups: set[Number] = set()
        downs: set[Number] = set()
        for b, at in breaks:
            upper, lower = _grid_points(b, at, step)
            if upper > current:
                ups.add(upper)
            if 0 <= lower < current:
                downs.add(lower)
        maximum = spec.maximum
        for direction, candidates in ((UP, sorted(ups)), (DOWN, sorted(downs, reverse=True))):
            for x in candidates:
                if maximum is not None and x > maximum:
                    break
                moved = _facts_with(profile, key, x, used)
                status = compiled.evaluate(moved, on=on).status
                if status != current_status:
                    found.append(
                        NumberThreshold(
                            fact=spec.name,
                            direction=direction,
                            current=current,
                            value=x,
                            before=current_status,
                            after=status,
                            derived=_derived_change(profile, moved, used),
                        )
                    )
                    break
    return found


def _derived_change(
    profile: EnterpriseProfile, moved: EnterpriseProfile, derivations: Sequence[Derivation]
) -> tuple[str, str, str] | None:
    for derivation in derivations:
        before, after = profile.fact(derivation.key), moved.fact(derivation.key)
        old = before.value if before is not None else None
        new = after.value if after is not None else None
        if old != new:
            return (derivation.key, derivation.labels.get(old, str(old)), derivation.labels.get(new, str(new)))
    return None


def anniversary(established: date, years: int) -> date:
    """The first day on which an enterprise established on `established` is `years` years old (a
    29 February establishment completes its year on 1 March in non-leap years, as registry._age_on)."""
    try:
        return established.replace(year=established.year + years)
    except ValueError:
        return date(established.year + years, 3, 1)


def date_threshold(
    compiled: CompiledRule, profile: EnterpriseProfile, *, on: date, until: date
) -> DateThreshold | None:
    """The first day after `on`, up to `until`, on which the status differs from today's, or None."""
    causes: dict[date, list[tuple[str, str]]] = {}
    conditions = _conditions(compiled.tree)
    established = profile.fact("established_on")
    if established is not None and isinstance(established.value, date):
        ages: set[int] = set()
        for c in conditions:
            if isinstance(c.spec, AgeFact):
                for b, at in _breaks_of(c):
                    upper, _ = _grid_points(b, at, 1)
                    ages.add(int(upper))
        for years in ages:
            if years <= 0:
                continue
            day = anniversary(established.value, years)
            if on < day <= until:
                causes.setdefault(day, []).append(("age_years", str(years)))
    kinds = {c.value for c in conditions if c.spec.name == "qualification"}
    last_days: dict[date, date] = {}
    for q in profile.qualifications:
        if q.kind not in kinds:
            continue
        if q.valid_to is not None and on <= q.valid_to < until:
            day = q.valid_to + timedelta(days=1)
            causes.setdefault(day, []).append(("qualification", f"{q.kind}:end"))
            last_days[day] = q.valid_to
        if on < q.valid_from <= until:
            causes.setdefault(q.valid_from, []).append(("qualification", f"{q.kind}:start"))
    if not causes:
        return None
    current_status = compiled.evaluate(profile, on=on).status
    for day in sorted(causes):
        status = compiled.evaluate(profile, on=day).status
        if status != current_status:
            return DateThreshold(
                on=day,
                before=current_status,
                after=status,
                causes=tuple(dict.fromkeys(causes[day])),
                last_day=last_days.get(day),
            )
    return None


# --- grouping and wording --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Warning:
    """One threshold shared by several policies: the text, and each policy with its status change."""

    key: tuple[Hashable, ...]  # (fact, direction, value) or ("date", day, causes)
    text: str
    policies: tuple[tuple[Hashable, Status, Status], ...]  # (policy reference, before, after)
    threshold: Threshold
    on: date | None = None  # date thresholds: the day it happens

    @property
    def losses(self) -> int:
        return sum(before == Status.ELIGIBLE for _, before, _ in self.policies)


def _amount(spec: FactSpec, value: Number) -> str:
    return f"{format_number(value)}{spec.unit}"


def number_text(t: NumberThreshold) -> str:
    """从业人员再增加6人（达到306人）将不再属于小型企业（变为中型）."""
    spec = t.spec
    verb = "再增加" if t.direction == UP else "再减少"
    reach = "达到" if t.direction == UP else "降至"
    text = f"{spec.label}{verb}{_amount(spec, t.delta)}（{reach}{_amount(spec, t.value)}）"
    if t.derived is not None:
        key, old, new = t.derived
        name = FACTS[key].label if key in FACTS else key
        text += f"，{name}将由{old}变为{new}"
    return text


def date_text(t: DateThreshold, *, qualification_names: Mapping[str, str] | None = None) -> str:
    """成立满5年（2027-03-01起）/ 高新技术企业资质将于2027-01-31到期."""
    names = qualification_names if qualification_names is not None else FACTS["qualification"].choices
    parts = []
    for fact, detail in t.causes:
        if fact == "age_years":
            parts.append(f"成立满{detail}年（{t.on.isoformat()}起）")
        else:
            kind, edge = detail.rsplit(":", 1)
            name = names.get(kind, kind)
            if edge == "end":
                last = t.last_day or (t.on - timedelta(days=1))
                parts.append(f"{name}资质将于{last.isoformat()}到期")
            else:
                parts.append(f"{name}资质将于{t.on.isoformat()}生效")
    return "；".join(parts)


def group_thresholds(items: Iterable[tuple[Hashable, Threshold]]) -> list[Warning]:
    """Gather (policy, threshold) pairs into warnings: numbers by (fact, direction, value), dates by
    (day, causes); nearest first (dates by day, numbers by relative distance)."""
    groups: dict[tuple[Hashable, ...], list[tuple[Hashable, Threshold]]] = {}
    for policy, threshold in items:
        if isinstance(threshold, NumberThreshold):
            key: tuple[Hashable, ...] = ("number", threshold.fact, threshold.direction, threshold.value)
        else:
            key = ("date", threshold.on, threshold.causes)
        groups.setdefault(key, []).append((policy, threshold))
    warnings = []
    for key, members in groups.items():
        first = members[0][1]
        text = number_text(first) if isinstance(first, NumberThreshold) else date_text(first)
        warnings.append(
            Warning(
                key=key,
                text=text,
                policies=tuple((p, t.before, t.after) for p, t in members),
                threshold=first,
                on=first.on if isinstance(first, DateThreshold) else None,
            )
        )

    def order(w: Warning) -> tuple[int, float]:
        t = w.threshold
        if isinstance(t, DateThreshold):
            return (0, float(t.on.toordinal()))
        base = float(t.current) or 1.0
        return (1, float(t.delta) / abs(base))

    return sorted(warnings, key=order)
