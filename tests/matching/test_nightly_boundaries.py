"""The date boundaries of rules and policies (matching.core.dates, matching.core.boundaries): pure, no database.

The property test holds every registry fact to what it declares: for random conditions (every fact and
operator, tests/matching/strategies.FACT_CONDITIONS) and profiles, a condition gives the same result and
verification on two dates with none of its declared boundaries between them. A new fact that reads the
date without declaring where fails here, before a nightly run could miss it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.core.boundaries import (
    POLICY_EFFECTIVE,
    POLICY_WINDOW,
    AnniversaryCrossing,
    PolicyCrossing,
    PolicyDates,
    ValidityCrossing,
    date_crossings,
    rule_boundaries,
)
from matching.core.dates import Anniversary, DateBoundary, Validity, reached_on
from matching.core.profile import EnterpriseProfile, Fact
from matching.core.registry import FACTS, _age_on
from matching.core.rules import parse_rule
from matching.core.tree import Condition
from tests.matching.strategies import FACT_CONDITIONS, profiles

# Around the strategies' establishment dates (29 February, 30 June) and qualification dates (30 June 2025).
DAYS = st.sampled_from(
    [date(2021, 2, 28), date(2024, 2, 28), date(2024, 2, 29), date(2025, 6, 29), date(2025, 6, 30), date(2026, 1, 1)]
)
GAPS = st.sampled_from([0, 1, 2, 30, 183, 184, 185, 365, 366, 800, 1500])


def _crosses(boundary: DateBoundary, profile: EnterpriseProfile, since: date, until: date) -> bool:
    if isinstance(boundary, Anniversary):
        fact = profile.facts.get(boundary.key)
        span = boundary.crossed(since, until)
        if fact is None or not isinstance(fact.value, date) or span is None:
            return False
        after, upto = span
        return (after is None or fact.value > after) and fact.value <= upto
    return any(
        q.kind == boundary.kind
        and (since < q.valid_from <= until or (q.valid_to is not None and since <= q.valid_to < until))
        for q in profile.qualifications
    )


@pytest.mark.parametrize("fact", sorted(FACT_CONDITIONS))
@settings(max_examples=80, deadline=None)
@given(data=st.data(), profile=profiles(), since=DAYS, gap=GAPS)
def test_a_condition_changes_with_the_date_only_at_a_declared_boundary(
    fact: str, data: st.DataObject, profile: EnterpriseProfile, since: date, gap: int
) -> None:
    condition = data.draw(FACT_CONDITIONS[fact])
    until = since + timedelta(days=gap)
    spec = FACTS[condition["fact"]]
    leaf = parse_rule(condition)
    assert isinstance(leaf, Condition)
    boundaries = spec.date_boundaries(leaf.op, leaf.value)
    check = spec.checker(leaf.op, leaf.value)
    before, after = check(profile, since), check(profile, until)
    moved = (before[0], spec.is_verified(before[1])) != (after[0], spec.is_verified(after[1]))
    if moved:
        assert any(_crosses(b, profile, since, until) for b in boundaries), (condition, profile, since, until)


@settings(max_examples=300, deadline=None)
@given(established=DAYS, since=DAYS, gap=GAPS, years=st.integers(0, 6))
def test_an_anniversary_span_holds_exactly_the_dates_that_reached_the_age(
    established: date, since: date, gap: int, years: int
) -> None:
    until = since + timedelta(days=gap)
    span = Anniversary("established_on", years).crossed(since, until)
    reached = _age_on(established, since) < years <= _age_on(established, until)
    inside = span is not None and (span[0] is None or established > span[0]) and established <= span[1]
    assert inside == reached


def test_every_age_condition_changes_only_at_its_declared_anniversaries() -> None:
    """Exhaustive over operators, ages 0–6, establishment dates (29 February included) and day pairs."""
    spec = FACTS["age_years"]
    born = [date(2020, 2, 29), date(2021, 3, 1), date(2019, 12, 31), date(2022, 6, 30)]
    days = [date(2023, 1, 1) + timedelta(days=7 * n) for n in range(300)]
    for op in spec.operators:
        for k in range(7):
            value = [k, k + 1] if op == "between" else k
            check = spec.checker(op, value)
            boundaries = spec.date_boundaries(op, value)
            for established in born:
                profile = EnterpriseProfile(
                    credit_code="x", facts={"established_on": Fact(established, "market_regulation", None)}
                )
                for since in days:
                    for gap in (1, 2, 7, 365):
                        until = since + timedelta(days=gap)
                        if check(profile, since)[0] != check(profile, until)[0]:
                            assert any(_crosses(b, profile, since, until) for b in boundaries), (op, k, established)


def test_29_february_turns_a_year_older_on_1_march() -> None:
    born = date(2020, 2, 29)
    assert reached_on(date(2021, 2, 28), 1) == date(2020, 2, 28) < born
    assert reached_on(date(2021, 3, 1), 1) == date(2020, 3, 1) >= born
    assert Anniversary("established_on", 1).crossed(date(2021, 2, 28), date(2021, 3, 1)) == (
        date(2020, 2, 28),
        date(2020, 3, 1),
    )
    assert Anniversary("established_on", 1).crossed(date(2021, 3, 1), date(2021, 3, 1)) is None


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"fact": "age_years", "op": "gte", "value": 3}, {Anniversary("established_on", 3)}),
        ({"fact": "age_years", "op": "lt", "value": 3}, {Anniversary("established_on", 3)}),
        ({"fact": "age_years", "op": "gt", "value": 3}, {Anniversary("established_on", 4)}),
        ({"fact": "age_years", "op": "lte", "value": 3}, {Anniversary("established_on", 4)}),
        (
            {"fact": "age_years", "op": "between", "value": [3, 5]},
            {Anniversary("established_on", 3), Anniversary("established_on", 6)},
        ),
        ({"fact": "qualification", "op": "has", "value": "high_tech"}, {Validity("high_tech")}),
        ({"fact": "employees", "op": "gte", "value": 10}, set()),
        ({"attest": "近三年无重大安全生产事故"}, set()),
    ],
)
def test_rule_boundaries_come_from_the_conditions(condition: dict[str, Any], expected: set[DateBoundary]) -> None:
    assert (
        rule_boundaries(parse_rule({"all": [condition, {"not": {"fact": "dishonest", "op": "eq", "value": True}}]}))
        == expected
    )


AGE_AND_HIGH_TECH = parse_rule(
    {
        "all": [
            {"fact": "qualification", "op": "has", "value": "high_tech"},
            {"any": [{"fact": "age_years", "op": "lte", "value": 5}, {"fact": "employees", "op": "gte", "value": 10}]},
        ]
    }
)
NO_DATES = parse_rule({"fact": "employees", "op": "gte", "value": 10})
ALWAYS = PolicyDates(date(2020, 1, 1))


def test_date_crossings_name_the_versions_of_each_boundary() -> None:
    since, until = date(2026, 12, 6), date(2026, 12, 7)
    found = date_crossings(
        rules={1: AGE_AND_HIGH_TECH, 2: NO_DATES, 3: AGE_AND_HIGH_TECH},
        periods={1: ALWAYS, 2: ALWAYS, 3: ALWAYS},
        since=since,
        until=until,
    )
    assert found.anniversaries == (
        AnniversaryCrossing("established_on", 6, date(2020, 12, 6), date(2020, 12, 7), frozenset({1, 3})),
    )
    assert found.validities == (ValidityCrossing("high_tech", since, until, frozenset({1, 3})),)
    assert found.policies == () and found.unknown == ()

    # The same day again: nothing crossed.
    again = date_crossings(rules={1: AGE_AND_HIGH_TECH}, periods={1: ALWAYS}, since=until, until=until)
    assert again.anniversaries == () and again.validities == ()


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (PolicyDates(date(2026, 12, 7)), PolicyCrossing(1, POLICY_EFFECTIVE, date(2026, 12, 7))),  # 生效 today
        (PolicyDates(date(2026, 12, 6)), None),  # in effect on both days
        (PolicyDates(date(2020, 1, 1), date(2026, 12, 6)), PolicyCrossing(1, POLICY_EFFECTIVE, date(2026, 12, 6))),
        (PolicyDates(date(2020, 1, 1), date(2026, 12, 7)), None),  # its last day is today
        (
            PolicyDates(date(2020, 1, 1), application_start=date(2026, 12, 7)),
            PolicyCrossing(1, POLICY_WINDOW, date(2026, 12, 7)),
        ),
        (
            PolicyDates(date(2020, 1, 1), application_start=date(2026, 1, 1), application_end=date(2026, 12, 6)),
            PolicyCrossing(1, POLICY_WINDOW, date(2026, 12, 6)),
        ),
    ],
)
def test_a_policy_date_in_between_is_named(dates: PolicyDates, expected: Any) -> None:
    found = date_crossings(
        rules={1: AGE_AND_HIGH_TECH}, periods={1: dates}, since=date(2026, 12, 6), until=date(2026, 12, 7)
    )
    assert found.policies == ((expected,) if expected else ())
    if expected is not None and expected.reason == POLICY_EFFECTIVE:  # re-decided whole: no enterprise crossing
        assert found.anniversaries == () and found.validities == ()
        assert found.whole_versions == {1}
    elif expected is not None:  # a window decides nothing: reported, and the enterprises' crossings stand
        assert found.whole_versions == frozenset()
        assert [c.versions for c in found.anniversaries] == [frozenset({1})]
        assert [c.versions for c in found.validities] == [frozenset({1})]


def test_a_version_out_of_effect_on_both_days_has_no_crossing() -> None:
    found = date_crossings(
        rules={1: AGE_AND_HIGH_TECH},
        periods={1: PolicyDates(date(2020, 1, 1), date(2021, 1, 1))},
        since=date(2026, 12, 6),
        until=date(2026, 12, 7),
    )
    assert found == type(found)()


def test_until_before_since_is_refused() -> None:
    with pytest.raises(ValueError, match="before"):
        date_crossings(rules={}, periods={}, since=date(2026, 12, 7), until=date(2026, 12, 6))
