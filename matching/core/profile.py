"""The enterprise profile (企业画像) as plain data: what the evaluator decides on.

Built from the database by `portal.enterprises.selectors`; built by hand in unit tests and by the
public 政策计算器 from what a visitor types. No Django imports here.

Scalar fact keys in `EnterpriseProfile.facts` (each a `Fact` with its source and date):
    industry_code (str, 4-digit GB/T 4754-2017 小类), established_on (date), employees (int),
    revenue (Decimal, 万元), total_assets (Decimal, 万元), rd_expense_ratio (Decimal, percent),
    above_designated_size (bool), foreign_investor_country (str, ISO 3166 alpha-2, "" for none),
    tax_credit_rating (str A/B/M/C/D), dishonest (bool), size (str, see vocabulary.SIZES),
    social_insurance_staff, invention_patents, rd_staff (int): one key per scalar fact of the
    registry (its `profile_key`).
A key that is absent, or whose value is None, is unknown (the condition on it is `unknown`).
`size` is derived from industry and indicators: its source names the department(s) whose
figures decided the class (those at the class's tier, joined with "+" when several), its date the
oldest of those; self_declared if any input was self-declared (it is then not verified).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .vocabulary import DEPARTMENT_SOURCES, sources_within


@dataclass(frozen=True, slots=True)
class Fact:
    value: Any
    source: str
    as_of: date | None = None

    @property
    def verified(self) -> bool:
        return sources_within(self.source, DEPARTMENT_SOURCES)


@dataclass(frozen=True, slots=True)
class QualificationRecord:
    kind: str  # vocabulary.QUALIFICATION_KINDS key
    valid_from: date
    valid_to: date | None  # None: no end date
    source: str
    as_of: date | None = None
    certificate_no: str = ""

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @property
    def verified(self) -> bool:
        return self.source in DEPARTMENT_SOURCES


@dataclass(frozen=True, slots=True)
class SiteRecord:
    township_code: str  # 9-digit 320505xxx
    zone_code: str | None  # vocabulary.ZONES key (as edited by administrators)
    park_codes: tuple[str, ...] = ()
    source: str = "market_regulation"  # a 一照多址 filing (备案) is an official record
    as_of: date | None = None

    @property
    def verified(self) -> bool:
        return self.source in DEPARTMENT_SOURCES


@dataclass(frozen=True, slots=True)
class EnterpriseProfile:
    credit_code: str
    name: str = ""
    facts: Mapping[str, Fact] = field(default_factory=dict)
    qualifications: tuple[QualificationRecord, ...] = ()
    sites: tuple[SiteRecord, ...] = ()

    def fact(self, key: str) -> Fact | None:
        """The fact for `key`, or None when it is missing or has no value."""
        found = self.facts.get(key)
        return found if found is not None and found.value is not None else None
