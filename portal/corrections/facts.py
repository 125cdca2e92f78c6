"""Which facts can be corrected, which department owns each, and how a proposed value is read and worded.

Everything here comes from the fact's one definition (matching.core.registry.FactSpec): the register's
column (`stored`), the departments whose shared data verifies it (`shared_by`), its reading and bounds
(portal.enterprises.facts parses with the same definition as the feeds and the API; `maximum` bounds
what can truthfully be declared) and its choices and phrases for wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from matching.core.registry import FACTS, FactSpec, ValueType, format_number
from matching.core.vocabulary import COUNTRIES, DEPARTMENT_SOURCES, SOURCES, source_codes
from portal.api.exceptions import ApplicationError
from portal.enterprises import industries
from portal.enterprises.facts import FieldError, is_blank, parse_fact
from portal.enterprises.models import Enterprise, json_value

NO_FOREIGN_CAPITAL = "无"  # what the feeds' parser reads as "no foreign investor" (stored as "")


def correctable_facts() -> tuple[FactSpec, ...]:
    """The facts held in the register's own columns: what a department's record can put right.
    (Size is derived from them; qualifications and sites have their own records.)"""
    return tuple(spec for spec in FACTS.values() if spec.stored is not None and spec.shared_by)


_BY_NAME = {spec.name: spec for spec in correctable_facts()}


def correctable(name: str) -> bool:
    return name in _BY_NAME


def fact_for(name: str) -> FactSpec:
    """The correctable fact of that name, or a refusal naming the field `fact`."""
    spec = _BY_NAME.get(name or "")
    if spec is None:
        raise ApplicationError("该信息项不能在线纠错或核验", code="unknown_fact", field="fact")
    return spec


@dataclass(frozen=True)
class Held:
    """What the register holds for a fact now."""

    value: Any  # JSON-friendly (json_value), None when unknown
    source: str  # "" when unknown
    as_of: date | None

    @property
    def known(self) -> bool:
        return bool(self.source)

    @property
    def by_department(self) -> bool:
        return bool(self.source) and all(code in DEPARTMENT_SOURCES for code in source_codes(self.source))


def held(enterprise: Enterprise, spec: FactSpec) -> Held:
    key = spec.profile_key
    if key not in enterprise.provenance:
        return Held(None, "", None)
    return Held(json_value(getattr(enterprise, key)), enterprise.fact_source(key) or "", enterprise.fact_as_of(key))


def owning_departments(spec: FactSpec, current: Held) -> list[str]:
    """The departments that own the fact: the one whose record is held now (if a department's), then the
    departments whose shared data verifies it (registry `shared_by`), without repeats."""
    owners = [code for code in source_codes(current.source) if code in DEPARTMENT_SOURCES] if current.known else []
    return list(dict.fromkeys([*owners, *spec.shared_by]))


def department_name(code: str) -> str:
    return SOURCES.get(code, code)


def parse_value(spec: FactSpec, raw: Any) -> Any:
    """The proposed value read by the fact's definition (the feeds' and the API's parser, with its column's
    bounds, then the fact's own `maximum`), JSON-friendly. Refusals name the field `value`."""
    if spec.type is ValueType.COUNTRY and isinstance(raw, str) and raw.strip() in ("", "none"):
        raw = NO_FOREIGN_CAPITAL if raw.strip() == "none" else raw
    if is_blank(raw):
        raise ApplicationError(f"请填写正确的“{spec.ask}”", code="required", field="value")
    if isinstance(raw, (list, dict)):
        raise ApplicationError(f"“{spec.ask}”的取值格式不正确", code="invalid", field="value")
    try:
        value = parse_fact(spec.profile_key, raw)
    except FieldError as error:
        raise ApplicationError(f"{spec.ask}：{error.message}", code=error.code, field="value") from None
    if spec.type is ValueType.INDUSTRY and not industries.is_class_code(value):
        raise ApplicationError(
            "所属行业请填写GB/T 4754-2017的4位小类代码（如 6513）", code="invalid_industry_code", field="value"
        )
    numeric = spec.type in (ValueType.INTEGER, ValueType.NUMBER)
    if numeric and spec.maximum is not None and Decimal(value) > Decimal(spec.maximum):
        raise ApplicationError(
            f"{spec.ask}不能大于{format_number(spec.maximum)}{spec.unit}", code="max_value", field="value"
        )
    return json_value(value)


def write_value(spec: FactSpec, value: Any) -> Any:
    """The stored value as the register's write service takes it (no foreign capital is "无", not blank)."""
    if spec.type is ValueType.COUNTRY and value == "":
        return NO_FOREIGN_CAPITAL
    return value


def value_text(spec: FactSpec, value: Any) -> str:
    """A value in plain Chinese, with its unit: 80人, 软件开发（6513）, 无外资, 未提供."""
    if value is None:
        return "未提供"
    if spec.type is ValueType.INDUSTRY:
        name = industries.industry_name(str(value))
        return f"{name}（{value}）" if name else str(value)
    if spec.type is ValueType.BOOLEAN:
        return "是" if value else "否"
    if spec.type is ValueType.COUNTRY:
        return "无外资" if value == "" else COUNTRIES.get(str(value), str(value))
    if spec.type is ValueType.CHOICE:
        return spec.choices.get(str(value), str(value))
    if spec.profile_key == "established_on":
        return str(value)
    if spec.type in (ValueType.INTEGER, ValueType.NUMBER):
        try:
            return f"{format_number(Decimal(str(value)))}{spec.unit}"
        except ArithmeticError:
            return str(value)
    return str(value)
