"""Attestations (承诺) and judgements (待认定): conditions no department data decides.

They validate with a path, code and Chinese message; the evaluator never reports them met (the
outcome is at best needs_info, never eligible, never verified) and says what they wait for; the
description and the SQL agree (the SQL side is held equal by test_bulk_matches_evaluator).
"""

from __future__ import annotations

from typing import Any

import pytest

from matching.core.describe import describe_condition, describe_rule
from matching.core.evaluator import Outcome, compile_rule, evaluate
from matching.core.rules import RuleError, rule_facts, undecidable_conditions, validate_rule
from tests.matching.support import DAY, cond, make_profile, qualification

ATTEST = {"attest": "近三年无重大安全生产事故"}
JUDGE = {"judge": "属于行业领先企业", "department": "工业和信息化局"}
JUDGE_ANY = {"judge": "项目具有示范带动作用"}
EMPLOYEES = cond("employees", "gte", 10)
HIGH_TECH = cond("qualification", "has", "high_tech")


def problem(rule: Any) -> RuleError:
    with pytest.raises(RuleError) as caught:
        validate_rule(rule)
    return caught.value


@pytest.mark.parametrize(
    ("rule", "path", "code", "says"),
    [
        ({"attest": ""}, "attest", "invalid_wording", "非空文字"),
        ({"attest": "   "}, "attest", "invalid_wording", "非空文字"),
        ({"attest": 5}, "attest", "invalid_wording", "非空文字"),
        ({"attest": "x" * 201}, "attest", "invalid_wording", "200"),
        ({"attest": "无事故\n另有"}, "attest", "invalid_wording", "换行"),
        ({"attest": " 无事故"}, "attest", "invalid_wording", "首尾空白"),
        ({"attest": "承诺近三年无事故"}, "attest", "invalid_wording", "不要以“承诺”开头"),
        ({"attest": "无事故", "department": "应急管理局"}, "department", "malformed_node", "只能有 attest"),
        ({"attest": "无事故", "fact": "employees"}, "fact", "malformed_node", "attest"),
        ({"judge": "行业领先", "department": ""}, "department", "invalid_wording", "认定部门"),
        ({"judge": "行业领先", "department": 3}, "department", "invalid_wording", "认定部门"),
        ({"judge": None}, "judge", "invalid_wording", "主管部门认定"),
        ({"all": [EMPLOYEES, {"not": ATTEST}]}, "all[1].not", "pending_under_not", "not"),
        ({"not": {"any": [EMPLOYEES, JUDGE]}}, "not.any[1]", "pending_under_not", "not"),
    ],
)
def test_bad_attestations_and_judgements_are_refused(rule: Any, path: str, code: str, says: str) -> None:
    error = problem(rule)
    assert (error.path, error.code) == (path, code)
    assert says in error.message


def test_good_ones_validate_and_test_no_fact() -> None:
    rule = {"all": [EMPLOYEES, ATTEST, JUDGE, JUDGE_ANY]}
    validate_rule(rule)
    assert rule_facts(rule) == {"employees"}


def test_undecidable_conditions_are_numbered_in_document_order() -> None:
    rule = {"all": [EMPLOYEES, {"any": [HIGH_TECH, ATTEST]}, JUDGE]}
    found = undecidable_conditions(rule)
    assert [(n, path) for n, path, _, _, _ in found] == [(3, "all[1].any[1]"), (4, "all[2]")]
    assert "承诺" in found[0][4] and "认定" in found[1][4]


def test_an_otherwise_eligible_enterprise_is_never_eligible_and_is_told_what_to_commit() -> None:
    profile = make_profile(employees=50)
    outcome = evaluate({"all": [EMPLOYEES, ATTEST, JUDGE]}, profile, on=DAY)

    assert outcome.status == "needs_info"
    assert not outcome.verified
    assert outcome.state_letters == "MAJ"
    assert outcome.pending_only
    assert outcome.summary == "需您承诺：“近三年无重大安全生产事故”；待工业和信息化局认定：“属于行业领先企业”"
    assert "符合" not in outcome.summary
    attest, judge = outcome.conditions[1:]
    assert (attest.result, attest.result_label, attest.verified) == ("attest", "需您承诺", False)
    assert (judge.result, judge.result_label, judge.fact_label) == ("judge", "待工业和信息化局认定", "工业和信息化局")
    assert [c.path for c in outcome.missing] == ["all[1]", "all[2]"]


def test_a_judgement_without_a_department_waits_for_the_responsible_department() -> None:
    outcome = evaluate({"all": [EMPLOYEES, JUDGE_ANY]}, make_profile(employees=50), on=DAY)
    assert outcome.summary == "待主管部门认定：“项目具有示范带动作用”"
    assert outcome.conditions[1].result_label == "待主管部门认定"


def test_missing_data_and_failures_are_said_before_the_commitment() -> None:
    rule = {"all": [EMPLOYEES, HIGH_TECH, ATTEST]}
    unknown = evaluate(rule, make_profile(qualifications=(qualification(),)), on=DAY)
    assert unknown.status == "needs_info" and not unknown.pending_only
    assert unknown.summary == "需补充：从业人员；需您承诺：“近三年无重大安全生产事故”"

    failed = evaluate(rule, make_profile(employees=50), on=DAY)
    assert failed.status == "ineligible"
    assert failed.summary == "只差：高新技术企业资质；需您承诺：“近三年无重大安全生产事故”"


def test_an_alternative_that_data_meets_makes_the_attestation_unnecessary() -> None:
    outcome = evaluate({"any": [HIGH_TECH, ATTEST]}, make_profile(qualifications=(qualification(),)), on=DAY)
    assert outcome.status == "eligible" and outcome.verified
    # eligible, but not every condition was checked: no 符合全部条件
    assert outcome.summary == "符合条件"


def test_attestations_alone_are_preferred_when_they_are_as_small_a_fix() -> None:
    # Either the unknown employees or the attestation would do; the attestation alone is named.
    outcome = evaluate({"any": [EMPLOYEES, ATTEST]}, make_profile(), on=DAY)
    assert [c.path for c in outcome.missing] == ["any[1]"]
    assert outcome.pending_only


def test_the_explanation_round_trips_with_its_letters() -> None:
    outcome = compile_rule({"all": [EMPLOYEES, ATTEST, JUDGE]}).evaluate(make_profile(employees=50), on=DAY)
    again = Outcome.from_dict(outcome.to_dict())
    assert again == outcome
    assert again.state_letters == "MAJ" and again.pending_only
    assert [c.result for c in again.conditions] == ["met", "attest", "judge"]


def test_descriptions_word_them_in_chinese() -> None:
    assert describe_condition(ATTEST) == "企业承诺：近三年无重大安全生产事故"
    assert describe_condition(JUDGE) == "经工业和信息化局认定：属于行业领先企业"
    assert describe_condition(JUDGE_ANY) == "经主管部门认定：项目具有示范带动作用"
    assert describe_rule({"all": [EMPLOYEES, {"any": [HIGH_TECH, ATTEST]}]}) == [
        "从业人员不少于10人",
        "满足以下任一项：①持有有效的高新技术企业资质；②企业承诺：近三年无重大安全生产事故",
    ]
