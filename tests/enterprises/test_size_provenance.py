"""Provenance that names the truth: the 企业规模 fact names the department(s) whose figures decided
the class (those at the class's tier), with their date, not the industry code's 市场监督管理局 nor
whichever input happens to be oldest."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from matching.core.evaluator import evaluate
from matching.core.profile import EnterpriseProfile
from matching.core.projection import facts_row
from matching.core.registry import FACTS, source_label
from portal.enterprises import sizing
from portal.enterprises.selectors import profile_facts

REGISTERED = date(2019, 5, 1)  # the industry code: oldest of all inputs
HEADCOUNT = date(2025, 3, 31)
TURNOVER = date(2025, 6, 30)


def size_fact(employees: int, revenue: int, *, employees_from: str = "statistics", revenue_from: str = "tax"):
    values = {"industry_code": "3973", "employees": employees, "revenue": Decimal(revenue)}
    provenance = {
        "industry_code": {"source": "market_regulation", "as_of": REGISTERED.isoformat()},
        "employees": {"source": employees_from, "as_of": HEADCOUNT.isoformat()},
        "revenue": {"source": revenue_from, "as_of": TURNOVER.isoformat()},
    }
    return profile_facts(values=values, provenance=provenance)["size"]


def test_the_headcount_decided_so_the_statistics_bureau_is_named_with_its_date() -> None:
    # 150 people is 小型 on its own, 8000万元 would be 中型: the headcount decides (lowest tier).
    assert sizing.classify(industry_code="3973", employees=150, revenue=Decimal(8000), total_assets=None).tiers == {
        "employees": "small",
        "revenue": "medium",
    }
    fact = size_fact(150, 8000)
    assert (fact.value, fact.source, fact.as_of) == ("small", "statistics", HEADCOUNT)
    assert source_label(fact.source) == "统计局"
    assert fact.verified


def test_the_revenue_decided_so_the_tax_bureau_is_named_with_its_date() -> None:
    fact = size_fact(400, 1000)  # 400 people: 中型; 1000万元: 小型
    assert (fact.value, fact.source, fact.as_of) == ("small", "tax", TURNOVER)


def test_both_figures_at_the_tier_name_both_departments_and_the_older_date() -> None:
    fact = size_fact(150, 1000)  # both 小型
    assert (fact.value, fact.source, fact.as_of) == ("small", "statistics+tax", HEADCOUNT)
    assert source_label(fact.source) == "统计局、税务局"
    assert fact.verified and FACTS["size"].is_verified(fact)
    assert facts_row({"size": fact}, has_sites=False)["size_verified"] is True  # the SQL path agrees


def test_one_department_for_both_figures_is_named_once() -> None:
    fact = size_fact(150, 1000, revenue_from="statistics")
    assert fact.source == "statistics"


def test_a_self_declared_input_makes_the_size_self_declared_even_when_it_did_not_decide() -> None:
    # The self-declared revenue is at a higher tier; were it wrong (lower), the class could change.
    fact = size_fact(150, 8000, revenue_from="self_declared")
    assert (fact.source, fact.verified) == ("self_declared", False)
    assert facts_row({"size": fact}, has_sites=False)["size_verified"] is False


def test_the_explanation_of_a_size_condition_names_the_deciding_department() -> None:
    profile = EnterpriseProfile(credit_code="", facts=profile_facts(
        values={"industry_code": "3973", "employees": 150, "revenue": Decimal(8000)},
        provenance={
            "industry_code": {"source": "market_regulation", "as_of": REGISTERED.isoformat()},
            "employees": {"source": "statistics", "as_of": HEADCOUNT.isoformat()},
            "revenue": {"source": "tax", "as_of": TURNOVER.isoformat()},
        },
    ))  # fmt: skip
    outcome = evaluate({"fact": "size", "op": "in", "value": ["small", "micro"]}, profile, on=date(2026, 1, 1))
    shown = outcome.to_dict()["conditions"][0]
    assert (outcome.status, outcome.verified) == ("eligible", True)
    assert (shown["source"], shown["source_label"], shown["as_of"]) == ("statistics", "统计局", "2025-03-31")
    assert "市场监督管理局" not in str(outcome.to_dict())
