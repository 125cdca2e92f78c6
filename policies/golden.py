"""Golden cases: example profiles (catalogue JSON format) and the check that a rule gives each its expected outcome.

A golden profile is plain JSON, the format of `golden_cases[].profile` in policies/catalogue/policies.json::

    {"industry_code": "6520", "employees": 80, "revenue": 5000, "total_assets": 3000,
     "established_on": "2018-05-01", "size": "small", "tax_credit_rating": "A", "dishonest": false,
     "above_designated_size": true, "foreign_investor_country": "", "rd_expense_ratio": 8.5,
     "qualifications": [{"kind": "high_tech", "valid_from": "2024-01-01", "valid_to": "2026-12-31"}],
     "sites": [{"township_code": "320505407", "zone": "tech_ecology", "parks": ["kjc_ngit_park"]}],
     "sources": "department"}

Every key is optional: a missing key is an unknown fact. Facts are taken as given (size is not
derived). "sources": "department" gives each fact the department that would share it (verified);
"self_declared" (the default) marks them all as declared by the enterprise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from matching.core.evaluator import compile_rule
from matching.core.industries import is_class_code
from matching.core.profile import EnterpriseProfile, Fact, QualificationRecord, SiteRecord
from matching.core.reading import Channel
from matching.core.registry import FACTS, FactSpec, ValueType, format_number, scalar_facts
from matching.core.vocabulary import (
    INITIAL_PLACES,
    QUALIFICATION_KINDS,
    SELF_DECLARED,
    PlaceNames,
)

if TYPE_CHECKING:
    from policies.models import PolicyVersion


# Which department would share each fact (部门信息共享) when a golden profile says "department": every
# scalar fact of the registry, by its definition's `golden_department`.
DEPARTMENT_OF_FACT: dict[str, str] = {spec.profile_key: spec.golden_department for spec in scalar_facts()}
_SPEC_OF_KEY: dict[str, FactSpec] = {spec.profile_key: spec for spec in scalar_facts()}
INDUSTRY_INFO_QUALIFICATIONS = frozenset(
    {"specialized_sme", "little_giant", "single_champion", "service_manufacturing"}
)

# Every key a golden profile may hold, with a value of the right shape (each fact's definition's
# `example`; the console's golden-case form shows it as the JSON box's help, and a test checks it is accepted).
EXAMPLE_PROFILE: dict[str, Any] = {
    **{spec.profile_key: spec.example for spec in scalar_facts()},
    "qualifications": [{"kind": "high_tech", "valid_from": "2024-01-01", "valid_to": "2026-12-31"}],
    "sites": [{"township_code": "320505407", "zone": "tech_ecology", "parks": ["kjc_ngit_park"]}],
    "sources": "department",
}
_KNOWN_KEYS = frozenset({*DEPARTMENT_OF_FACT, "qualifications", "sites", "sources"})


class GoldenProfileError(ValueError):
    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.code = code
        self.message = message


def _date(value: Any, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise GoldenProfileError(field, "invalid_date", "日期格式应为 YYYY-MM-DD") from None


def _choice(value: Any, allowed: Mapping[str, str], field: str) -> str:
    if value not in allowed:
        raise GoldenProfileError(field, "invalid_choice", f"不是有效的选项：{value}")
    return value


def _at_most(name: str, value: Any) -> Any:
    """The value, unless it is above the registry's limit for the fact (an absurd figure is refused)."""
    spec = FACTS[name]
    if spec.maximum is not None and value > spec.maximum:
        raise GoldenProfileError(spec.profile_key, "out_of_range", f"不能超过{format_number(spec.maximum)}{spec.unit}")
    return value


def _fact_value(key: str, value: Any) -> Any:
    """The value of one scalar fact, checked by its registry definition's value type."""
    spec = _SPEC_OF_KEY[key]
    if spec.type is ValueType.INDUSTRY:
        if not is_class_code(value):
            raise GoldenProfileError(key, "invalid_industry", "应为 GB/T 4754-2017 的4位小类代码")
        return value
    if key == "established_on":
        return _date(value, key)
    if spec.type is ValueType.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise GoldenProfileError(key, "invalid_number", "应为非负整数")
        return _at_most(spec.name, value)
    if spec.type is ValueType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise GoldenProfileError(key, "invalid_number", "应为数字")
        if isinstance(value, str):  # read as a file's number is (the fact's FILE syntax): never a huge text
            text = spec.syntax(Channel.FILE).text(value)
            if text is None:
                raise GoldenProfileError(key, "invalid_number", "应为数字")
            value = text
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise GoldenProfileError(key, "invalid_number", "应为数字") from None
        if not number.is_finite():
            raise GoldenProfileError(key, "invalid_number", "应为数字")
        if number < 0:
            raise GoldenProfileError(key, "invalid_number", "应为非负数")
        return _at_most(spec.name, number)
    if spec.type is ValueType.BOOLEAN:
        if not isinstance(value, bool):
            raise GoldenProfileError(key, "invalid_boolean", "应为 true 或 false")
        return value
    if spec.type is ValueType.CHOICE:
        return _choice(value, spec.choices, key)
    if spec.type is ValueType.COUNTRY:
        if not isinstance(value, str) or (value and not (len(value) == 2 and value.isascii() and value.isupper())):
            raise GoldenProfileError(key, "invalid_country", "应为 ISO 3166 两位字母代码，无外资填空字符串")
        return value
    raise GoldenProfileError(key, "unknown_fact", "未知的企业信息项")  # pragma: no cover - guarded by caller


def golden_profile(data: Any, *, name: str = "", places: PlaceNames | None = None) -> EnterpriseProfile:
    """Build the EnterpriseProfile a golden case describes; GoldenProfileError names the bad field.

    Zones, parks and townships are checked against `places`: the database's, which every caller with a
    database passes (portal.enterprises.place_names); without, the initial places (the catalogue file's check).
    """
    places = places or INITIAL_PLACES
    if not isinstance(data, Mapping):
        raise GoldenProfileError("", "invalid", "企业画像应为 JSON 对象")
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise GoldenProfileError(unknown[0], "unknown_fact", "未知的企业信息项")
    sources = data.get("sources", SELF_DECLARED)
    if sources not in ("department", SELF_DECLARED):
        raise GoldenProfileError("sources", "invalid_choice", "应为 department 或 self_declared")
    by_department = sources == "department"

    facts: dict[str, Fact] = {}
    for key in DEPARTMENT_OF_FACT:
        if key in data and data[key] is not None:
            source = DEPARTMENT_OF_FACT[key] if by_department else SELF_DECLARED
            facts[key] = Fact(_fact_value(key, data[key]), source)

    qualifications = []
    for index, item in enumerate(data.get("qualifications") or []):
        field = f"qualifications[{index}]"
        if not isinstance(item, Mapping):
            raise GoldenProfileError(field, "invalid", "资质应为 JSON 对象")
        kind = _choice(item.get("kind"), QUALIFICATION_KINDS, f"{field}.kind")
        valid_from = _date(item.get("valid_from"), f"{field}.valid_from")
        valid_to = _date(item["valid_to"], f"{field}.valid_to") if item.get("valid_to") else None
        if valid_to is not None and valid_to < valid_from:
            raise GoldenProfileError(f"{field}.valid_to", "invalid_period", "有效期截止早于起始")
        if by_department:
            source = "industry_info" if kind in INDUSTRY_INFO_QUALIFICATIONS else "science_tech"
        else:
            source = SELF_DECLARED
        qualifications.append(QualificationRecord(kind=kind, valid_from=valid_from, valid_to=valid_to, source=source))

    sites = []
    for index, item in enumerate(data.get("sites") or []):
        field = f"sites[{index}]"
        if not isinstance(item, Mapping):
            raise GoldenProfileError(field, "invalid", "经营场所应为 JSON 对象")
        township = item.get("township_code", "")
        if township and township not in places.township_zones:
            raise GoldenProfileError(f"{field}.township_code", "invalid_choice", f"不是高新区的镇（街道）：{township}")
        zone = item.get("zone") or (places.township_zones[township] if township else None)
        if zone is not None:
            _choice(zone, places.zones, f"{field}.zone")
        parks = tuple(item.get("parks") or ())
        for park in parks:
            _choice(park, places.parks, f"{field}.parks")
        # A 一照多址 filing is a market-regulation record; a self-declared case says so.
        sites.append(
            SiteRecord(
                township_code=township,
                zone_code=zone,
                park_codes=parks,
                source="market_regulation" if by_department else SELF_DECLARED,
            )
        )

    return EnterpriseProfile(
        credit_code="", name=name, facts=facts, qualifications=tuple(qualifications), sites=tuple(sites)
    )


def golden_date(*, effective_from: date, effective_to: date | None, on: date | None, today: date) -> date:
    """The date a golden case is evaluated on: its own date, else today moved into the effective period.

    A golden case checks the rule, not the calendar: a version written for next year is checked as
    of its first day, an expired one as of its last.
    """
    if on is not None:
        return on
    day = max(today, effective_from)
    if effective_to is not None:
        day = min(day, effective_to)
    return day


@dataclass(frozen=True, slots=True)
class GoldenInput:
    name: str
    profile: Any
    expected: str
    on: date | None = None


@dataclass(frozen=True, slots=True)
class GoldenResult:
    name: str
    expected: str
    actual: str
    on: date
    passed: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.name,
            "expected": self.expected,
            "actual": self.actual,
            "on": self.on.isoformat(),
            "passed": self.passed,
            "reason": self.reason,
        }


OUTCOME_LABELS = {"eligible": "符合条件", "needs_info": "需补充信息", "ineligible": "不符合条件"}


def golden_check_cases(
    *,
    rule: Any,
    effective_from: date,
    effective_to: date | None,
    cases: Iterable[GoldenInput],
    today: date | None = None,
    places: PlaceNames | None = None,
) -> list[GoldenResult]:
    """Evaluate each case against `rule`; a case whose profile is malformed fails with the reason.

    `places`: the database's zones, parks and townships (see golden_profile)."""
    today = today or timezone.localdate()
    compiled = compile_rule(rule)
    results = []
    for case in cases:
        on = golden_date(effective_from=effective_from, effective_to=effective_to, on=case.on, today=today)
        expected_label = OUTCOME_LABELS.get(case.expected, case.expected)
        try:
            profile = golden_profile(case.profile, name=case.name, places=places)
        except GoldenProfileError as error:
            results.append(
                GoldenResult(
                    case.name, case.expected, "invalid_profile", on, False, f"案例「{case.name}」画像有误：{error}"
                )
            )
            continue
        outcome = compiled.evaluate(profile, on=on)
        passed = outcome.status == case.expected
        actual_label = OUTCOME_LABELS.get(outcome.status, outcome.status)
        if passed:
            reason = f"案例「{case.name}」通过：{actual_label}"
        else:
            reason = (
                f"案例「{case.name}」预期{expected_label}，实际{actual_label}（{on.isoformat()}）：{outcome.summary}"
            )
        results.append(GoldenResult(case.name, case.expected, str(outcome.status), on, passed, reason))
    return results


def golden_check(version: PolicyVersion, *, places: PlaceNames, today: date | None = None) -> list[GoldenResult]:
    """Check a PolicyVersion's stored golden cases against the database's `places`."""
    cases = [GoldenInput(c.name, c.profile, c.expected, c.on) for c in version.golden_cases.all()]
    return golden_check_cases(
        rule=version.rule,
        effective_from=version.effective_from,
        effective_to=version.effective_to,
        cases=cases,
        today=today,
        places=places,
    )
