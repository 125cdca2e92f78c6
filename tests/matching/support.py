"""Plain-data builders for matching tests (no database: profiles are dataclasses)."""

from __future__ import annotations

from datetime import date
from typing import Any

from matching.core.profile import EnterpriseProfile, Fact, QualificationRecord, SiteRecord

DAY = date(2025, 6, 30)  # the evaluation date most tests use
AS_OF = date(2025, 3, 31)  # when department data was last shared

# A department source for each scalar fact, as the registry would record it.
DEPARTMENT = {
    "industry_code": "market_regulation",
    "established_on": "market_regulation",
    "employees": "statistics",
    "revenue": "tax",
    "total_assets": "tax",
    "rd_expense_ratio": "science_tech",
    "above_designated_size": "statistics",
    "foreign_investor_country": "market_regulation",
    "tax_credit_rating": "tax",
    "dishonest": "credit",
    "size": "statistics",
    "social_insurance_staff": "tax",
    "invention_patents": "market_regulation",
    "rd_staff": "science_tech",
}


def make_profile(
    *,
    source: str | None = None,
    qualifications: tuple[QualificationRecord, ...] = (),
    sites: tuple[SiteRecord, ...] = (),
    **values: Any,
) -> EnterpriseProfile:
    """A profile with the given scalar facts, each from its department (or from `source`)."""
    facts = {key: Fact(value=v, source=source or DEPARTMENT[key], as_of=AS_OF) for key, v in values.items()}
    return EnterpriseProfile(
        credit_code="91320505MA1XXXXXX0", name="示例企业", facts=facts, qualifications=qualifications, sites=sites
    )


def qualification(
    kind: str = "high_tech",
    valid_from: date = date(2023, 1, 1),
    valid_to: date | None = date(2025, 12, 31),
    source: str = "science_tech",
) -> QualificationRecord:
    return QualificationRecord(
        kind=kind, valid_from=valid_from, valid_to=valid_to, source=source, as_of=AS_OF, certificate_no="GR202332000001"
    )


def site(
    zone: str | None = "tech_ecology", parks: tuple[str, ...] = (), source: str = "market_regulation"
) -> SiteRecord:
    return SiteRecord(township_code="320505407", zone_code=zone, park_codes=parks, source=source, as_of=AS_OF)


def cond(fact: str, op: str, value: Any) -> dict[str, Any]:
    return {"fact": fact, "op": op, "value": value}
