"""Fact values: parsing with field-level reasons, department ownership, and the provenance precedence rule (pure)."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from matching.core.reading import FILE_NUMBER, MAX_STORED_INTEGER
from matching.core.registry import FactSpec, ValueType, facts_shared_by, stored_facts
from matching.core.vocabulary import DEPARTMENT_SOURCES, QUALIFICATION_KINDS, SELF_DECLARED, SOURCES

from . import credit_code, industries

# Which facts each department owns (部门信息共享): a feed may only set these. From each fact's
# definition (matching.core.registry: `shared_by`); the registered name is market regulation's.
DEPARTMENT_FACTS: dict[str, tuple[str, ...]] = {
    department: (("name",) if department == "market_regulation" else ()) + facts_shared_by(department)
    for department in SOURCES
    if department in DEPARTMENT_SOURCES
}
# Which qualification kinds each department certifies.
DEPARTMENT_QUALIFICATIONS: dict[str, tuple[str, ...]] = {
    "science_tech": ("high_tech", "tech_sme", "gazelle", "unicorn_cultivation"),
    "industry_info": ("specialized_sme", "little_giant", "single_champion", "service_manufacturing"),
}
QUALIFICATION_FIELDS = ("qualification_kind", "certificate_no", "valid_from", "valid_to")
RECORD_META_FIELDS = ("credit_code", "as_of")

NONE_TOKENS = frozenset({"无", "none", "NONE", "None", "-"})  # "no foreign investor"
# An as-of date: a `date`, or an ISO string; both sides of a comparison are of the same kind.
_AsOf = TypeVar("_AsOf", date, str)

_TRUE = frozenset({"true", "1", "yes", "y", "是", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "否", "f"})
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_MAX_AMOUNT = Decimal("99999999999999.99")  # 16 digits, 2 decimals (the column)
_QUANTUM = {places: Decimal(1).scaleb(-places) for places in range(5)}


class FieldError(ValueError):
    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


def is_blank(raw: Any) -> bool:
    """No value given (an empty CSV cell, null in JSON): the field is left as it is."""
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


def has_control_characters(text: str) -> bool:
    """NUL, line breaks, tabs and other control characters: never part of a name, code or number.
    (PostgreSQL refuses NUL in text outright; the others would corrupt exports and pages.)"""
    return any(ord(c) < 32 or 127 <= ord(c) < 160 for c in text)


def _text(field: str, raw: Any, *, max_length: int) -> str:
    if not isinstance(raw, (str, int)) or isinstance(raw, bool):
        raise FieldError(field, "invalid", "应为文本")
    value = str(raw).strip()
    if len(value) > max_length:
        raise FieldError(field, "max_length", f"长度不能超过{max_length}个字符")
    if has_control_characters(value):
        raise FieldError(field, "control_character", "不能包含控制字符（如空字符、换行）")
    return value


def printable_code(raw: Any) -> str | None:
    """A submitted credit code as it may be echoed in a report: text only, control characters
    removed, at most 64 characters."""
    if not isinstance(raw, str):
        return None
    return "".join(c for c in raw if not has_control_characters(c))[:64]


def parse_certificate_no(raw: Any, field: str = "certificate_no") -> str:
    return _text(field, raw, max_length=64)


def parse_name(raw: Any, field: str = "name") -> str:
    value = _text(field, raw, max_length=200)
    if not value:
        raise FieldError(field, "blank", "企业名称不能为空")
    return value


def parse_industry_code(raw: Any, field: str = "industry_code") -> str:
    value = _text(field, raw, max_length=10).upper()
    if not (len(value) == 4 and value.isdigit()):
        raise FieldError(field, "invalid_industry_code", "国民经济行业代码应为GB/T 4754-2017的4位小类代码")
    if not industries.is_class_code(value):
        raise FieldError(field, "unknown_industry_code", f"{value}不是GB/T 4754-2017中的小类代码")
    return value


def parse_date(raw: Any, field: str, *, not_future: bool = False, today: date | None = None) -> date:
    if isinstance(raw, datetime):
        value = raw.date()
    elif isinstance(raw, date):
        value = raw
    elif isinstance(raw, str):
        text = raw.strip().replace("/", "-").replace(".", "-")
        # Spreadsheets and exports write the same date as "2026年1月31日", "20260131" or "2026-01-31 00:00:00".
        text = re.sub(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$", r"\1-\2-\3", text)
        text = re.sub(r"^(\d{4})(\d{2})(\d{2})$", r"\1-\2-\3", text)
        text = re.sub(r"^(\d{4}-\d{1,2}-\d{1,2})[ T]0{1,2}:0{2}(:0{2})?$", r"\1", text)
        try:
            value = date.fromisoformat(text)
        except ValueError:
            try:
                value = datetime.strptime(text, "%Y-%m-%d").date()  # noqa: DTZ007 - a calendar date, no time
            except ValueError:
                raise FieldError(field, "invalid_date", "日期格式应为YYYY-MM-DD") from None
    else:
        raise FieldError(field, "invalid_date", "日期格式应为YYYY-MM-DD")
    if not_future and today is not None and value > today:
        raise FieldError(field, "future_date", "日期不能晚于今天")
    return value


# A number as a department's file or system writes it: matching.core.reading.FILE_NUMBER (digits,
# thousands commas, a fraction, at most a two-digit exponent as spreadsheets write 1.23E+11), bounded
# in length before it is converted. "1e1000000" would otherwise become a million-digit integer.
_MAX_NUMBER_TEXT = FILE_NUMBER.max_length


def _number_text(raw: str, field: str, code: str, message: str) -> str:
    text = FILE_NUMBER.text(raw)
    if text is None:
        raise FieldError(field, code, message)
    return text


def parse_int(raw: Any, field: str, *, minimum: int = 0, maximum: int = MAX_STORED_INTEGER) -> int:
    if isinstance(raw, bool):
        raise FieldError(field, "invalid_integer", "应为整数")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= _MAX_NUMBER_TEXT:
        value = int(raw)  # the usual case, without Decimal
    else:
        text = _number_text(raw, field, "invalid_integer", "应为整数") if isinstance(raw, str) else str(raw)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise FieldError(field, "invalid_integer", "应为整数") from None
        if not number.is_finite() or number != number.to_integral_value():
            raise FieldError(field, "invalid_integer", "应为整数")
        if abs(number) > maximum:  # before int(): never build a huge integer to refuse it
            raise FieldError(field, "max_value", f"不能大于{maximum}")
        value = int(number)
    if value < minimum:
        raise FieldError(field, "min_value", f"不能小于{minimum}")
    if value > maximum:
        raise FieldError(field, "max_value", f"不能大于{maximum}")
    return value


def parse_decimal(raw: Any, field: str, *, maximum: Decimal = _MAX_AMOUNT, places: int = 2) -> Decimal:
    if isinstance(raw, bool):
        raise FieldError(field, "invalid_number", "应为数字")
    try:
        if isinstance(raw, Decimal):
            value = raw
        elif isinstance(raw, str):
            value = Decimal(_number_text(raw, field, "invalid_number", "应为数字"))
        else:
            value = Decimal(str(raw))  # int, or a float from JSON/XLSX (its shortest repr)
    except InvalidOperation:
        raise FieldError(field, "invalid_number", "应为数字") from None
    if not value.is_finite():
        raise FieldError(field, "invalid_number", "应为数字")
    if value < 0:
        raise FieldError(field, "min_value", "不能为负数")
    if value > maximum:
        raise FieldError(field, "max_value", f"不能大于{maximum.normalize():f}")
    quantum = _QUANTUM[places]
    rounded = value.quantize(quantum)
    if rounded != value:
        raise FieldError(field, "max_decimal_places", f"最多{places}位小数")
    return rounded


def parse_bool(raw: Any, field: str) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise FieldError(field, "invalid_boolean", "应为“是”或“否”（true/false）")


def parse_country(raw: Any, field: str = "foreign_investor_country") -> str:
    value = _text(field, raw, max_length=10)
    if value in NONE_TOKENS:
        return ""
    value = value.upper()
    if not _COUNTRY.match(value):
        raise FieldError(field, "invalid_country", "应为ISO 3166两位字母国家（地区）代码，如JP；无外资填“无”")
    return value


def parse_choice(raw: Any, field: str, choices: Mapping[str, str], label: str) -> str:
    value = _text(field, raw, max_length=max(map(len, choices), default=1) + 1).upper()
    if value not in choices:
        raise FieldError(field, "invalid_choice", f"{label}应为{'、'.join(choices)}之一")
    return value


def _parser(spec: FactSpec) -> Callable[[Any], Any]:
    """How a feed or the API reads the fact, from its definition (value type and stored column)."""
    key, stored = spec.profile_key, spec.stored
    assert stored is not None
    if spec.type is ValueType.INDUSTRY:
        return parse_industry_code
    if key == "established_on":
        return lambda raw: parse_date(raw, key, not_future=True, today=date.today())  # noqa: DTZ011
    if spec.type is ValueType.INTEGER:
        maximum = int(stored.largest(integer=True))
        return lambda raw: parse_int(raw, key, maximum=maximum)
    if spec.type is ValueType.NUMBER:
        largest = Decimal(stored.largest(integer=False))
        return lambda raw: parse_decimal(raw, key, maximum=largest, places=stored.places)
    if spec.type is ValueType.BOOLEAN:
        return lambda raw: parse_bool(raw, key)
    if spec.type is ValueType.COUNTRY:
        return lambda raw: parse_country(raw, key)
    if spec.type is ValueType.CHOICE:
        return lambda raw: parse_choice(raw, key, spec.choices, spec.label)
    raise TypeError(f"no feed parser for {spec.name} ({spec.type})")


PARSERS: dict[str, Callable[[Any], Any]] = {
    "name": parse_name,
    **{spec.profile_key: _parser(spec) for spec in stored_facts()},
}


def parse_fact(field: str, raw: Any) -> Any:
    """Parse one fact value; raise FieldError with a stable code and a Chinese message."""
    return PARSERS[field](raw)


def parse_facts(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """Parse every non-blank value; returns (parsed, errors). Unknown keys are errors."""
    parsed: dict[str, Any] = {}
    errors: list[FieldError] = []
    for key, raw in values.items():
        if key not in PARSERS:
            errors.append(FieldError(key, "unknown_field", "未知字段"))
            continue
        if is_blank(raw):
            continue
        try:
            parsed[key] = parse_fact(key, raw)
        except FieldError as exc:
            errors.append(exc)
    return parsed, errors


def parse_credit_code(raw: Any, field: str = "credit_code") -> str:
    try:
        return credit_code.parse(raw if isinstance(raw, str) else str(raw or "")).value
    except credit_code.CreditCodeError as exc:
        raise FieldError(field, exc.code, exc.message) from None


def parse_qualification_kind(raw: Any, field: str = "qualification_kind") -> str:
    value = _text(field, raw, max_length=40)
    if value in QUALIFICATION_KINDS:
        return value
    by_name = {name: code for code, name in QUALIFICATION_KINDS.items()}
    # Spreadsheets often drop the quotes in 专精特新“小巨人”企业, or the trailing 企业.
    for name, code in by_name.items():
        if value in (name, name.replace("“", "").replace("”", ""), name.removesuffix("企业")):
            return code
    raise FieldError(field, "invalid_choice", "不是有效的资质类型")


# --- Provenance precedence ------------------------------------------------------------------------


class Decision(enum.Enum):
    SAME = "same"  # nothing to write
    APPLY = "apply"  # new value (or a department now vouches for it): write it and record history
    CONFIRM = "confirm"  # same value and source, newer date: refresh the date only, no history
    STALE = "stale"  # a department value older than the department value held: ignore
    REFUSED = "refused"  # self-declared over a department value: refuse


def decide(
    *,
    old_value: Any,
    old_source: str | None,
    old_as_of: _AsOf | None,
    new_value: Any,
    new_source: str,
    new_as_of: _AsOf | None,
) -> Decision:
    """Whether a new value for one fact may replace what is held.

    Dates may be `date`s or ISO strings (both sides the same kind: ISO strings sort like dates).

    A department's value is never overwritten by a self-declared one. Between departments the newer
    date wins (on the same date the later record wins), so an old file replayed cannot undo newer data.
    """
    if new_source != SELF_DECLARED:
        return decide_department(old_value, old_source, old_as_of, new_value, new_source, new_as_of)
    if old_source is not None and old_source in DEPARTMENT_SOURCES:
        return Decision.SAME if old_value == new_value else Decision.REFUSED
    if old_source is None or old_value != new_value or old_source != new_source:
        return Decision.APPLY
    return Decision.CONFIRM if old_as_of != new_as_of else Decision.SAME


def decide_department(
    old_value: Any,
    old_source: str | None,
    old_as_of: _AsOf | None,
    new_value: Any,
    new_source: str,
    new_as_of: _AsOf | None,
) -> Decision:
    """`decide` for a value from a department (positional: feeds call it once per field of every record)."""
    if old_source is None:
        return Decision.APPLY
    if old_as_of and new_as_of and new_as_of < old_as_of and old_source in DEPARTMENT_SOURCES:
        return Decision.STALE
    if old_value != new_value or old_source != new_source:
        return Decision.APPLY
    return Decision.CONFIRM if old_as_of != new_as_of else Decision.SAME


def source_name(source: str | None) -> str:
    return SOURCES.get(source or "", "")
