"""Authoring checks without data (matching.core.authoring.contradictions), checked against the evaluator."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from matching.core.authoring import contradictions
from matching.core.evaluator import compile_rule
from matching.core.rules import parse_rule
from tests.matching.support import cond, make_profile

ON = date(2026, 6, 1)
NUMERIC_OPS = ("gte", "gt", "lte", "lt")


def found(rule: dict) -> list:
    return contradictions(parse_rule(rule))


def meetable(rule: dict, candidates: list[dict]) -> bool:
    compiled = compile_rule(rule)
    return any(compiled.evaluate(make_profile(**facts), on=ON).status == "eligible" for facts in candidates)


def test_disjoint_ranges_in_one_all_are_named_with_their_wording() -> None:
    rule = {"all": [cond("employees", "gte", 500), cond("dishonest", "eq", False), cond("employees", "lte", 100)]}
    [contradiction] = found(rule)
    assert contradiction.fact == "employees"
    assert contradiction.paths == ("all[0]", "all[2]")
    assert "500" in contradiction.wordings[0] and "100" in contradiction.wordings[1]
    assert "不可能同时满足" in contradiction.message


def test_ranges_that_meet_or_sit_in_different_branches_are_not_contradictions() -> None:
    assert found({"all": [cond("employees", "gte", 100), cond("employees", "lte", 100)]}) == []
    assert found({"any": [cond("employees", "gte", 500), cond("employees", "lte", 100)]}) == []
    assert found({"all": [cond("employees", "gte", 500), {"not": cond("employees", "gte", 100)}]}) == []


def test_whole_numbers_have_nothing_between_five_and_six() -> None:
    assert len(found({"all": [cond("employees", "gt", 5), cond("employees", "lt", 6)]})) == 1
    assert found({"all": [cond("rd_expense_ratio", "gt", 5), cond("rd_expense_ratio", "lt", 6)]}) == []


def test_nested_all_groups_are_read_as_one_and_groups_under_any_each_on_their_own() -> None:
    rule = {
        "any": [
            {"all": [cond("employees", "gte", 10), {"all": [cond("employees", "lt", 10)]}]},
            {"all": [cond("size", "in", ["small"]), cond("size", "in", ["medium", "large"])]},
            cond("dishonest", "eq", False),
        ]
    }
    assert [(c.path, c.fact) for c in found(rule)] == [("any[0]", "employees"), ("any[1]", "size")]


def test_codes_with_nothing_in_common_and_industries_apart() -> None:
    assert (
        len(found({"all": [cond("tax_credit_rating", "in", ["A"]), cond("tax_credit_rating", "not_in", ["A"])]})) == 1
    )
    assert (
        found({"all": [cond("tax_credit_rating", "in", ["A", "B"]), cond("tax_credit_rating", "not_in", ["A"])]}) == []
    )
    assert len(found({"all": [cond("industry", "under", ["C"]), cond("industry", "under", ["65"])]})) == 1
    assert found({"all": [cond("industry", "under", ["I"]), cond("industry", "under", ["6511"])]}) == []
    # Places are left alone: one licence may run sites in two zones (一照多址).
    assert found({"all": [cond("zone", "in", ["tech_ecology"]), cond("zone", "in", ["suzhou_science_city"])]}) == []


whole = st.integers(min_value=0, max_value=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from((*NUMERIC_OPS, "between")), whole, whole), min_size=2, max_size=4))
def test_a_whole_number_contradiction_is_reported_exactly_when_no_value_meets_the_group(conditions) -> None:
    leaves = [cond("employees", op, sorted([a, b]) if op == "between" else a) for op, a, b in conditions]
    rule = {"all": leaves}
    candidates = [{"employees": n} for n in range(0, 15)]  # employees are never negative
    assert bool(found(rule)) == (not meetable(rule, candidates))


halves = st.integers(min_value=0, max_value=12).map(lambda n: Decimal(n) / 2)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from((*NUMERIC_OPS, "between")), halves, halves), min_size=2, max_size=4))
def test_a_decimal_contradiction_is_reported_exactly_when_no_value_meets_the_group(conditions) -> None:
    leaves = [
        cond("rd_expense_ratio", op, [float(v) for v in sorted([a, b])] if op == "between" else float(a))
        for op, a, b in conditions
    ]
    rule = {"all": leaves}
    # Quarters between the halves: an open range between two halves still holds a quarter.
    candidates = [{"rd_expense_ratio": Decimal(n) / 4} for n in range(0, 28)]
    assert bool(found(rule)) == (not meetable(rule, candidates))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(("in", "not_in")), st.lists(st.sampled_from("ABCDM"), min_size=1, max_size=3)),
        min_size=2,
        max_size=4,
    )
)
def test_a_code_contradiction_is_reported_exactly_when_no_code_meets_the_group(conditions) -> None:
    leaves = [cond("tax_credit_rating", op, sorted(set(codes))) for op, codes in conditions]
    rule = {"all": leaves}
    candidates = [{"tax_credit_rating": code} for code in "ABCDM"]
    assert bool(found(rule)) == (not meetable(rule, candidates))


def test_a_single_range_outside_the_facts_possible_values_is_named() -> None:
    [contradiction] = found({"all": [cond("employees", "lt", 0), cond("dishonest", "eq", False)]})
    assert contradiction.paths == ("all[0]",) and "超出了这项数据可能的取值" in contradiction.message
    assert found({"all": [cond("employees", "lte", 0)]}) == []
