"""Build an enterprise profile from what a visitor types into the public 政策计算器.

Every fact is `self_declared` (so no outcome from it is verified) and dated the day it is declared.
Nothing is derived that cannot be: size is taken as given or left unknown; a fact left out stays
unknown. No Django imports.

Accepted keys (all optional; None is the same as leaving a key out):
    name, credit_code                   str
    industry_code                       4-digit GB/T 4754-2017 小类
    size                                vocabulary.SIZES key
    employees, social_insurance_staff, invention_patents, rd_staff
                                        integer ≥ 0
    revenue, total_assets               number ≥ 0 (万元)
    rd_expense_ratio                    number ≥ 0 (percent)
                                        (each number at most the registry's `maximum` for the fact)
    established_on                      date or "YYYY-MM-DD", not after `on`, at most 200 years before
    age_years                           integer 0–200 (instead of established_on: the enterprise is
                                        taken to have been established exactly that many years before `on`)
    qualifications                      list of kind codes, or of {"kind", "valid_from", "valid_to"}
    zones, parks                        lists of zone / park codes of the enterprise's sites. With zones
                                        but no parks, the sites are taken to lie in no park; with parks
                                        but no zones, the zone stays unknown.
    tax_credit_rating                   A/B/M/C/D
    dishonest, above_designated_size    true / false
    foreign_investor_country            ISO 3166 alpha-2, "" for none
Every scalar fact of the registry is accepted under its profile key and read by its definition
(value type, `maximum`, and its number syntax for typed input), so a fact added there is accepted here.
Numbers may also be given as plain decimal strings (form input, "1,200.5"); a string in any other
form ("1e1000000", "12万") is refused before it is converted, so nothing huge is ever computed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .industries import is_class_code
from .profile import EnterpriseProfile, Fact, QualificationRecord, SiteRecord
from .reading import TYPED_NUMBER, Channel, NumberSyntax
from .registry import FACTS, ValueType, format_number, scalar_facts
from .vocabulary import QUALIFICATION_KINDS, SELF_DECLARED

MAX_LIST_ITEMS = 50
_MAX_DIGITS = 20  # a Decimal given directly (not text) may have at most this many integer digits
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PLACE_CODE = re.compile(r"[a-z0-9_]{1,64}")
_COUNTRY_CODE = re.compile(r"[A-Z]{2}")
_LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# Every scalar fact of the registry by its profile key (its definition says how it is read), plus
# the keys that describe records and places, and age_years as another way to give established_on.
FIELDS: tuple[str, ...] = (
    "name",
    "credit_code",
    *(spec.profile_key for spec in scalar_facts()),
    "age_years",
    "qualifications",
    "zones",
    "parks",
)


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str
    code: str
    message: str


class DeclaredFactsError(ValueError):
    """Facts a visitor typed that cannot be used. `field`, `code`, `message` name the first problem;
    `errors` lists them all. Codes: unknown_field, invalid, unknown_code, out_of_range, conflict."""

    def __init__(self, errors: list[FieldProblem]) -> None:
        self.errors = errors
        first = errors[0]
        self.field, self.code, self.message = first.field, first.code, first.message
        super().__init__(f"{first.field}：{first.message}")

    def as_fields(self) -> list[dict[str, str]]:
        """The problems in the API error format's `fields` shape."""
        return [{"field": e.field, "code": e.code, "message": e.message} for e in self.errors]


def today() -> date:
    """Today in 苏州 (the portal's time zone), without Django."""
    return datetime.now(tz=_LOCAL_TZ).date()


class _Reader:
    def __init__(self, facts: dict[str, Any], on: date) -> None:
        self.facts = facts
        self.on = on
        self.problems: list[FieldProblem] = []

    def fail(self, field: str, code: str, message: str) -> None:
        self.problems.append(FieldProblem(field, code, message))

    def get(self, key: str) -> Any:
        return self.facts.get(key)

    def integer(
        self,
        key: str,
        label: str,
        *,
        maximum: int | Decimal | None = None,
        unit: str = "",
        syntax: NumberSyntax = TYPED_NUMBER,
    ) -> int | None:
        number = self.number(key, label, maximum=maximum, unit=unit, syntax=syntax, whole=True)
        if number is None:
            return None
        if number != number.to_integral_value():
            self.fail(key, "invalid", f"{label}必须是整数")
            return None
        return int(number)

    def number(
        self,
        key: str,
        label: str,
        *,
        maximum: int | Decimal | None = None,
        unit: str = "",
        syntax: NumberSyntax = TYPED_NUMBER,
        whole: bool = False,
    ) -> Decimal | None:
        """A non-negative number not above `maximum`, from a number or a string written in `syntax`
        (the fact's way of reading typed text: reading.TYPED_NUMBER, plain decimals).

        Text is matched against a bounded pattern before anything converts it, so "1e1000000" or a
        thousand-digit string is refused at once instead of being turned into a huge Decimal.
        """
        raw = self.get(key)
        if raw is None:
            return None
        value: Decimal | None = None
        if isinstance(raw, bool):
            pass
        elif isinstance(raw, float):
            value = Decimal(repr(raw)) if math.isfinite(raw) else None
        elif isinstance(raw, int):
            # Compare before converting: an int of thousands of digits is refused without arithmetic.
            if maximum is not None and raw > maximum:
                self.fail(key, "out_of_range", f"{label}不能超过{format_number(maximum)}{unit}")
                return None
            value = Decimal(raw)
        elif isinstance(raw, Decimal):
            value = raw if raw.is_finite() and raw.adjusted() < _MAX_DIGITS else None
        elif isinstance(raw, str):
            if not raw.strip().replace(",", "").replace("，", ""):
                return None
            text = syntax.text(raw)
            if text is None:
                example = "如 120" if whole else "如 120 或 3000.5"  # a count is never shown a fraction
                self.fail(key, "invalid", f"{label}请填写普通写法的数字（{example}），不能含字母或科学计数法")
                return None
            value = Decimal(text)
        if value is None:
            self.fail(key, "invalid", f"{label}必须是数字")
            return None
        if value < 0:
            self.fail(key, "out_of_range", f"{label}不能为负数")
            return None
        if maximum is not None and value > maximum:
            self.fail(key, "out_of_range", f"{label}不能超过{format_number(maximum)}{unit}")
            return None
        return value

    def day(self, key: str, label: str, raw: Any) -> date | None:
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, date):
            return raw
        if isinstance(raw, str) and _ISO_DATE.fullmatch(raw.strip()):
            try:
                return date.fromisoformat(raw.strip())
            except ValueError:
                pass
        self.fail(key, "invalid", f"{label}必须是有效的日期（YYYY-MM-DD，如 2019-03-01）")
        return None

    def boolean(self, key: str, label: str) -> bool | None:
        raw = self.get(key)
        if raw is None or isinstance(raw, bool):
            return raw
        self.fail(key, "invalid", f"{label}必须是“是”或“否”（true / false）")
        return None

    def code_list(self, key: str, label: str) -> list[str]:
        raw = self.get(key)
        if raw is None:
            return []
        if not isinstance(raw, list | tuple) or len(raw) > MAX_LIST_ITEMS:
            self.fail(key, "invalid", f"{label}必须是不超过{MAX_LIST_ITEMS}项的列表")
            return []
        codes: list[str] = []
        for item in raw:
            if not isinstance(item, str) or not _PLACE_CODE.fullmatch(item):
                self.fail(key, "invalid", f"{label}代码无效：{str(item)[:64]}")
                continue
            codes.append(item)
        return list(dict.fromkeys(codes))


def profile_from_declared(facts: dict[str, Any], *, on: date | None = None) -> EnterpriseProfile:
    """An EnterpriseProfile from a visitor's typed facts, all `self_declared` as of `on` (default today).

    Raises DeclaredFactsError naming every field that cannot be used.
    """
    on = on or today()
    if not isinstance(facts, dict):
        raise DeclaredFactsError([FieldProblem("", "invalid", "请以对象形式提交企业信息")])
    r = _Reader(facts, on)
    for key in facts:
        if key not in FIELDS:
            r.fail(str(key)[:64], "unknown_field", f"不支持的字段“{str(key)[:64]}”")

    values: dict[str, Any] = {}

    def text(key: str, label: str, limit: int) -> str:
        raw = r.get(key)
        if raw is None:
            return ""
        if not isinstance(raw, str) or len(raw) > limit:
            r.fail(key, "invalid", f"{label}必须是不超过{limit}个字的文字")
            return ""
        return raw.strip()

    name = text("name", "企业名称", 200)
    credit_code = text("credit_code", "统一社会信用代码", 18).upper()

    # Each scalar fact read by its registry definition, grouped by value type.
    scalars = scalar_facts()
    for spec in scalars:
        if spec.type is not ValueType.INDUSTRY:
            continue
        industry = r.get(spec.profile_key)
        if industry is None:
            continue
        if isinstance(industry, str) and is_class_code(industry.strip()):
            values[spec.profile_key] = industry.strip()
        else:
            r.fail(spec.profile_key, "unknown_code", "所属行业请填写GB/T 4754-2017中的4位行业小类代码（如 6513）")

    for spec in scalars:
        if spec.type is not ValueType.CHOICE:
            continue
        raw = r.get(spec.profile_key)
        if raw is None:
            continue
        if isinstance(raw, str) and raw.strip() in spec.choices:
            values[spec.profile_key] = raw.strip()
        else:
            options = "、".join(spec.choices)
            r.fail(spec.profile_key, "unknown_code", f"{spec.label}只能是：{options}")

    for spec in scalars:
        if spec.type not in (ValueType.INTEGER, ValueType.NUMBER) or spec.profile_key == "established_on":
            continue
        read = r.integer if spec.type is ValueType.INTEGER else r.number
        values[spec.profile_key] = read(
            spec.profile_key, spec.label, maximum=spec.maximum, unit=spec.unit, syntax=spec.syntax(Channel.TYPED)
        )

    age = FACTS["age_years"]
    raw_established, raw_age = r.get("established_on"), r.get("age_years")
    if raw_established is not None and raw_age is not None:
        r.fail("age_years", "conflict", "成立日期和成立年限只需填写一项")
    elif raw_established is not None:
        established = r.day("established_on", "成立日期", raw_established)
        earliest = _years_before(on, int(age.maximum or 0))
        if established is not None and established > on:
            r.fail("established_on", "out_of_range", f"成立日期不能晚于今天（{on.isoformat()}）")
        elif established is not None and established < earliest:
            r.fail("established_on", "out_of_range", f"成立日期不能早于{earliest.isoformat()}")
        else:
            values["established_on"] = established
    elif raw_age is not None:
        years = r.integer("age_years", "成立年限", maximum=age.maximum, unit="年", syntax=age.syntax(Channel.TYPED))
        if years is not None:
            values["established_on"] = _years_before(on, years)

    for spec in scalars:
        if spec.type is ValueType.BOOLEAN:
            values[spec.profile_key] = r.boolean(spec.profile_key, spec.ask)

    for spec in scalars:
        if spec.type is not ValueType.COUNTRY:
            continue
        country = r.get(spec.profile_key)
        if country is None:
            continue
        code = country.strip().upper() if isinstance(country, str) else None
        if code is not None and (code == "" or _COUNTRY_CODE.fullmatch(code)):
            values[spec.profile_key] = code
        else:
            r.fail(spec.profile_key, "invalid", "外资来源国（地区）请填写两位字母代码（如 JP），无外资请留空")

    qualifications = _qualifications(r)
    zones = r.code_list("zones", "功能区")
    parks = r.code_list("parks", "园区")

    if r.problems:
        raise DeclaredFactsError(r.problems)

    return EnterpriseProfile(
        credit_code=credit_code,
        name=name,
        facts={key: Fact(value=v, source=SELF_DECLARED, as_of=on) for key, v in values.items() if v is not None},
        qualifications=tuple(qualifications),
        sites=_sites(zones, parks, on),
    )


def _years_before(on: date, years: int) -> date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February in a year that has none
        return on.replace(year=on.year - years, day=28)


def _qualifications(r: _Reader) -> list[QualificationRecord]:
    raw = r.get("qualifications")
    if raw is None:
        return []
    if not isinstance(raw, list | tuple) or len(raw) > MAX_LIST_ITEMS:
        r.fail("qualifications", "invalid", f"企业资质必须是不超过{MAX_LIST_ITEMS}项的列表")
        return []
    records: list[QualificationRecord] = []
    options = "、".join(QUALIFICATION_KINDS)
    for i, item in enumerate(raw):
        field = f"qualifications[{i}]"
        if isinstance(item, str):
            item = {"kind": item}
        if not isinstance(item, dict) or set(item) - {"kind", "valid_from", "valid_to"}:
            r.fail(field, "invalid", "资质应为资质代码，或包含 kind、valid_from、valid_to 的对象")
            continue
        kind = item.get("kind")
        if kind not in QUALIFICATION_KINDS:
            r.fail(field, "unknown_code", f"资质代码只能是：{options}")
            continue
        # A declared qualification with no dates is taken to be held on any evaluation date.
        valid_from = date.min
        valid_to = None
        if item.get("valid_from") is not None:
            valid_from = r.day(f"{field}.valid_from", "资质有效期起始日", item["valid_from"]) or date.min
        if item.get("valid_to") is not None:
            valid_to = r.day(f"{field}.valid_to", "资质有效期截止日", item["valid_to"])
        if valid_to is not None and valid_to < valid_from:
            r.fail(field, "out_of_range", "资质有效期截止日早于起始日")
            continue
        records.append(
            QualificationRecord(kind=kind, valid_from=valid_from, valid_to=valid_to, source=SELF_DECLARED, as_of=r.on)
        )
    return records


def _sites(zones: list[str], parks: list[str], on: date) -> tuple[SiteRecord, ...]:
    if not zones and not parks:
        return ()
    if not zones:
        return (SiteRecord(township_code="", zone_code=None, park_codes=tuple(parks), source=SELF_DECLARED, as_of=on),)
    # Which site lies in which park is not asked; zone and park conditions look at each separately.
    return tuple(
        SiteRecord(
            township_code="",
            zone_code=zone,
            park_codes=tuple(parks) if i == 0 else (),
            source=SELF_DECLARED,
            as_of=on,
        )
        for i, zone in enumerate(zones)
    )
