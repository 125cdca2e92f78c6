"""Build an enterprise profile from what a visitor types into the public 政策计算器.

Every fact is `self_declared` (so no outcome from it is verified) and dated the day it is declared.
Nothing is derived that cannot be: size is taken as given or left unknown; a fact left out stays
unknown. No Django imports.

Accepted keys (all optional; None is the same as leaving a key out):
    name, credit_code                   str
    industry_code                       4-digit GB/T 4754-2017 小类
    size                                vocabulary.SIZES key
    employees                           integer ≥ 0
    revenue, total_assets               number ≥ 0 (万元)
    rd_expense_ratio                    number ≥ 0 (percent)
    established_on                      date or "YYYY-MM-DD", not after `on`
    age_years                           integer 0–200 (instead of established_on: the enterprise is
                                        taken to have been established exactly that many years before `on`)
    qualifications                      list of kind codes, or of {"kind", "valid_from", "valid_to"}
    zones, parks                        lists of zone / park codes of the enterprise's sites. With zones
                                        but no parks, the sites are taken to lie in no park; with parks
                                        but no zones, the zone stays unknown.
    tax_credit_rating                   A/B/M/C/D
    dishonest, above_designated_size    true / false
    foreign_investor_country            ISO 3166 alpha-2, "" for none
Numbers may also be given as numeric strings (form input).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from .industries import is_class_code
from .profile import EnterpriseProfile, Fact, QualificationRecord, SiteRecord
from .vocabulary import QUALIFICATION_KINDS, SELF_DECLARED, SIZES, TAX_CREDIT_RATINGS

MAX_LIST_ITEMS = 50
_PLACE_CODE = re.compile(r"[a-z0-9_]{1,64}")
_COUNTRY_CODE = re.compile(r"[A-Z]{2}")
_LOCAL_TZ = ZoneInfo("Asia/Shanghai")

FIELDS = (
    "name",
    "credit_code",
    "industry_code",
    "size",
    "employees",
    "revenue",
    "total_assets",
    "rd_expense_ratio",
    "established_on",
    "age_years",
    "qualifications",
    "zones",
    "parks",
    "tax_credit_rating",
    "dishonest",
    "above_designated_size",
    "foreign_investor_country",
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

    def integer(self, key: str, label: str, *, maximum: int | None = None) -> int | None:
        number = self.number(key, label)
        if number is None:
            return None
        if number != number.to_integral_value():
            self.fail(key, "invalid", f"{label}必须是整数")
            return None
        value = int(number)
        if maximum is not None and value > maximum:
            self.fail(key, "out_of_range", f"{label}不能超过{maximum}")
            return None
        return value

    def number(self, key: str, label: str) -> Decimal | None:
        raw = self.get(key)
        if raw is None:
            return None
        if isinstance(raw, bool):
            self.fail(key, "invalid", f"{label}必须是数字")
            return None
        try:
            if isinstance(raw, float):
                value = Decimal(repr(raw))
            elif isinstance(raw, int | Decimal):
                value = Decimal(raw)
            elif isinstance(raw, str) and raw.strip():
                value = Decimal(raw.strip().replace(",", ""))
            else:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            self.fail(key, "invalid", f"{label}必须是数字")
            return None
        if not value.is_finite():
            self.fail(key, "invalid", f"{label}必须是数字")
            return None
        if value < 0:
            self.fail(key, "out_of_range", f"{label}不能为负数")
            return None
        return value

    def day(self, key: str, label: str, raw: Any) -> date | None:
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, date):
            return raw
        if isinstance(raw, str):
            try:
                return date.fromisoformat(raw.strip())
            except ValueError:
                pass
        self.fail(key, "invalid", f"{label}必须是日期（YYYY-MM-DD）")
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

    industry = r.get("industry_code")
    if industry is not None:
        if isinstance(industry, str) and is_class_code(industry.strip()):
            values["industry_code"] = industry.strip()
        else:
            r.fail("industry_code", "unknown_code", "请填写GB/T 4754-2017中的4位行业小类代码")

    choices = (("size", "企业规模", SIZES), ("tax_credit_rating", "纳税信用等级", TAX_CREDIT_RATINGS))
    for key, label, vocabulary in choices:
        raw = r.get(key)
        if raw is None:
            continue
        if isinstance(raw, str) and raw.strip() in vocabulary:
            values[key] = raw.strip()
        else:
            options = "、".join(vocabulary)
            r.fail(key, "unknown_code", f"{label}只能是：{options}")

    values["employees"] = r.integer("employees", "从业人员")
    values["revenue"] = r.number("revenue", "营业收入")
    values["total_assets"] = r.number("total_assets", "资产总额")
    values["rd_expense_ratio"] = r.number("rd_expense_ratio", "研发费用占营业收入比例")

    raw_established, raw_age = r.get("established_on"), r.get("age_years")
    if raw_established is not None and raw_age is not None:
        r.fail("age_years", "conflict", "成立日期和成立年限只需填写一项")
    elif raw_established is not None:
        established = r.day("established_on", "成立日期", raw_established)
        if established is not None and established > on:
            r.fail("established_on", "out_of_range", "成立日期不能晚于今天")
        else:
            values["established_on"] = established
    elif raw_age is not None:
        years = r.integer("age_years", "成立年限", maximum=200)
        if years is not None:
            values["established_on"] = _years_before(on, years)

    for key, label in (("dishonest", "是否被列为失信主体"), ("above_designated_size", "是否为规模以上企业")):
        values[key] = r.boolean(key, label)

    country = r.get("foreign_investor_country")
    if country is not None:
        code = country.strip().upper() if isinstance(country, str) else None
        if code is not None and (code == "" or _COUNTRY_CODE.fullmatch(code)):
            values["foreign_investor_country"] = code
        else:
            r.fail("foreign_investor_country", "invalid", "外资来源国（地区）请填写两位字母代码（如 JP），无外资请留空")

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
