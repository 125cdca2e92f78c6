"""The 政策计算器's profile: a visitor's typed facts, all self-declared, validated field by field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from matching.core.calculator import DeclaredFactsError, profile_from_declared
from matching.core.evaluator import evaluate
from matching.core.profile import Fact, QualificationRecord, SiteRecord
from tests.matching.support import DAY, cond


def test_typed_facts_become_a_self_declared_profile() -> None:
    profile = profile_from_declared(
        {
            "name": "示例科技有限公司",
            "industry_code": "6520",
            "size": "small",
            "employees": 120,
            "revenue": "3000.5",
            "total_assets": 8000,
            "rd_expense_ratio": 4.2,
            "established_on": "2019-03-01",
            "qualifications": ["high_tech", {"kind": "gazelle", "valid_from": "2024-01-01", "valid_to": "2026-12-31"}],
            "zones": ["tech_ecology", "business_innovation"],
            "parks": ["taihu_science_city"],
            "tax_credit_rating": "A",
            "dishonest": False,
            "above_designated_size": True,
            "foreign_investor_country": "jp",
        },
        on=DAY,
    )

    assert profile.name == "示例科技有限公司"
    assert profile.facts["industry_code"] == Fact("6520", "self_declared", DAY)
    assert profile.facts["revenue"].value == Decimal("3000.5")
    assert profile.facts["rd_expense_ratio"].value == Decimal("4.2")
    assert profile.facts["employees"].value == 120
    assert profile.facts["established_on"].value == date(2019, 3, 1)
    assert profile.facts["foreign_investor_country"].value == "JP"
    assert profile.facts["dishonest"].value is False
    assert {f.source for f in profile.facts.values()} == {"self_declared"}
    assert profile.qualifications == (
        QualificationRecord("high_tech", date.min, None, "self_declared", DAY),
        QualificationRecord("gazelle", date(2024, 1, 1), date(2026, 12, 31), "self_declared", DAY),
    )
    assert profile.sites == (
        SiteRecord("", "tech_ecology", ("taihu_science_city",), "self_declared", DAY),
        SiteRecord("", "business_innovation", (), "self_declared", DAY),
    )


def test_left_out_facts_stay_unknown_and_size_is_not_guessed() -> None:
    profile = profile_from_declared({"industry_code": "3973", "employees": 50, "revenue": 1000}, on=DAY)

    assert set(profile.facts) == {"industry_code", "employees", "revenue"}
    assert profile.sites == ()
    outcome = evaluate({"all": [cond("size", "in", ["small"]), cond("zone", "in", ["tech_ecology"])]}, profile, on=DAY)
    assert outcome.status == "needs_info"
    assert outcome.summary == "需补充：企业规模、经营场所所在功能区"


def test_parks_without_zones_leave_the_zone_unknown() -> None:
    profile = profile_from_declared({"parks": ["hefeng_park"]}, on=DAY)

    assert evaluate(cond("park", "in", ["hefeng_park"]), profile, on=DAY).status == "eligible"
    assert evaluate(cond("zone", "in", ["tech_ecology"]), profile, on=DAY).status == "needs_info"


@pytest.mark.parametrize(
    ("years", "on", "established"),
    [(3, date(2025, 6, 30), date(2022, 6, 30)), (1, date(2024, 2, 29), date(2023, 2, 28)), (0, DAY, DAY)],
)
def test_age_years_becomes_an_establishment_date(years: int, on: date, established: date) -> None:
    profile = profile_from_declared({"age_years": years}, on=on)

    assert profile.facts["established_on"].value == established
    assert evaluate(cond("age_years", "gte", years), profile, on=on).status == "eligible"
    assert evaluate(cond("age_years", "gt", years), profile, on=on).status == "ineligible"


def test_a_calculator_outcome_is_never_verified() -> None:
    profile = profile_from_declared({"industry_code": "6520", "qualifications": ["high_tech"]}, on=DAY)

    outcome = evaluate(
        {"all": [cond("industry", "under", ["65"]), cond("qualification", "has", "high_tech")]}, profile, on=DAY
    )

    assert (outcome.status, outcome.verified) == ("eligible", False)
    assert {c.source_label for c in outcome.conditions} == {"企业自行填报"}


def test_none_is_the_same_as_leaving_a_field_out() -> None:
    profile = profile_from_declared({"employees": None, "dishonest": None, "qualifications": None}, on=DAY)

    assert profile.facts == {}
    assert profile.qualifications == ()


@pytest.mark.parametrize(
    ("facts", "field", "code", "says"),
    [
        ({"industry_code": "9999"}, "industry_code", "unknown_code", "4位行业小类"),
        ({"industry_code": "65"}, "industry_code", "unknown_code", "4位行业小类"),
        ({"size": "huge"}, "size", "unknown_code", "企业规模"),
        ({"tax_credit_rating": "AAA"}, "tax_credit_rating", "unknown_code", "纳税信用等级"),
        ({"employees": -1}, "employees", "out_of_range", "负数"),
        ({"employees": 10.5}, "employees", "invalid", "整数"),
        ({"employees": "很多"}, "employees", "invalid", "数字"),
        ({"employees": True}, "employees", "invalid", "数字"),
        ({"revenue": "NaN"}, "revenue", "invalid", "数字"),
        ({"revenue": [1]}, "revenue", "invalid", "数字"),
        ({"established_on": "2019-13-01"}, "established_on", "invalid", "日期"),
        ({"established_on": "2030-01-01"}, "established_on", "out_of_range", "晚于"),
        ({"established_on": "2019-01-01", "age_years": 3}, "age_years", "conflict", "只需填写一项"),
        ({"age_years": 500}, "age_years", "out_of_range", "200"),
        ({"qualifications": "high_tech"}, "qualifications", "invalid", "列表"),
        ({"qualifications": ["nobel_prize"]}, "qualifications[0]", "unknown_code", "资质代码"),
        ({"qualifications": ["high_tech", {"kind": "gazelle", "until": "x"}]}, "qualifications[1]", "invalid", "kind"),
        (
            {"qualifications": [{"kind": "gazelle", "valid_from": "2025-01-01", "valid_to": "2024-01-01"}]},
            "qualifications[0]",
            "out_of_range",
            "早于",
        ),
        (
            {"qualifications": [{"kind": "gazelle", "valid_to": "soon"}]},
            "qualifications[0].valid_to",
            "invalid",
            "日期",
        ),
        ({"zones": ["Tech Zone"]}, "zones", "invalid", "功能区"),
        ({"parks": "hefeng_park"}, "parks", "invalid", "列表"),
        ({"dishonest": "否"}, "dishonest", "invalid", "true / false"),
        ({"foreign_investor_country": "Japan"}, "foreign_investor_country", "invalid", "两位字母"),
        ({"turnover": 5}, "turnover", "unknown_field", "turnover"),
        ({"name": 5}, "name", "invalid", "企业名称"),
    ],
)
def test_unusable_facts_name_the_field(facts: dict[str, Any], field: str, code: str, says: str) -> None:
    with pytest.raises(DeclaredFactsError) as caught:
        profile_from_declared(facts, on=DAY)

    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.field, error.code) == (field, code)
    assert says in error.message


def test_every_unusable_field_is_reported() -> None:
    with pytest.raises(DeclaredFactsError) as caught:
        profile_from_declared({"employees": -5, "industry_code": "x", "size": "huge", "extra": 1}, on=DAY)

    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("extra", "unknown_field"),
        ("industry_code", "unknown_code"),
        ("size", "unknown_code"),
        ("employees", "out_of_range"),
    ]
    assert caught.value.as_fields()[0] == {"field": "extra", "code": "unknown_field", "message": "不支持的字段“extra”"}


def test_facts_must_be_an_object() -> None:
    with pytest.raises(DeclaredFactsError) as caught:
        profile_from_declared(["employees", 5], on=DAY)  # type: ignore[arg-type]

    assert caught.value.code == "invalid"


def test_a_declared_qualification_without_dates_reads_without_a_made_up_start() -> None:
    from matching.core.registry import FACTS

    undated = profile_from_declared({"qualifications": ["high_tech"]}, on=DAY).qualifications
    dated = profile_from_declared(
        {"qualifications": [{"kind": "high_tech", "valid_from": "2024-01-01", "valid_to": "2026-12-31"}]}, on=DAY
    ).qualifications

    assert FACTS["qualification"].display(undated, DAY) == "高新技术企业（有效，未填写有效期）"
    assert FACTS["qualification"].display(dated, DAY) == "高新技术企业（有效，2024-01-01至2026-12-31）"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1e1000000", "invalid"),
        ("9" * 10_000, "invalid"),
        (Decimal("1e1000000"), "invalid"),
        (Decimal("NaN"), "invalid"),
        (float("inf"), "invalid"),
        (10**3000, "out_of_range"),
        ("10000000001", "out_of_range"),
        ("-0.01", "out_of_range"),
    ],
)
def test_huge_or_malformed_numbers_are_refused_without_being_computed(raw: Any, code: str) -> None:
    import time

    started = time.thread_time()  # This thread's CPU time: a loaded machine delays, it does not compute
    with pytest.raises(DeclaredFactsError) as error:
        profile_from_declared({"revenue": raw}, on=DAY)

    assert time.thread_time() - started < 0.2
    assert (error.value.field, error.value.code) == ("revenue", code)
    assert error.value.message.startswith("营业收入")


def test_the_registry_limits_are_the_calculators() -> None:
    from matching.core.registry import FACTS

    at_limit = {key: str(FACTS[key].maximum) for key in ("employees", "revenue", "total_assets", "rd_expense_ratio")}
    profile = profile_from_declared(at_limit, on=DAY)

    assert profile.facts["employees"].value == FACTS["employees"].maximum
    with pytest.raises(DeclaredFactsError) as error:
        profile_from_declared({"age_years": FACTS["age_years"].maximum + 1}, on=DAY)
    assert error.value.message == f"成立年限不能超过{FACTS['age_years'].maximum}年"
