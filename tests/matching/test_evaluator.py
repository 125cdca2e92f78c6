"""The evaluator: three-valued combination, dates, explanations, the smallest set, verified outcomes."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from matching.core.evaluator import ConditionResult, Outcome, Status, compile_rule, evaluate
from matching.core.profile import EnterpriseProfile, Fact
from matching.core.rules import RuleError
from tests.matching.support import AS_OF, DAY, cond, make_profile, qualification, site

# Two independent conditions whose result each test sets: met, unmet or unknown.
A = cond("employees", "gte", 100)
B = cond("revenue", "gte", 2000)
C = cond("total_assets", "gte", 5000)
VALUES = {
    "employees": {"met": 150, "unmet": 50},
    "revenue": {"met": Decimal(3000), "unmet": Decimal(1000)},
    "total_assets": {"met": Decimal(6000), "unmet": Decimal(10)},
}
OUTCOME = {"met": "eligible", "unmet": "ineligible", "unknown": "needs_info"}


def profile_with(source: str | None = None, **results: str) -> EnterpriseProfile:
    """A profile where each named fact's condition above has the given result."""
    values = {fact: VALUES[fact][r] for fact, r in results.items() if r != "unknown"}
    return make_profile(source=source, **values)


# Kleene's strong three-valued logic, written out rather than computed.
AND = {
    ("met", "met"): "met",
    ("met", "unmet"): "unmet",
    ("met", "unknown"): "unknown",
    ("unmet", "met"): "unmet",
    ("unmet", "unmet"): "unmet",
    ("unmet", "unknown"): "unmet",
    ("unknown", "met"): "unknown",
    ("unknown", "unmet"): "unmet",
    ("unknown", "unknown"): "unknown",
}
OR = {
    ("met", "met"): "met",
    ("met", "unmet"): "met",
    ("met", "unknown"): "met",
    ("unmet", "met"): "met",
    ("unmet", "unmet"): "unmet",
    ("unmet", "unknown"): "unknown",
    ("unknown", "met"): "met",
    ("unknown", "unmet"): "unknown",
    ("unknown", "unknown"): "unknown",
}
NOT = {"met": "unmet", "unmet": "met", "unknown": "unknown"}


@pytest.mark.parametrize(("a", "b"), list(AND))
def test_all_truth_table(a: str, b: str) -> None:
    outcome = evaluate({"all": [A, B]}, profile_with(employees=a, revenue=b), on=DAY)

    assert outcome.status == OUTCOME[AND[a, b]]
    assert [c.result for c in outcome.conditions] == [a, b]


@pytest.mark.parametrize(("a", "b"), list(OR))
def test_any_truth_table(a: str, b: str) -> None:
    outcome = evaluate({"any": [A, B]}, profile_with(employees=a, revenue=b), on=DAY)

    assert outcome.status == OUTCOME[OR[a, b]]


@pytest.mark.parametrize("a", list(NOT))
def test_not_truth_table(a: str) -> None:
    assert evaluate({"not": A}, profile_with(employees=a), on=DAY).status == OUTCOME[NOT[a]]
    assert evaluate({"not": {"not": A}}, profile_with(employees=a), on=DAY).status == OUTCOME[a]


@pytest.mark.parametrize(("a", "b", "c"), [(a, b, c) for a in NOT for b in NOT for c in NOT])
def test_nested_combination(a: str, b: str, c: str) -> None:
    # all[A, any[not B, C]]
    rule = {"all": [A, {"any": [{"not": B}, C]}]}
    expected = AND[a, OR[NOT[b], c]]

    outcome = compile_rule(rule).evaluate(profile_with(employees=a, revenue=b, total_assets=c), on=DAY)

    assert outcome.status == OUTCOME[expected]


def test_a_single_condition_is_a_rule() -> None:
    outcome = evaluate(A, profile_with(employees="met"), on=DAY)

    assert outcome.status == Status.ELIGIBLE
    assert outcome.conditions[0].path == ""


# --- dates -------------------------------------------------------------------------------------

HIGH_TECH = cond("qualification", "has", "high_tech")


@pytest.mark.parametrize(
    ("on", "status", "actual"),
    [
        (date(2022, 12, 31), "ineligible", "高新技术企业（尚未生效，2023-01-01至2025-12-31，证书编号GR202332000001）"),
        (date(2023, 1, 1), "eligible", "高新技术企业（有效，2023-01-01至2025-12-31，证书编号GR202332000001）"),
        (date(2025, 12, 31), "eligible", "高新技术企业（有效，2023-01-01至2025-12-31，证书编号GR202332000001）"),
        (date(2026, 1, 1), "ineligible", "高新技术企业（已过期，2023-01-01至2025-12-31，证书编号GR202332000001）"),
    ],
)
def test_outcome_depends_on_the_evaluation_date(on: date, status: str, actual: str) -> None:
    profile = make_profile(qualifications=(qualification(valid_from=date(2023, 1, 1), valid_to=date(2025, 12, 31)),))

    outcome = evaluate({"all": [HIGH_TECH]}, profile, on=on)

    assert outcome.status == status
    assert outcome.on == on
    assert outcome.conditions[0].actual == actual
    assert outcome.conditions[0].source == "science_tech"


def test_age_on_the_anniversary() -> None:
    rule = cond("age_years", "lt", 3)  # 成立不满3年
    profile = make_profile(established_on=date(2022, 7, 1))

    assert evaluate(rule, profile, on=date(2025, 6, 30)).status == "eligible"
    outcome = evaluate(rule, profile, on=date(2025, 7, 1))
    assert outcome.status == "ineligible"
    assert outcome.conditions[0].actual == "3年（2022-07-01成立）"
    assert outcome.summary == "只差：成立年限不满3年"


# --- explanations ------------------------------------------------------------------------------


def test_each_condition_explains_itself() -> None:
    rule = {
        "all": [
            cond("industry", "under", ["6520"]),
            cond("employees", "gte", 100),
            {"any": [cond("zone", "in", ["tech_ecology"]), cond("park", "in", ["taihu_science_city"])]},
        ]
    }
    profile = make_profile(industry_code="6520", employees=80, sites=(site("tech_ecology"),))

    outcome = evaluate(rule, profile, on=DAY)

    industry, employees, zone, park = outcome.conditions
    assert industry == ConditionResult(
        path="all[0]",
        fact="industry",
        fact_label="所属行业",
        op="under",
        value=["6520"],
        wording="行业属于：集成电路设计（6520）",
        requirement="行业属于：集成电路设计（6520）",
        short="行业属于集成电路设计（6520）",
        negated=False,
        result="met",
        actual="集成电路设计（6520）",
        source="market_regulation",
        source_label="市场监督管理局",
        as_of=AS_OF,
        verified=True,
        decisive=False,
    )
    assert (employees.wording, employees.actual, employees.result, employees.source_label) == (
        "从业人员不少于100人",
        "80人",
        "unmet",
        "统计局",
    )
    assert employees.decisive  # what made the outcome ineligible
    assert (zone.path, zone.wording, zone.actual, zone.result) == (
        "all[2].any[0]",
        "经营场所位于：科技生态功能区",
        "科技生态功能区",
        "met",
    )
    assert (park.path, park.actual, park.result) == ("all[2].any[1]", "不在特色园区内", "unmet")
    assert outcome.summary == "只差：从业人员不少于100人"


def test_an_unknown_condition_shows_no_value_and_no_source() -> None:
    outcome = evaluate(A, make_profile(), on=DAY)

    (employees,) = outcome.conditions
    assert (employees.result, employees.actual, employees.source, employees.source_label, employees.as_of) == (
        "unknown",
        "未提供",
        "",
        "",
        None,
    )
    assert not employees.verified
    assert outcome.summary == "需补充：从业人员"


def test_self_declared_facts_are_labelled() -> None:
    outcome = evaluate(A, profile_with(source="self_declared", employees="met"), on=DAY)

    (employees,) = outcome.conditions
    assert (employees.source, employees.source_label, employees.verified) == ("self_declared", "企业自行填报", False)


# --- the smallest set standing between the enterprise and eligibility ---------------------------


def missing_paths(rule: dict[str, Any], profile: EnterpriseProfile) -> list[str]:
    return [c.path for c in evaluate(rule, profile, on=DAY).missing]


def test_only_the_qualification_is_missing() -> None:
    rule = {"all": [cond("industry", "under", ["65"]), HIGH_TECH, cond("employees", "gte", 10)]}
    profile = make_profile(industry_code="6520", employees=120)

    outcome = evaluate(rule, profile, on=DAY)

    assert outcome.status == "ineligible"
    assert [c.path for c in outcome.missing] == ["all[1]"]
    assert outcome.summary == "只差：高新技术企业资质"


def test_missing_information() -> None:
    rule = {"all": [cond("industry", "under", ["65"]), A]}

    outcome = evaluate(rule, make_profile(industry_code="6520"), on=DAY)

    assert outcome.status == "needs_info"
    assert [c.path for c in outcome.missing] == ["all[1]"]
    assert outcome.summary == "需补充：从业人员"


def test_all_needs_every_failing_child_unknowns_included() -> None:
    # unmet AND unknown is unmet, but both stand in the way.
    outcome = evaluate({"all": [A, B, C]}, profile_with(employees="unmet", revenue="met"), on=DAY)

    assert outcome.status == "ineligible"
    assert [c.path for c in outcome.missing] == ["all[0]", "all[2]"]
    assert outcome.summary == "只差：从业人员不少于100人；需补充：资产总额"


def test_any_needs_only_its_cheapest_child() -> None:
    rule = {"any": [{"all": [A, B]}, C]}

    assert missing_paths(rule, profile_with(employees="unmet", revenue="unmet", total_assets="unmet")) == ["any[1]"]
    assert missing_paths(rule, profile_with(employees="met", revenue="unmet", total_assets="unmet")) == [
        "any[0].all[1]"
    ]


def test_ties_prefer_information_over_failures_then_document_order() -> None:
    unmet_first = {"any": [A, B]}

    assert missing_paths(unmet_first, profile_with(employees="unmet", revenue="unmet")) == ["any[0]"]
    outcome = evaluate(unmet_first, profile_with(employees="unmet"), on=DAY)
    assert outcome.status == "needs_info"
    assert [c.path for c in outcome.missing] == ["any[1]"]
    assert outcome.summary == "需补充：营业收入"


def test_a_negated_condition_is_needed_unmet() -> None:
    rule = {"all": [cond("industry", "under", ["65"]), {"not": cond("dishonest", "eq", True)}]}

    outcome = evaluate(rule, make_profile(industry_code="6520", dishonest=True), on=DAY)

    (gap,) = outcome.missing
    assert (gap.path, gap.result, gap.negated) == ("all[1].not", "met", True)
    assert gap.wording == "被列为失信主体"
    assert gap.requirement == "未被列为失信主体"
    assert outcome.summary == "只差：未被列为失信主体"


def test_not_of_a_group_needs_the_dual_set() -> None:
    # not(any[A, B]) holds when both A and B are unmet: only the met one must change.
    assert missing_paths({"not": {"any": [A, B]}}, profile_with(employees="met", revenue="unmet")) == ["not.any[0]"]
    # not(all[A, B]) holds as soon as one of them is unmet: the first will do.
    rule = {"not": {"all": [A, B]}}
    outcome = evaluate(rule, profile_with(employees="met", revenue="met"), on=DAY)
    assert [c.path for c in outcome.missing] == ["not.all[0]"]
    assert outcome.summary == "只差：从业人员少于100人"
    # ... and an unknown one would rather be asked about.
    assert missing_paths(rule, profile_with(employees="met", revenue="unknown")) == ["not.all[1]"]


def test_double_negation_cancels() -> None:
    outcome = evaluate({"not": {"not": A}}, profile_with(employees="unmet"), on=DAY)

    (gap,) = outcome.missing
    assert not gap.negated
    assert outcome.summary == "只差：从业人员不少于100人"


def test_nested_all_any_not() -> None:
    # all[ any[A, B], any[C, all[not qualification, dishonest = false]] ]
    rule = {
        "all": [
            {"any": [A, B]},
            {"any": [C, {"all": [{"not": HIGH_TECH}, cond("dishonest", "eq", False)]}]},
        ]
    }
    profile = make_profile(employees=50, revenue=Decimal(1000), qualifications=(qualification(),))

    outcome = evaluate(rule, profile, on=DAY)

    assert outcome.status == "ineligible"
    assert [c.path for c in outcome.missing] == ["all[0].any[0]", "all[1].any[0]"]
    assert outcome.summary == "只差：从业人员不少于100人；需补充：资产总额"


def test_an_eligible_outcome_misses_nothing() -> None:
    outcome = evaluate({"any": [A, B]}, profile_with(employees="met", revenue="unmet"), on=DAY)

    assert outcome.status == "eligible"
    assert outcome.missing == ()
    assert outcome.summary == "符合全部条件"


def test_an_eligible_outcome_with_an_unchecked_alternative_does_not_say_all() -> None:
    # 符合全部条件 only when every condition was checked: here revenue was never known.
    outcome = evaluate({"any": [A, B]}, profile_with(employees="met"), on=DAY)

    assert outcome.status == "eligible"
    assert outcome.summary == "符合条件"


def test_filling_the_missing_set_makes_the_outcome_eligible() -> None:
    rule = {"all": [{"any": [A, {"not": B}]}, {"not": {"all": [C, cond("dishonest", "eq", True)]}}]}
    facts: dict[str, Any] = {
        "employees": 50,
        "revenue": Decimal(3000),
        "total_assets": Decimal(6000),
        "dishonest": True,
    }

    before = evaluate(rule, make_profile(**facts), on=DAY)

    assert before.status == "ineligible"
    assert [(c.fact, c.negated) for c in before.missing] == [("employees", False), ("total_assets", True)]
    assert before.summary == "只差：从业人员不少于100人、资产总额低于5000万元"
    half = evaluate(rule, make_profile(**{**facts, "employees": 150}), on=DAY)
    assert half.status == "ineligible"  # one change of two is not enough
    both = evaluate(rule, make_profile(**{**facts, "employees": 150, "total_assets": Decimal(1)}), on=DAY)
    assert both.status == "eligible"


# --- verified -----------------------------------------------------------------------------------


def mixed(**sources: str) -> EnterpriseProfile:
    """employees met, revenue met, total_assets unmet, each from the given source."""
    facts = {
        "employees": Fact(150, sources.get("employees", "statistics"), AS_OF),
        "revenue": Fact(Decimal(3000), sources.get("revenue", "tax"), AS_OF),
        "total_assets": Fact(Decimal(10), sources.get("total_assets", "tax"), AS_OF),
    }
    return EnterpriseProfile(credit_code="x", facts=facts)


def test_eligible_on_department_data_is_verified() -> None:
    outcome = evaluate({"all": [A, B]}, mixed(), on=DAY)

    assert (outcome.status, outcome.verified) == ("eligible", True)
    assert all(c.verified and c.decisive for c in outcome.conditions)


def test_one_self_declared_condition_in_an_all_spoils_it() -> None:
    outcome = evaluate({"all": [A, B]}, mixed(revenue="self_declared"), on=DAY)

    assert (outcome.status, outcome.verified) == ("eligible", False)
    assert [c.verified for c in outcome.conditions] == [True, False]


def test_an_any_is_verified_by_one_verified_true_child_and_picks_it() -> None:
    outcome = evaluate({"any": [A, B]}, mixed(employees="self_declared"), on=DAY)

    assert outcome.verified
    assert [c.decisive for c in outcome.conditions] == [False, True]


def test_an_any_with_only_self_declared_true_children_is_not_verified() -> None:
    rule = {"any": [A, C]}  # A met (self-declared), C unmet (department)

    outcome = evaluate(rule, mixed(employees="self_declared"), on=DAY)

    assert (outcome.status, outcome.verified) == ("eligible", False)
    assert [c.decisive for c in outcome.conditions] == [True, False]


def test_unknown_conditions_do_not_decide_an_any_that_holds() -> None:
    rule = {"any": [A, cond("dishonest", "eq", False)]}

    outcome = evaluate(rule, mixed(), on=DAY)

    assert outcome.verified
    assert [c.result for c in outcome.conditions] == ["met", "unknown"]


def test_not_passes_verification_through() -> None:
    # not(any[C, D]) is true because C and D are both unmet: both decided it.
    both_unmet = {"not": {"any": [C, cond("employees", "lt", 10)]}}
    assert evaluate(both_unmet, mixed(), on=DAY).verified
    assert not evaluate(both_unmet, mixed(employees="self_declared"), on=DAY).verified
    # not(all[C, A]) is true because C is unmet; A (met, self-declared) did not decide it.
    one_unmet = {"not": {"all": [C, A]}}
    outcome = evaluate(one_unmet, mixed(employees="self_declared"), on=DAY)
    assert (outcome.status, outcome.verified) == ("eligible", True)
    assert [c.decisive for c in outcome.conditions] == [True, False]
    assert not evaluate(one_unmet, mixed(total_assets="self_declared"), on=DAY).verified


def test_absence_of_a_qualification_does_not_verify() -> None:
    outcome = evaluate({"not": HIGH_TECH}, make_profile(), on=DAY)

    assert (outcome.status, outcome.verified) == ("eligible", False)
    expired = make_profile(qualifications=(qualification(valid_to=date(2024, 12, 31)),))
    assert evaluate({"not": HIGH_TECH}, expired, on=DAY).verified  # the bureau's record says it lapsed


def test_only_eligible_outcomes_are_verified() -> None:
    assert not evaluate(C, mixed(), on=DAY).verified
    assert not evaluate({"all": [A, cond("dishonest", "eq", False)]}, mixed(), on=DAY).verified


def test_department_qualification_and_site_verify() -> None:
    rule = {"all": [HIGH_TECH, cond("zone", "in", ["tech_ecology"])]}
    declared = make_profile(qualifications=(qualification(source="self_declared"),), sites=(site(),))
    both = make_profile(qualifications=(qualification(source="self_declared"), qualification()), sites=(site(),))

    assert not evaluate(rule, declared, on=DAY).verified
    assert evaluate(rule, both, on=DAY).verified


# --- snapshots, caching, errors -----------------------------------------------------------------


def test_to_dict_is_a_json_snapshot_and_round_trips() -> None:
    rule = {"all": [cond("industry", "under", ["65"]), HIGH_TECH, cond("rd_expense_ratio", "gte", 3.5)]}
    profile = make_profile(industry_code="6520", rd_expense_ratio=Decimal("4.2"))
    outcome = evaluate(rule, profile, on=DAY)

    data = json.loads(json.dumps(outcome.to_dict(), ensure_ascii=False))

    assert set(data) == {"schema", "status", "status_label", "verified", "on", "summary", "conditions", "missing"}
    assert (data["status"], data["status_label"], data["on"], data["missing"]) == (
        "ineligible",
        "不符合",
        "2025-06-30",
        ["all[1]"],
    )
    assert data["conditions"][0]["as_of"] == AS_OF.isoformat()
    assert data["conditions"][2]["value"] == 3.5
    assert data["conditions"][2]["actual"] == "4.2%"
    assert set(data["conditions"][0]) == {
        "path",
        "fact",
        "fact_label",
        "op",
        "value",
        "wording",
        "requirement",
        "short",
        "negated",
        "result",
        "result_label",
        "actual",
        "source",
        "source_label",
        "as_of",
        "verified",
        "decisive",
    }
    restored = Outcome.from_dict(data)
    assert restored == outcome
    assert restored.missing[0].fact == "qualification"
    assert restored.summary == "只差：高新技术企业资质"


def test_compiled_and_cached_evaluation_agree() -> None:
    rule = {"any": [A, {"not": B}]}
    compiled = compile_rule(rule)
    for results in ({"employees": "met"}, {"revenue": "met"}, {"employees": "unmet", "revenue": "unknown"}):
        profile = profile_with(**results)
        assert compiled.evaluate(profile, on=DAY) == evaluate(rule, profile, on=DAY)
    assert compiled.facts == {"employees", "revenue"}
    assert compiled.paths == ("any[0]", "any[1].not")


def test_compiling_copies_the_rule() -> None:
    rule = {"all": [cond("size", "in", ["small"])]}
    compiled = compile_rule(rule)
    rule["all"][0]["value"].append("large")

    assert compiled.evaluate(make_profile(size="large"), on=DAY).status == "ineligible"
    assert evaluate(rule, make_profile(size="large"), on=DAY).status == "eligible"  # the cache keys on content


def test_a_rule_with_decimal_values_still_evaluates() -> None:
    rule = cond("revenue", "gte", Decimal("2000.5"))

    assert evaluate(rule, make_profile(revenue=Decimal("2000.5")), on=DAY).status == "eligible"


def test_an_invalid_rule_is_refused_before_evaluation() -> None:
    with pytest.raises(RuleError) as caught:
        evaluate({"all": [A, cond("employees", "under", ["65"])]}, make_profile(), on=DAY)

    assert (caught.value.path, caught.value.code) == ("all[1].op", "operator_not_allowed")
    with pytest.raises(RuleError):
        compile_rule({"all": [A, {"any": []}]})
    with pytest.raises(RuleError):
        evaluate(cond("revenue", "gte", float("inf")), make_profile(), on=DAY)
