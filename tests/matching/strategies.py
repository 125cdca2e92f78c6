"""Hypothesis strategies for rules and enterprise profiles, shared by the evaluator and bulk tests."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from matching.core.profile import EnterpriseProfile, Fact, QualificationRecord, SiteRecord

ON = st.sampled_from([date(2024, 2, 29), date(2025, 6, 30), date(2025, 12, 31), date(2026, 1, 1)])
SOURCES = st.sampled_from(["self_declared", "market_regulation", "tax", "statistics", "science_tech", "credit"])


def sublist(options: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(options), min_size=1, max_size=3, unique=True)


NUMBER_OPS = st.sampled_from(["gte", "gt", "lte", "lt", "between"])


def numeric(fact: str, points: list[Any]) -> st.SearchStrategy[dict[str, Any]]:
    def build(op: str, a: Any, b: Any) -> dict[str, Any]:
        value = sorted([a, b]) if op == "between" else a
        return {"fact": fact, "op": op, "value": value}

    return st.builds(build, NUMBER_OPS, st.sampled_from(points), st.sampled_from(points))


# One strategy per registry fact, every operator (tests/matching/test_fact_definitions.py checks that
# each fact has one, so the property tests that hold the paths equal cover every fact).
FACT_CONDITIONS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "industry": st.builds(
        lambda v: {"fact": "industry", "op": "under", "value": v},
        sublist(["65", "652", "6520", "C", "39", "3973", "I", "13", "M"]),
    ),
    "size": st.builds(
        lambda op, v: {"fact": "size", "op": op, "value": v},
        st.sampled_from(["in", "not_in"]),
        sublist(["large", "medium", "small", "micro"]),
    ),
    "employees": numeric("employees", [10, 100]),
    "revenue": numeric("revenue", [100, 2000.5]),
    "total_assets": numeric("total_assets", [100, 2000.5]),
    "rd_expense_ratio": numeric("rd_expense_ratio", [0.1, 3]),
    "age_years": numeric("age_years", [1, 3, 5]),
    "social_insurance_staff": numeric("social_insurance_staff", [10, 100]),
    "invention_patents": numeric("invention_patents", [0, 3]),
    "rd_staff": numeric("rd_staff", [5, 50]),
    "qualification": st.builds(
        lambda v: {"fact": "qualification", "op": "has", "value": v}, st.sampled_from(["high_tech", "gazelle"])
    ),
    "zone": st.builds(
        lambda v: {"fact": "zone", "op": "in", "value": v}, sublist(["tech_ecology", "business_innovation"])
    ),
    "park": st.builds(
        lambda v: {"fact": "park", "op": "in", "value": v}, sublist(["hefeng_park", "taihu_science_city"])
    ),
    "tax_credit_rating": st.builds(
        lambda op, v: {"fact": "tax_credit_rating", "op": op, "value": v},
        st.sampled_from(["in", "not_in"]),
        sublist(["A", "B", "D"]),
    ),
    "dishonest": st.builds(lambda v: {"fact": "dishonest", "op": "eq", "value": v}, st.booleans()),
    "above_designated_size": st.builds(
        lambda v: {"fact": "above_designated_size", "op": "eq", "value": v}, st.booleans()
    ),
    "foreign_investor_country": st.builds(
        lambda v: {"fact": "foreign_investor_country", "op": "in", "value": v}, sublist(["JP", "US"])
    ),
}
CONDITIONS = st.one_of(*FACT_CONDITIONS.values())

# Conditions no data decides: an enterprise's commitment, a department's judgement (with or without
# the department named). Wording with quotes and an apostrophe, which the SQL must never see.
PENDING = st.one_of(
    st.builds(lambda t: {"attest": t}, st.sampled_from(["近三年无重大安全生产事故", "诚信经营，无违法记录'"])),
    st.builds(lambda t: {"judge": t}, st.sampled_from(["属于行业领先企业", "项目具有示范带动作用"])),
    st.builds(lambda t: {"judge": t, "department": "工业和信息化局"}, st.sampled_from(["属于行业领先企业"])),
)

# Rules of fact conditions only: what a `not` may wrap (validation keeps attestations out of `not`).
FACT_RULES = st.recursive(
    CONDITIONS,
    lambda children: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, children),
    ),
    max_leaves=7,
)

# Every kind of node: facts, attestations and judgements anywhere but under a `not`.
RULES = st.recursive(
    st.one_of(CONDITIONS, PENDING),
    lambda children: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, FACT_RULES),
    ),
    max_leaves=7,
)


def maybe(values: list[Any]) -> st.SearchStrategy[Any]:
    return st.sampled_from([None, *values])


# A value (or None: unknown) for every scalar fact's profile key, on both sides of the rules' bounds.
SCALAR_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "industry_code": maybe(["6520", "3973", "1310", "4411", "7320", "6511"]),
    "size": maybe(["large", "medium", "small", "micro"]),
    "employees": maybe([0, 9, 10, 11, 99, 100, 101]),
    "revenue": maybe([Decimal("99.99"), Decimal(100), Decimal("2000.5"), Decimal(5000)]),
    "total_assets": maybe([Decimal(100), Decimal("2000.49"), Decimal("2000.5")]),
    "rd_expense_ratio": maybe([Decimal("0.1"), 0.1, Decimal("2.99"), Decimal(3), Decimal(7)]),
    "established_on": maybe([date(2020, 2, 29), date(2022, 6, 30), date(2024, 7, 1), date(2025, 6, 30)]),
    "tax_credit_rating": maybe(["A", "B", "M", "D"]),
    "dishonest": maybe([True, False]),
    "above_designated_size": maybe([True, False]),
    "foreign_investor_country": maybe(["", "JP", "US", "DE"]),
    "social_insurance_staff": maybe([0, 9, 10, 11, 100, 101]),
    "invention_patents": maybe([0, 2, 3, 4]),
    "rd_staff": maybe([0, 5, 50, 51]),
}


@st.composite
def profiles(draw: st.DrawFn) -> EnterpriseProfile:
    facts = {}
    for key, strategy in SCALAR_VALUES.items():
        value = draw(strategy)
        if value is not None:
            facts[key] = Fact(value, draw(SOURCES), date(2025, 1, 1))
    start = date(2025, 6, 30)
    quals = draw(
        st.lists(
            st.builds(
                lambda kind, begin, length, source: QualificationRecord(
                    kind,
                    start + timedelta(days=begin),
                    None if length is None else start + timedelta(days=length),
                    source,
                ),
                st.sampled_from(["high_tech", "gazelle"]),
                st.sampled_from([-800, -1, 0, 1]),
                st.sampled_from([None, -1, 0, 1, 184, 185]),
                SOURCES,
            ).filter(lambda q: q.valid_to is None or q.valid_to >= q.valid_from),
            max_size=3,
        )
    )
    sites = draw(
        st.lists(
            st.builds(
                lambda zone, parks, source: SiteRecord("320505407", zone, tuple(parks), source),
                maybe(["tech_ecology", "business_innovation", "advanced_manufacturing"]),
                st.lists(
                    st.sampled_from(["hefeng_park", "taihu_science_city", "finance_town"]), max_size=2, unique=True
                ),
                SOURCES,
            ),
            max_size=3,
        )
    )
    return EnterpriseProfile(credit_code="x", facts=facts, qualifications=tuple(quals), sites=tuple(sites))
