"""The typed rule tree: `parse_rule` builds it (or refuses the JSON with the validation errors), `to_raw`
gives the JSON back, and the walkers read the tree the same way they read the JSON."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from matching.core.describe import describe_rule
from matching.core.evaluator import compile_rule
from matching.core.registry import FACTS, UNKNOWN
from matching.core.rules import (
    MAX_DEPTH,
    MAX_ERRORS,
    MAX_NODES,
    RuleError,
    as_tree,
    iter_conditions,
    parse_rule,
    parse_rule_keyed,
)
from matching.core.sql import Tables, compile_rule_sql
from matching.core.tree import (
    AllOf,
    AnyOf,
    Attestation,
    Condition,
    Judgement,
    Leaf,
    Not,
    iter_leaves,
    three_valued,
    to_raw,
)
from tests.matching.strategies import ON, RULES, profiles
from tests.matching.support import cond

EMPLOYEES = cond("employees", "gte", 10)

# One rule per kind of node and per kind of value.
ROUND_TRIPS: list[dict[str, Any]] = [
    {"all": [EMPLOYEES, cond("size", "in", ["small", "micro"])]},
    {"any": [EMPLOYEES, {"all": [cond("dishonest", "eq", False)]}]},
    {"not": {"not": EMPLOYEES}},
    cond("industry", "under", ["C", "65", "652", "6520"]),
    cond("size", "not_in", ["large"]),
    cond("employees", "between", [10, 100]),
    cond("employees", "gte", 100.0),  # an integral JSON number stays as written
    cond("revenue", "gt", 2000.5),
    cond("rd_expense_ratio", "lte", Decimal("3.5")),
    cond("total_assets", "lt", 0),
    cond("age_years", "between", [1, 3]),
    cond("qualification", "has", "high_tech"),
    cond("zone", "in", ["tech_ecology"]),
    cond("park", "in", ["hefeng_park", "taihu_science_city"]),
    cond("tax_credit_rating", "in", ["A", "B"]),
    cond("dishonest", "eq", True),
    cond("above_designated_size", "eq", False),
    cond("foreign_investor_country", "in", ["JP", "XK"]),
    {"attest": "近三年无重大安全生产事故"},
    {"judge": "属于行业领先企业"},
    {"judge": "属于行业领先企业", "department": "工业和信息化局"},
]


@pytest.mark.parametrize("raw", ROUND_TRIPS)
def test_round_trip_raw_tree_raw(raw: dict[str, Any]) -> None:
    tree = parse_rule(raw)

    assert to_raw(tree) == raw
    assert json.dumps(to_raw(tree), sort_keys=True, default=str) == json.dumps(raw, sort_keys=True, default=str)
    assert parse_rule(to_raw(tree)) == tree
    assert compile_rule(raw).rule == raw


def test_the_nodes_are_typed_and_carry_the_fact_definition() -> None:
    tree = parse_rule(
        {
            "all": [
                cond("industry", "under", ["65"]),
                {"any": [{"not": cond("dishonest", "eq", True)}, {"attest": "按时纳税"}]},
                {"judge": "属于行业领先企业", "department": "工业和信息化局"},
                {"judge": "项目具有示范带动作用"},
            ]
        }
    )

    assert isinstance(tree, AllOf)
    industry, group, judged, judged_by_default = tree.children
    assert industry == Condition(FACTS["industry"], "under", ("65",))
    assert industry.spec is FACTS["industry"] and industry.fact == "industry"
    assert industry.raw_value == ["65"]
    assert group == AnyOf((Not(Condition(FACTS["dishonest"], "eq", True)), Attestation("按时纳税")))
    assert judged == Judgement("属于行业领先企业", "工业和信息化局") and judged.judge == "工业和信息化局"
    assert judged_by_default.department == "" and judged_by_default.judge == "主管部门"
    assert [node.kind for node in (tree, group, group.children[0], industry, judged)] == [
        "all",
        "any",
        "not",
        "fact",
        "judge",
    ]


def test_a_tree_is_frozen_and_owes_nothing_to_the_json_it_came_from() -> None:
    raw = {"all": [cond("size", "in", ["small"])]}
    tree = parse_rule(raw)
    raw["all"][0]["value"].append("large")
    raw["all"].append(EMPLOYEES)

    assert to_raw(tree) == {"all": [cond("size", "in", ["small"])]}
    with pytest.raises(dataclasses.FrozenInstanceError):
        tree.children = ()  # type: ignore[misc]
    assert hash(tree) == hash(parse_rule({"all": [cond("size", "in", ["small"])]}))


def test_as_tree_takes_a_tree_as_it_is_and_parses_json() -> None:
    tree = parse_rule(EMPLOYEES)

    assert as_tree(tree) is tree
    assert as_tree(EMPLOYEES) == tree
    with pytest.raises(RuleError):
        as_tree({"all": []})


def test_a_keyed_parse_is_remembered_until_the_key_changes() -> None:
    first = parse_rule_keyed(("test", 1, "v1"), EMPLOYEES)

    assert parse_rule_keyed(("test", 1, "v1"), {"all": [EMPLOYEES]}) is first  # the caller's key decides
    assert parse_rule_keyed(("test", 1, "v2"), {"all": [EMPLOYEES]}) == AllOf((first,))
    for _ in range(2):  # a rule that does not parse is refused every time, never remembered
        with pytest.raises(RuleError):
            parse_rule_keyed(("test", 2, "v1"), {"all": []})


def nested_nots(depth: int) -> dict[str, Any]:
    rule: dict[str, Any] = EMPLOYEES
    for _ in range(depth - 1):
        rule = {"not": rule}
    return rule


# Each error code parsing gives, with the path it names: the codes validation has always given.
@pytest.mark.parametrize(
    ("raw", "path", "code"),
    [
        ({"all": [EMPLOYEES, 5]}, "all[1]", "malformed_node"),
        ({"any": []}, "any", "empty_group"),
        ({"not": cond("nope", "eq", 1)}, "not.fact", "unknown_fact"),
        (cond("zone", "not_in", ["tech_ecology"]), "op", "operator_not_allowed"),
        (cond("employees", "gte", -1), "value", "invalid_value"),
        (cond("size", "in", ["small", "huge"]), "value[1]", "unknown_code"),
        (nested_nots(MAX_DEPTH + 1), ".".join(["not"] * MAX_DEPTH), "too_deep"),
        ({"all": [EMPLOYEES] * MAX_NODES}, f"all[{MAX_NODES - 1}]", "too_large"),
        ({"attest": "承诺按时纳税"}, "attest", "invalid_wording"),
        ({"judge": "属于行业领先企业", "department": " "}, "department", "invalid_wording"),
        ({"not": {"attest": "按时纳税"}}, "not", "pending_under_not"),
    ],
)
def test_each_error_code(raw: Any, path: str, code: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule(raw)

    assert (caught.value.path, caught.value.code) == (path, code)
    assert [(e.path, e.code) for e in caught.value.errors] == [(path, code)]


def test_a_rule_with_more_problems_than_are_reported_still_builds_no_tree() -> None:
    raw = {"all": [{"attest": ""} for _ in range(MAX_ERRORS)] + [{"judge": "认定事项", "department": ""}]}

    with pytest.raises(RuleError) as caught:
        parse_rule(raw)

    assert len(caught.value.errors) == MAX_ERRORS


def test_iter_leaves_gives_paths_in_document_order_and_negation() -> None:
    tree = parse_rule(
        {
            "all": [
                cond("size", "in", ["small"]),
                {"not": {"any": [cond("dishonest", "eq", True), {"not": cond("employees", "lt", 5)}]}},
                {"attest": "按时纳税"},
            ]
        }
    )

    assert [(path, leaf.kind, negated) for path, leaf, negated in iter_leaves(tree)] == [
        ("all[0]", "fact", False),
        ("all[1].not.any[0]", "fact", True),
        ("all[1].not.any[1].not", "fact", False),
        ("all[2]", "attest", False),
    ]
    # The JSON form for callers that keep conditions as JSON, read from the same tree.
    assert [c for _, c, _ in iter_conditions(tree)] == [
        cond("size", "in", ["small"]),
        cond("dishonest", "eq", True),
        cond("employees", "lt", 5),
        {"attest": "按时纳税"},
    ]


def leaf_value(profile: Any, on: date) -> Any:
    def value(leaf: Leaf) -> int:
        if not isinstance(leaf, Condition):
            return UNKNOWN
        return leaf.spec.checker(leaf.op, leaf.value)(profile, on)[0]

    return value


STATUS_OF_VALUE = {0: "ineligible", 1: "needs_info", 2: "eligible"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule=RULES, profile=profiles(), on=ON)
def test_the_tree_walkers_agree_with_the_json(rule: dict[str, Any], profile: Any, on: date) -> None:
    tree = parse_rule(rule)
    assert to_raw(tree) == rule

    compiled = compile_rule(tree)
    outcome = compiled.evaluate(profile, on=on)
    assert outcome == compile_rule(rule).evaluate(profile, on=on)
    # The shared three-valued logic decides as the compiled evaluator does.
    assert STATUS_OF_VALUE[three_valued(tree, leaf_value(profile, on))] == outcome.status

    assert describe_rule(tree) == describe_rule(rule)
    tables = Tables("p", "q", "s", "t", "z", "sp", "k")
    assert compile_rule_sql(tree, tables=tables, on=on) == compile_rule_sql(rule, tables=tables, on=on)
