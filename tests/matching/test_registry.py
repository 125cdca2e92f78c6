"""Every fact and operator of the registry: met, unmet and unknown, with the evidence each rests on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from matching.core.evaluator import compile_rule
from matching.core.profile import EnterpriseProfile, Fact
from matching.core.registry import FACTS, MET, UNMET, fact_spec, set_place_names
from matching.core.vocabulary import DEPARTMENT_SOURCES, sources_within
from tests.matching.support import DAY, cond, make_profile, qualification, site

EMPTY = make_profile()


def result(condition: dict, profile: EnterpriseProfile, on: date = DAY) -> str:
    return compile_rule(condition).evaluate(profile, on=on).conditions[0].result


OPERATOR_CASES = [
    # industry: under any listed code of any level
    (cond("industry", "under", ["6520"]), make_profile(industry_code="6520"), "met"),
    (cond("industry", "under", ["652"]), make_profile(industry_code="6520"), "met"),
    (cond("industry", "under", ["65"]), make_profile(industry_code="6520"), "met"),
    (cond("industry", "under", ["I"]), make_profile(industry_code="6520"), "met"),
    (cond("industry", "under", ["3973", "C"]), make_profile(industry_code="1310"), "met"),
    (cond("industry", "under", ["C"]), make_profile(industry_code="4390"), "met"),
    (cond("industry", "under", ["C"]), make_profile(industry_code="4411"), "unmet"),
    (cond("industry", "under", ["C"]), make_profile(industry_code="6520"), "unmet"),
    (cond("industry", "under", ["651", "3973"]), make_profile(industry_code="6520"), "unmet"),
    (cond("industry", "under", ["6520"]), EMPTY, "unknown"),
    # size
    (cond("size", "in", ["small", "micro"]), make_profile(size="small"), "met"),
    (cond("size", "in", ["small", "micro"]), make_profile(size="medium"), "unmet"),
    (cond("size", "in", ["small"]), EMPTY, "unknown"),
    (cond("size", "not_in", ["large"]), make_profile(size="small"), "met"),
    (cond("size", "not_in", ["large"]), make_profile(size="large"), "unmet"),
    (cond("size", "not_in", ["large"]), EMPTY, "unknown"),
    # employees (integer), every comparison on both sides of its boundary
    (cond("employees", "gte", 100), make_profile(employees=100), "met"),
    (cond("employees", "gte", 100), make_profile(employees=99), "unmet"),
    (cond("employees", "gte", 100), EMPTY, "unknown"),
    (cond("employees", "gt", 100), make_profile(employees=101), "met"),
    (cond("employees", "gt", 100), make_profile(employees=100), "unmet"),
    (cond("employees", "gt", 100), EMPTY, "unknown"),
    (cond("employees", "lte", 100), make_profile(employees=100), "met"),
    (cond("employees", "lte", 100), make_profile(employees=101), "unmet"),
    (cond("employees", "lte", 100), EMPTY, "unknown"),
    (cond("employees", "lt", 100), make_profile(employees=99), "met"),
    (cond("employees", "lt", 100), make_profile(employees=100), "unmet"),
    (cond("employees", "lt", 100), EMPTY, "unknown"),
    (cond("employees", "between", [10, 100]), make_profile(employees=10), "met"),
    (cond("employees", "between", [10, 100]), make_profile(employees=100), "met"),
    (cond("employees", "between", [10, 100]), make_profile(employees=9), "unmet"),
    (cond("employees", "between", [10, 100]), make_profile(employees=101), "unmet"),
    (cond("employees", "between", [10, 100]), EMPTY, "unknown"),
    # money and ratios are Decimals in profiles; rules hold JSON numbers
    (cond("revenue", "gte", 2000), make_profile(revenue=Decimal("2000.00")), "met"),
    (cond("revenue", "gte", 2000), make_profile(revenue=Decimal("1999.99")), "unmet"),
    (cond("revenue", "gte", 2000), EMPTY, "unknown"),
    (cond("revenue", "between", [500.5, 1000]), make_profile(revenue=Decimal("500.5")), "met"),
    (cond("total_assets", "lt", 5000), make_profile(total_assets=Decimal("4999.9")), "met"),
    (cond("total_assets", "lt", 5000), make_profile(total_assets=Decimal("5000")), "unmet"),
    (cond("total_assets", "lte", 5000), EMPTY, "unknown"),
    (cond("rd_expense_ratio", "gte", 3.5), make_profile(rd_expense_ratio=Decimal("3.5")), "met"),
    (cond("rd_expense_ratio", "gte", 0.1), make_profile(rd_expense_ratio=Decimal("0.1")), "met"),
    (cond("rd_expense_ratio", "gte", 0.1), make_profile(rd_expense_ratio=0.1), "met"),
    (cond("rd_expense_ratio", "gt", 0.1), make_profile(rd_expense_ratio=Decimal("0.1")), "unmet"),
    (cond("rd_expense_ratio", "gt", 3), EMPTY, "unknown"),
    # the counts added as one definition each (社保缴纳人数, 有效发明专利数, 研发人员数): every comparison
    *[
        case
        for fact in ("social_insurance_staff", "invention_patents", "rd_staff")
        for case in (
            (cond(fact, "gte", 10), make_profile(**{fact: 10}), "met"),
            (cond(fact, "gte", 10), make_profile(**{fact: 9}), "unmet"),
            (cond(fact, "gt", 10), make_profile(**{fact: 11}), "met"),
            (cond(fact, "gt", 10), make_profile(**{fact: 10}), "unmet"),
            (cond(fact, "lte", 10), make_profile(**{fact: 10}), "met"),
            (cond(fact, "lte", 10), make_profile(**{fact: 11}), "unmet"),
            (cond(fact, "lt", 10), make_profile(**{fact: 9}), "met"),
            (cond(fact, "lt", 10), make_profile(**{fact: 10}), "unmet"),
            (cond(fact, "between", [1, 10]), make_profile(**{fact: 0}), "unmet"),
            (cond(fact, "between", [1, 10]), make_profile(**{fact: 1}), "met"),
            (cond(fact, "gte", 1), EMPTY, "unknown"),
        )
    ],
    # age_years: whole years as of the evaluation date (DAY = 2025-06-30)
    (cond("age_years", "gte", 5), make_profile(established_on=date(2020, 6, 30)), "met"),
    (cond("age_years", "gte", 5), make_profile(established_on=date(2020, 7, 1)), "unmet"),
    (cond("age_years", "gt", 4), make_profile(established_on=date(2020, 6, 30)), "met"),
    (cond("age_years", "gt", 4), make_profile(established_on=date(2020, 7, 1)), "unmet"),
    (cond("age_years", "lte", 4), make_profile(established_on=date(2020, 7, 1)), "met"),
    (cond("age_years", "lte", 4), make_profile(established_on=date(2020, 6, 30)), "unmet"),
    (cond("age_years", "lt", 5), make_profile(established_on=date(2020, 7, 1)), "met"),
    (cond("age_years", "lt", 5), make_profile(established_on=date(2020, 6, 30)), "unmet"),
    (cond("age_years", "between", [1, 3]), make_profile(established_on=date(2024, 6, 30)), "met"),
    (cond("age_years", "between", [1, 3]), make_profile(established_on=date(2024, 7, 1)), "unmet"),
    (cond("age_years", "lt", 3), EMPTY, "unknown"),
    # qualification: one of that kind valid on the date; no record is a known "does not hold"
    (cond("qualification", "has", "high_tech"), make_profile(qualifications=(qualification(),)), "met"),
    (cond("qualification", "has", "gazelle"), make_profile(qualifications=(qualification(),)), "unmet"),
    (cond("qualification", "has", "high_tech"), EMPTY, "unmet"),
    # zone / park: any site (一照多址)
    (cond("zone", "in", ["tech_ecology"]), make_profile(sites=(site("tech_ecology"),)), "met"),
    (
        cond("zone", "in", ["tech_ecology"]),
        make_profile(sites=(site("business_innovation"), site("tech_ecology"))),
        "met",
    ),
    (cond("zone", "in", ["tech_ecology"]), make_profile(sites=(site("business_innovation"),)), "unmet"),
    (cond("zone", "in", ["tech_ecology"]), make_profile(sites=(site("business_innovation"), site(None))), "unknown"),
    (cond("zone", "in", ["tech_ecology"]), make_profile(sites=(site(None), site("tech_ecology"))), "met"),
    (cond("zone", "in", ["tech_ecology"]), EMPTY, "unknown"),
    (cond("park", "in", ["taihu_science_city"]), make_profile(sites=(site(parks=("taihu_science_city",)),)), "met"),
    (cond("park", "in", ["taihu_science_city"]), make_profile(sites=(site(), site(parks=("hefeng_park",)))), "unmet"),
    (cond("park", "in", ["taihu_science_city"]), EMPTY, "unknown"),
    # tax credit rating
    (cond("tax_credit_rating", "in", ["A", "B"]), make_profile(tax_credit_rating="A"), "met"),
    (cond("tax_credit_rating", "in", ["A", "B"]), make_profile(tax_credit_rating="C"), "unmet"),
    (cond("tax_credit_rating", "in", ["A"]), EMPTY, "unknown"),
    (cond("tax_credit_rating", "not_in", ["D"]), make_profile(tax_credit_rating="A"), "met"),
    (cond("tax_credit_rating", "not_in", ["D"]), make_profile(tax_credit_rating="D"), "unmet"),
    (cond("tax_credit_rating", "not_in", ["D"]), EMPTY, "unknown"),
    # booleans
    (cond("dishonest", "eq", False), make_profile(dishonest=False), "met"),
    (cond("dishonest", "eq", False), make_profile(dishonest=True), "unmet"),
    (cond("dishonest", "eq", False), EMPTY, "unknown"),
    (cond("dishonest", "eq", True), make_profile(dishonest=True), "met"),
    (cond("above_designated_size", "eq", True), make_profile(above_designated_size=True), "met"),
    (cond("above_designated_size", "eq", True), make_profile(above_designated_size=False), "unmet"),
    (cond("above_designated_size", "eq", True), EMPTY, "unknown"),
    # foreign investor country ("" = no foreign investor, a known value)
    (cond("foreign_investor_country", "in", ["JP"]), make_profile(foreign_investor_country="JP"), "met"),
    (cond("foreign_investor_country", "in", ["JP"]), make_profile(foreign_investor_country="US"), "unmet"),
    (cond("foreign_investor_country", "in", ["JP"]), make_profile(foreign_investor_country=""), "unmet"),
    (cond("foreign_investor_country", "in", ["JP"]), EMPTY, "unknown"),
]


# Money and ratio facts share one implementation: each comparison on both sides of its boundary.
for _name in ("revenue", "total_assets", "rd_expense_ratio"):
    OPERATOR_CASES += [
        (cond(_name, "gte", 100), make_profile(**{_name: Decimal("100")}), "met"),
        (cond(_name, "gte", 100), make_profile(**{_name: Decimal("99.99")}), "unmet"),
        (cond(_name, "gt", 100), make_profile(**{_name: Decimal("100.01")}), "met"),
        (cond(_name, "gt", 100), make_profile(**{_name: Decimal("100")}), "unmet"),
        (cond(_name, "lte", 100.5), make_profile(**{_name: Decimal("100.5")}), "met"),
        (cond(_name, "lte", 100.5), make_profile(**{_name: Decimal("100.51")}), "unmet"),
        (cond(_name, "lt", 100), make_profile(**{_name: Decimal("99.99")}), "met"),
        (cond(_name, "lt", 100), make_profile(**{_name: 100}), "unmet"),
        (cond(_name, "between", [50, 100]), make_profile(**{_name: Decimal("50")}), "met"),
        (cond(_name, "between", [50, 100]), make_profile(**{_name: Decimal("100.01")}), "unmet"),
    ]


@pytest.mark.parametrize(
    ("condition", "profile", "expected"),
    OPERATOR_CASES,
    ids=[f"{c['fact']}-{c['op']}-{i}" for i, (c, _, _) in enumerate(OPERATOR_CASES)],
)
def test_operator(condition: dict, profile: EnterpriseProfile, expected: str) -> None:
    assert result(condition, profile) == expected


# A valid value for each (fact, op), to check that a missing fact makes every operator unknown.
SAMPLE_VALUES = {
    "under": ["65"],
    "in": None,  # per fact below
    "not_in": None,
    "gte": 1,
    "gt": 1,
    "lte": 1,
    "lt": 1,
    "between": [1, 2],
    "has": "high_tech",
    "eq": True,
}
SAMPLE_LISTS = {
    "size": ["small"],
    "zone": ["tech_ecology"],
    "park": ["taihu_science_city"],
    "tax_credit_rating": ["A"],
    "foreign_investor_country": ["JP"],
}


def test_every_fact_and_operator_has_met_and_unmet_cases() -> None:
    covered: dict[tuple[str, str], set[str]] = {}
    for condition, _, expected in OPERATOR_CASES:
        covered.setdefault((condition["fact"], condition["op"]), set()).add(expected)
    for spec in FACTS.values():
        for op in spec.operators:
            assert {"met", "unmet"} <= covered.get((spec.name, op), set()), (spec.name, op)


@pytest.mark.parametrize(("name", "op"), [(spec.name, op) for spec in FACTS.values() for op in spec.operators])
def test_every_operator_is_unknown_when_the_fact_is_missing(name: str, op: str) -> None:
    value = SAMPLE_LISTS[name] if op in ("in", "not_in") else SAMPLE_VALUES[op]
    # Qualifications are a list of what the enterprise holds: nothing listed is a known "does not hold".
    expected = "unmet" if name == "qualification" else "unknown"

    assert result(cond(name, op, value), EMPTY) == expected


def test_the_registry_has_the_required_facts() -> None:
    assert set(FACTS) >= {
        "industry",
        "size",
        "employees",
        "revenue",
        "total_assets",
        "rd_expense_ratio",
        "age_years",
        "qualification",
        "zone",
        "park",
        "tax_credit_rating",
        "dishonest",
        "above_designated_size",
        "foreign_investor_country",
    }
    assert fact_spec("industry").operators == ("under",)
    assert fact_spec("age_years").operators == ("gte", "gt", "lte", "lt", "between")
    assert fact_spec("qualification").label == "企业资质"
    with pytest.raises(KeyError):
        fact_spec("nope")


@pytest.mark.parametrize(
    ("established", "on", "years"),
    [
        (date(2020, 6, 30), date(2025, 6, 29), 4),  # the day before the anniversary
        (date(2020, 6, 30), date(2025, 6, 30), 5),  # the anniversary itself counts
        (date(2020, 2, 29), date(2021, 2, 28), 0),  # a 29 February enterprise completes its year on 1 March
        (date(2020, 2, 29), date(2021, 3, 1), 1),
        (date(2020, 2, 29), date(2024, 2, 29), 4),
        (date(2025, 6, 30), date(2025, 6, 30), 0),
    ],
)
def test_age_years_counts_whole_years_on_the_evaluation_date(established: date, on: date, years: int) -> None:
    profile = make_profile(established_on=established)

    assert fact_spec("age_years").read(profile, on) == Fact(
        years, "market_regulation", profile.facts["established_on"].as_of
    )
    assert result(cond("age_years", "gte", years), profile, on) == "met"
    assert result(cond("age_years", "gt", years), profile, on) == "unmet"


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2022, 12, 31), "unmet"),  # not yet in force
        (date(2023, 1, 1), "met"),  # valid_from is inclusive
        (date(2025, 12, 31), "met"),  # valid_to is inclusive
        (date(2026, 1, 1), "unmet"),  # expired
    ],
)
def test_qualification_validity_boundaries(on: date, expected: str) -> None:
    profile = make_profile(qualifications=(qualification(valid_from=date(2023, 1, 1), valid_to=date(2025, 12, 31)),))

    assert result(cond("qualification", "has", "high_tech"), profile, on) == expected


def test_qualification_without_end_date_stays_valid() -> None:
    profile = make_profile(qualifications=(qualification(valid_from=date(2023, 1, 1), valid_to=None),))

    assert result(cond("qualification", "has", "high_tech"), profile, date(2099, 1, 1)) == "met"


def test_a_malformed_profile_value_is_unknown_not_an_error() -> None:
    profile = make_profile(employees="很多", industry_code=6520, dishonest="否", established_on="2020-01-01")

    assert result(cond("employees", "gte", 1), profile) == "unknown"
    assert result(cond("industry", "under", ["65"]), profile) == "unknown"
    assert result(cond("dishonest", "eq", False), profile) == "unknown"
    assert result(cond("age_years", "gte", 1), profile) == "unknown"


def test_a_fact_whose_value_is_none_is_unknown() -> None:
    profile = make_profile(employees=None)

    assert result(cond("employees", "gte", 1), profile) == "unknown"
    assert fact_spec("employees").read(profile, DAY) is None


def test_evidence_prefers_a_verified_record_when_several_satisfy_the_condition() -> None:
    declared = qualification(source="self_declared")
    official = qualification(source="science_tech")
    check = fact_spec("qualification").checker("has", "high_tech")

    assert check(make_profile(qualifications=(declared, official)), DAY) == (MET, official)
    assert check(make_profile(qualifications=(declared,)), DAY) == (MET, declared)

    zone_check = fact_spec("zone").checker("in", ["tech_ecology"])
    filed, declared_site = site(source="market_regulation"), site(source="self_declared")
    assert zone_check(make_profile(sites=(declared_site, filed)), DAY) == (MET, filed)


def test_unmet_evidence_for_sites_rests_on_the_weakest_source() -> None:
    check = fact_spec("zone").checker("in", ["tech_ecology"])
    profile = make_profile(sites=(site("business_innovation"), site("advanced_manufacturing", source="self_declared")))

    value, evidence = check(profile, DAY)

    assert value == UNMET
    assert evidence is not None
    assert evidence.value == ("business_innovation", "advanced_manufacturing")
    assert evidence.source == "self_declared"


def test_reads_return_value_source_and_date_or_none() -> None:
    profile = make_profile(
        industry_code="6520",
        qualifications=(qualification(), qualification("gazelle", valid_to=date(2024, 1, 1))),
        sites=(site("tech_ecology", ("taihu_science_city",)), site("business_innovation")),
    )

    assert FACTS["industry"].read(profile, DAY) == Fact(
        "6520", "market_regulation", profile.facts["industry_code"].as_of
    )
    assert FACTS["qualification"].read(profile, DAY).value == ("high_tech",)  # gazelle has expired
    assert FACTS["zone"].read(profile, DAY).value == ("tech_ecology", "business_innovation")
    assert FACTS["park"].read(profile, DAY).value == ("taihu_science_city",)
    assert FACTS["zone"].read(EMPTY, DAY) is None
    assert FACTS["revenue"].read(EMPTY, DAY) is None
    assert FACTS["qualification"].read(EMPTY, DAY).value == ()


def test_verified_sources() -> None:
    assert FACTS["employees"].verified_sources == DEPARTMENT_SOURCES
    assert "self_declared" not in FACTS["industry"].verified_sources
    # A tax credit rating is the tax bureau's: another department's copy does not verify it.
    assert FACTS["tax_credit_rating"].is_verified(Fact("A", "tax"))
    assert not FACTS["tax_credit_rating"].is_verified(Fact("A", "statistics"))
    assert not FACTS["employees"].is_verified(None)


@pytest.mark.parametrize(
    ("source", "verified"),
    [
        (None, False),
        ("", False),
        ("tax", True),
        ("self_declared", False),
        ("statistics+tax", True),  # a derived fact (企业规模) verified by every department it names
        ("statistics+self_declared", False),
        ("tax+", False),  # a joined source with an empty part names no department there
        ("+", False),
        ("unknown_office", False),
    ],
)
def test_a_source_is_verified_only_when_every_department_it_names_is_accepted(
    source: str | None, verified: bool
) -> None:
    assert sources_within(source, DEPARTMENT_SOURCES) is verified
    assert FACTS["employees"].is_verified(None if source is None else Fact(10, source)) is verified


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("industry", "6520", "集成电路设计（6520）"),
        ("size", "small", "小型"),
        ("employees", 150, "150人"),
        ("revenue", Decimal("2000.00"), "2000万元"),
        ("rd_expense_ratio", Decimal("3.50"), "3.5%"),
        ("rd_expense_ratio", 0.1, "0.1%"),
        ("tax_credit_rating", "A", "A级"),
        ("dishonest", False, "未被列为失信主体"),
        ("above_designated_size", True, "属于规模以上企业"),
        ("foreign_investor_country", "JP", "日本"),
        ("foreign_investor_country", "", "无外资"),
        ("foreign_investor_country", "ZZ", "ZZ"),
        ("zone", ("tech_ecology", "business_innovation"), "科技生态功能区、商务创新功能区"),
        ("park", (), "不在特色园区内"),
        ("age_years", date(2020, 6, 30), "5年（2020-06-30成立）"),
    ],
)
def test_actual_values_are_shown_in_plain_chinese(name: str, value: object, shown: str) -> None:
    assert FACTS[name].display(value, DAY) == shown


def test_qualification_display_says_valid_expired_or_not_yet() -> None:
    spec = FACTS["qualification"]
    record = qualification(valid_from=date(2023, 1, 1), valid_to=date(2025, 12, 31))

    assert spec.display(record, DAY) == "高新技术企业（有效，2023-01-01至2025-12-31，证书编号GR202332000001）"
    assert spec.display((record,), date(2026, 1, 1)).startswith("高新技术企业（已过期")
    assert spec.display((record,), date(2022, 1, 1)).startswith("高新技术企业（尚未生效")
    assert spec.display(None, DAY) == "无"


def test_administrators_zone_names_reach_the_wording() -> None:
    zone = FACTS["zone"]
    before = zone.choices
    try:
        assert zone.wording("in", ["west_lake_zone"]) == "经营场所位于：west_lake_zone"
        set_place_names(zones={"west_lake_zone": "西部新区"})
        assert zone.wording("in", ["west_lake_zone", "tech_ecology"]) == "经营场所位于：西部新区、科技生态功能区"
        rule = cond("zone", "in", ["west_lake_zone"])
        from matching.core.evaluator import evaluate

        outcome = evaluate(rule, make_profile(sites=(site("west_lake_zone"),)), on=DAY)
        assert outcome.conditions[0].wording == "经营场所位于：西部新区"
        assert outcome.conditions[0].actual == "西部新区"
    finally:
        object.__setattr__(zone, "choices", before)
