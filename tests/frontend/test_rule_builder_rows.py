"""The rule builder shows a rule's parsed tree as rows, and its rows give the same rule back."""

from __future__ import annotations

from typing import Any

import pytest

from frontend import rule_builder as rb
from matching.core.rules import parse_rule
from tests.matching.support import cond

FLAT_CONDITIONS: list[dict[str, Any]] = [
    cond("industry", "under", ["C", "6520"]),
    cond("size", "not_in", ["large", "medium"]),
    cond("employees", "gte", 50),
    cond("revenue", "between", [1000, 2000.5]),
    cond("age_years", "lte", 5),
    cond("qualification", "has", "high_tech"),
    cond("zone", "in", ["tech_ecology", "business_innovation"]),
    cond("park", "in", ["hefeng_park"]),
    cond("tax_credit_rating", "in", ["A"]),
    cond("dishonest", "eq", False),
    cond("foreign_investor_country", "in", ["JP"]),
    {"attest": "近三年无重大安全生产事故"},
    {"judge": "属于行业领先企业", "department": "区工业和信息化局"},
    {"judge": "项目具有示范带动作用"},
]


@pytest.mark.parametrize("combinator", ["all", "any"])
def test_rows_of_a_flat_rule_give_the_rule_back(combinator: str) -> None:
    rule = {combinator: FLAT_CONDITIONS}

    shown = rb.rows_from_rule(rule)

    assert shown is not None
    assert shown[0] == combinator
    assert [row.fact for row in shown[1]] == [c.get("fact") or next(iter(c)) for c in FLAT_CONDITIONS]
    assert rb.rule_from_rows(*shown) == rule
    assert rb.rows_from_rule(parse_rule(rule)) == shown  # the tree itself, as a compiled rule holds it


def test_a_single_condition_is_one_row_under_all() -> None:
    shown = rb.rows_from_rule(cond("employees", "between", [10, 100]))

    assert shown is not None
    combinator, rows = shown
    assert (combinator, [(r.fact, r.op, r.values) for r in rows]) == ("all", [("employees", "between", ["10,100"])])


@pytest.mark.parametrize(
    "rule",
    [
        {"all": [cond("employees", "gte", 50), {"any": [cond("dishonest", "eq", False)]}]},
        {"not": cond("dishonest", "eq", True)},
        {"all": [{"not": cond("dishonest", "eq", True)}]},
        {"all": [cond("employees", "gte", "many")]},  # does not parse: edited as JSON, where its path is named
        "employees >= 50",
    ],
)
def test_a_rule_the_rows_cannot_show_is_edited_as_json(rule: Any) -> None:
    assert rb.rows_from_rule(rule) is None
