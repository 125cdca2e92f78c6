"""Rule validation: every malformed rule is refused with the exact path, a stable code and a Chinese message."""

from __future__ import annotations

import json
from typing import Any

import pytest

from matching.core.rules import MAX_DEPTH, MAX_NODES, RuleError, iter_conditions, rule_facts, validate_rule
from tests.matching.support import cond

GOOD = cond("employees", "gte", 10)


def problem(rule: Any) -> RuleError:
    with pytest.raises(RuleError) as caught:
        validate_rule(rule)
    return caught.value


@pytest.mark.parametrize(
    ("rule", "path", "code", "says"),
    [
        # node shapes
        (5, "", "malformed_node", "对象"),
        ([GOOD], "", "malformed_node", "对象"),
        ({}, "", "malformed_node", "fact、op、value"),
        ({"all": []}, "all", "empty_group", "至少需要一个条件"),
        ({"any": []}, "any", "empty_group", "至少需要一个条件"),
        ({"any": {"fact": "size"}}, "any", "malformed_node", "列表"),
        ({"all": [GOOD], "any": [GOOD]}, "", "malformed_node", "any"),
        ({"not": [GOOD]}, "not", "malformed_node", "对象"),
        ({"all": [GOOD, "employees >= 10"]}, "all[1]", "malformed_node", "对象"),
        ({"all": [GOOD, {"any": [GOOD, {"all": []}]}]}, "all[1].any[1].all", "empty_group", "all"),
        ({"all": [{**GOOD, "note": "x"}]}, "all[0].note", "malformed_node", "note"),
        ({"fact": "dishonest", "op": "eq"}, "", "malformed_node", "value"),
        ({"fact": 1, "op": "eq", "value": True}, "fact", "malformed_node", "fact"),
        ({"fact": "dishonest", "op": None, "value": True}, "op", "malformed_node", "op"),
        # facts and operators
        ({"all": [GOOD, {"any": [GOOD, cond("nope", "eq", 1)]}]}, "all[1].any[1].fact", "unknown_fact", "nope"),
        (cond("industry", "in", ["65"]), "op", "operator_not_allowed", "under"),
        ({"not": cond("employees", "has", 10)}, "not.op", "operator_not_allowed", "从业人员"),
        (cond("qualification", "eq", "high_tech"), "op", "operator_not_allowed", "has"),
        (cond("zone", "not_in", ["tech_ecology"]), "op", "operator_not_allowed", "in"),
        # values of the wrong type or shape
        ({"all": [cond("employees", "gte", "100")]}, "all[0].value", "invalid_value", "整数"),
        (cond("employees", "gte", 1.5), "value", "invalid_value", "整数"),
        (cond("employees", "gte", True), "value", "invalid_value", "整数"),
        (cond("employees", "gte", -1), "value", "invalid_value", "负数"),
        (cond("revenue", "gte", float("nan")), "value", "invalid_value", "数字"),
        (cond("revenue", "gte", [1]), "value", "invalid_value", "数字"),
        (cond("revenue", "between", [5000, 1000]), "value", "invalid_value", "下限5000大于上限1000"),
        (cond("age_years", "between", [1]), "value", "invalid_value", "下限, 上限"),
        (cond("age_years", "between", [1, "x"]), "value[1]", "invalid_value", "整数"),
        (cond("size", "in", []), "value", "invalid_value", "不能为空"),
        (cond("size", "in", "small"), "value", "invalid_value", "列表"),
        (cond("industry", "under", []), "value", "invalid_value", "不能为空"),
        (cond("industry", "under", ["65", 65]), "value[1]", "invalid_value", "字符串"),
        (cond("dishonest", "eq", "false"), "value", "invalid_value", "true 或 false"),
        (cond("qualification", "has", ["high_tech"]), "value", "invalid_value", "资质代码"),
        (cond("zone", "in", ["Tech Zone"]), "value[0]", "invalid_value", "Tech Zone"),
        (cond("park", "in", [""]), "value[0]", "invalid_value", "非空"),
        (cond("zone", "in", ["tech_ecology\n"]), "value[0]", "invalid_value", "小写字母"),
        (cond("foreign_investor_country", "in", ["JP\n"]), "value[0]", "invalid_value", "ISO 3166"),
        (cond("foreign_investor_country", "in", ["jp"]), "value[0]", "invalid_value", "ISO 3166"),
        # codes that do not exist
        (cond("size", "in", ["small", "huge"]), "value[1]", "unknown_code", "huge"),
        (cond("qualification", "has", "nobel_prize"), "value", "unknown_code", "nobel_prize"),
        (cond("tax_credit_rating", "not_in", ["AA"]), "value[0]", "unknown_code", "AA"),
        (cond("industry", "under", ["9999"]), "value[0]", "unknown_code", "9999"),
        (cond("industry", "under", ["6520", "Z"]), "value[1]", "unknown_code", "GB/T 4754-2017"),
        (cond("industry", "under", ["c"]), "value[0]", "unknown_code", "c"),
        (cond("industry", "under", ["65201"]), "value[0]", "unknown_code", "65201"),
    ],
)
def test_malformed_rule_names_the_path(rule: Any, path: str, code: str, says: str) -> None:
    error = problem(rule)

    assert (error.path, error.code) == (path, code)
    assert says in error.message
    assert [(e.path, e.code) for e in error.errors] == [(path, code)]


@pytest.mark.parametrize(
    "rule",
    [
        cond("industry", "under", ["C", "65", "652", "6520"]),  # 652 is a 中类 with a single 小类 (6520)
        cond("zone", "in", ["new_zone_2026"]),  # administrators add zones: any well-formed code
        cond("park", "in", ["taihu_science_city", "hefeng_park"]),
        cond("foreign_investor_country", "in", ["JP", "XK"]),
        cond("revenue", "between", [1000, 1000]),
        cond("rd_expense_ratio", "gte", 3.5),
        cond("employees", "gte", 100.0),  # an integral JSON number
        {"not": {"not": {"any": [GOOD, {"all": [cond("dishonest", "eq", False)]}]}}},
    ],
)
def test_valid_rules_pass(rule: Any) -> None:
    validate_rule(rule)
    validate_rule(json.loads(json.dumps(rule)))


def test_every_problem_is_reported() -> None:
    error = problem(
        {
            "all": [
                cond("nope", "eq", 1),
                cond("size", "in", ["huge", "small", "tiny"]),
                {"any": []},
                cond("industry", "eq", ["65"]),
            ]
        }
    )

    assert [(e.path, e.code) for e in error.errors] == [
        ("all[0].fact", "unknown_fact"),
        ("all[1].value[0]", "unknown_code"),
        ("all[1].value[2]", "unknown_code"),
        ("all[2].any", "empty_group"),
        ("all[3].op", "operator_not_allowed"),
    ]
    assert str(error) == "all[0].fact：未知的条件项“nope”"
    assert error.as_fields()[1] == {
        "field": "rule.all[1].value[0]",
        "code": "unknown_code",
        "message": error.errors[1].message,
    }


def nested_nots(depth: int) -> dict[str, Any]:
    rule: dict[str, Any] = GOOD
    for _ in range(depth - 1):
        rule = {"not": rule}
    return rule


def test_depth_limit() -> None:
    validate_rule(nested_nots(MAX_DEPTH))

    error = problem(nested_nots(MAX_DEPTH + 1))

    assert error.code == "too_deep"
    assert error.path == ".".join(["not"] * MAX_DEPTH)


def test_a_hostile_deep_rule_does_not_recurse_without_bound() -> None:
    rule: dict[str, Any] = GOOD
    for _ in range(100_000):
        rule = {"all": [rule]}

    assert problem(rule).code == "too_deep"


def test_a_self_referencing_object_is_refused() -> None:
    rule: dict[str, Any] = {"all": []}
    rule["all"].append(rule)

    assert problem(rule).code == "too_deep"


def test_size_limit() -> None:
    validate_rule({"all": [GOOD] * (MAX_NODES - 1)})

    error = problem({"all": [GOOD] * MAX_NODES})

    assert error.code == "too_large"
    assert error.path == f"all[{MAX_NODES - 1}]"


def test_value_list_limit() -> None:
    error = problem(cond("zone", "in", [f"zone_{i}" for i in range(501)]))

    assert (error.path, error.code) == ("value", "invalid_value")


def test_rule_facts() -> None:
    rule = {
        "all": [
            cond("industry", "under", ["65"]),
            {"any": [cond("qualification", "has", "high_tech"), {"not": cond("dishonest", "eq", True)}]},
            cond("industry", "under", ["39"]),
        ]
    }

    assert rule_facts(rule) == {"industry", "qualification", "dishonest"}
    with pytest.raises(RuleError):
        rule_facts({"all": []})


def test_iter_conditions_gives_paths_in_document_order_and_negation() -> None:
    rule = {
        "all": [
            cond("size", "in", ["small"]),
            {"not": {"any": [cond("dishonest", "eq", True), {"not": cond("employees", "lt", 5)}]}},
        ]
    }

    assert [(path, c["fact"], negated) for path, c, negated in iter_conditions(rule)] == [
        ("all[0]", "size", False),
        ("all[1].not.any[0]", "dishonest", True),
        ("all[1].not.any[1].not", "employees", False),
    ]
