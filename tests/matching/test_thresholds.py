"""Thresholds against the evaluator: moving the fact to the computed value (or the date to the computed
day) changes the outcome's status; anything short of it does not; no threshold means no change at all.

The rules and profiles are the evaluator property test's (tests/matching/strategies.py); the size
derivation here is a toy one (micro < 10 ≤ small < 100 ≤ medium < 1000 ≤ large employees), told to
the core the way portal.enterprises tells it the 2017 table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.core.evaluator import Status, compile_rule
from matching.core.profile import EnterpriseProfile, Fact, QualificationRecord
from matching.core.registry import FACTS
from matching.core.thresholds import (
    DOWN,
    UP,
    DateThreshold,
    Derivation,
    anniversary,
    date_text,
    date_threshold,
    group_thresholds,
    number_text,
    number_thresholds,
)
from tests.matching.strategies import FACT_CONDITIONS, ON, RULES, profiles

TOY_BOUNDS = (10, 100, 1000)
TOY_TIERS = ("micro", "small", "medium", "large")


def _toy_size(facts: Mapping[str, Fact]) -> Fact | None:
    employees = facts.get("employees")
    if employees is None or employees.value is None:
        return None
    tier = sum(employees.value >= b for b in TOY_BOUNDS)
    return Fact(TOY_TIERS[tier], employees.source, employees.as_of)


TOY = Derivation(
    key="size",
    inputs=frozenset({"employees"}),
    derive=_toy_size,
    breaks=lambda facts, key: TOY_BOUNDS,
    labels={"micro": "微型", "small": "小型", "medium": "中型", "large": "大型"},
)


def _with(profile: EnterpriseProfile, key: str, value: Any, *, derive: bool) -> EnterpriseProfile:
    facts = dict(profile.facts)
    facts[key] = Fact(value, facts[key].source, facts[key].as_of)
    if derive and key == "employees":
        size = _toy_size(facts)
        if size is None:
            facts.pop("size", None)
        else:
            facts["size"] = size
    return replace(profile, facts=facts)


def _derived(profile: EnterpriseProfile) -> EnterpriseProfile:
    """The profile with its size derived from employees (as the register derives it)."""
    facts = {k: v for k, v in profile.facts.items() if k != "size"}
    size = _toy_size(facts)
    if size is not None:
        facts["size"] = size
    return replace(profile, facts=facts)


def _step(fact: str) -> Any:
    return 1 if FACTS[fact].type == "integer" else Decimal("0.01")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule=RULES, profile=profiles(), on=ON, derive=st.booleans(), data=st.data())
def test_number_thresholds_flip_exactly_there(
    rule: dict[str, Any], profile: EnterpriseProfile, on: date, derive: bool, data: st.DataObject
) -> None:
    compiled = compile_rule(rule)
    if derive:
        profile = _derived(profile)
    status = compiled.evaluate(profile, on=on).status
    found = number_thresholds(compiled, profile, on=on, derivations=(TOY,) if derive else ())
    by_key = {(t.fact, t.direction): t for t in found}
    assert len(by_key) == len(found)  # at most one per fact and direction
    for t in found:
        key = FACTS[t.fact].profile_key
        step = _step(t.fact)
        assert t.before == status
        # At the threshold the status differs, and is the one reported.
        moved = compiled.evaluate(_with(profile, key, t.value, derive=derive), on=on).status
        assert moved != status
        assert moved == t.after
        # Just short of it, and anywhere between, it does not.
        sign = 1 if t.direction == UP else -1
        assert (t.value - t.current) * sign > 0
        steps = int((t.value - t.current) * sign / step)
        if steps > 1:
            for k in {1, steps - 1, data.draw(st.integers(1, steps - 1))}:
                short = t.current + sign * k * step
                assert compiled.evaluate(_with(profile, key, short, derive=derive), on=on).status == status
    # No threshold in a direction: nothing that way changes the status (checked at the rules' bounds
    # and far past them).
    for spec in FACTS.values():
        fact = profile.fact(spec.profile_key) if spec.profile_key else None
        if spec.profile_key in ("established_on", "size") or fact is None or isinstance(fact.value, str | bool):
            continue
        for direction in (UP, DOWN):
            if (spec.name, direction) in by_key:
                continue
            current = fact.value
            if isinstance(current, float):
                current = Decimal(repr(current))
            probes = [Decimal("0.01") * n for n in (1, 999, 1000, 1001, 9999, 10000, 10001, 200050, 1000000)]
            for probe in probes:
                target = current + probe if direction == UP else current - probe
                if target < 0:
                    continue
                if spec.type == "integer":
                    if target != int(target):
                        continue
                    target = int(target)
                moved = compiled.evaluate(_with(profile, spec.profile_key, target, derive=derive), on=on).status
                assert moved == status, (spec.name, direction, target)


# Rules that lean on dates (成立年限, qualifications), so that most examples have a date that matters.
_DATED = st.one_of(FACT_CONDITIONS["age_years"], FACT_CONDITIONS["qualification"])
DATED_RULES = st.one_of(
    RULES,
    st.builds(
        lambda group, xs: {group: xs},
        st.sampled_from(["all", "any"]),
        st.lists(st.one_of(_DATED, st.builds(lambda x: {"not": x}, _DATED)), min_size=1, max_size=4),
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule=DATED_RULES, profile=profiles(), on=ON, data=st.data())
def test_date_threshold_is_the_first_day_that_changes(
    rule: dict[str, Any], profile: EnterpriseProfile, on: date, data: st.DataObject
) -> None:
    compiled = compile_rule(rule)
    until = on + timedelta(days=3 * 366)
    status = compiled.evaluate(profile, on=on).status
    found = date_threshold(compiled, profile, on=on, until=until)
    if found is None:
        days = {until, on + timedelta(days=1), on + timedelta(days=data.draw(st.integers(1, (until - on).days)))}
        for day in days:
            assert compiled.evaluate(profile, on=day).status == status
        return
    assert on < found.on <= until
    assert found.before == status
    assert compiled.evaluate(profile, on=found.on).status == found.after != status
    span = (found.on - on).days
    for k in {1, span - 1, data.draw(st.integers(1, max(1, span - 1)))}:
        if 0 < k < span:
            assert compiled.evaluate(profile, on=on + timedelta(days=k)).status == status


def test_employees_near_the_small_bound_says_so() -> None:
    """The issue's example: 6 more staff and the enterprise is no longer 小型, and the policy for small
    enterprises no longer fits."""
    rule = {
        "all": [
            {"fact": "size", "op": "in", "value": ["small", "micro"]},
            {"fact": "employees", "op": "gte", "value": 20},
        ]
    }
    profile = _derived(EnterpriseProfile("x", facts={"employees": Fact(94, "statistics", date(2025, 1, 1))}))
    compiled = compile_rule(rule)
    found = {
        (t.fact, t.direction): t for t in number_thresholds(compiled, profile, on=date(2026, 1, 1), derivations=(TOY,))
    }
    up = found[("employees", UP)]
    assert (up.value, up.delta, up.before, up.after) == (100, 6, Status.ELIGIBLE, Status.INELIGIBLE)
    assert up.derived == ("size", "小型", "中型")
    assert number_text(up) == "从业人员再增加6人（达到100人），企业规模将由小型变为中型"
    down = found[("employees", DOWN)]
    assert (down.value, down.delta) == (19, 75)


def test_age_and_expiry_dates() -> None:
    rule = {
        "all": [
            {"fact": "age_years", "op": "lt", "value": 5},
            {"fact": "qualification", "op": "has", "value": "high_tech"},
        ]
    }
    facts = {"established_on": Fact(date(2022, 3, 1), "market_regulation")}
    quals = (QualificationRecord("high_tech", date(2024, 2, 1), date(2027, 1, 31), "science_tech"),)
    compiled = compile_rule(rule)
    profile = EnterpriseProfile("x", facts=facts, qualifications=quals)
    today = date(2026, 12, 7)
    found = date_threshold(compiled, profile, on=today, until=date(2030, 1, 1))
    assert isinstance(found, DateThreshold)
    assert found.on == date(2027, 2, 1) and found.last_day == date(2027, 1, 31)
    assert date_text(found) == "高新技术企业资质将于2027-01-31到期"
    later = EnterpriseProfile("x", facts=facts, qualifications=(replace(quals[0], valid_to=None),))
    found = date_threshold(compiled, later, on=today, until=date(2030, 1, 1))
    assert found is not None and found.on == date(2027, 3, 1)
    assert date_text(found) == "成立满5年（2027-03-01起）"
    assert date_threshold(compiled, later, on=today, until=date(2027, 2, 28)) is None


def test_anniversary_of_29_february() -> None:
    assert anniversary(date(2020, 2, 29), 1) == date(2021, 3, 1)
    assert anniversary(date(2020, 2, 29), 4) == date(2024, 2, 29)


def test_grouping_by_fact_direction_and_value() -> None:
    facts = {"employees": Fact(94, "statistics")}
    profile = _derived(EnterpriseProfile("x", facts=facts))
    small = compile_rule({"fact": "size", "op": "in", "value": ["small"]})
    staff = compile_rule({"fact": "employees", "op": "lt", "value": 100})
    other = compile_rule({"fact": "employees", "op": "lte", "value": 150})
    on = date(2026, 1, 1)
    pairs = [
        (name, t)
        for name, compiled in (("a", small), ("b", staff), ("c", other))
        for t in number_thresholds(compiled, profile, on=on, derivations=(TOY,))
    ]
    warnings = group_thresholds(pairs)
    first = warnings[0]
    assert first.key == ("number", "employees", UP, 100)
    assert [p for p, _, _ in first.policies] == ["a", "b"]
    assert first.losses == 2
