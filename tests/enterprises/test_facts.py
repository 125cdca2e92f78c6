"""Parsing fact values (field-level reasons with stable codes) and the provenance precedence rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.enterprises.facts import Decision, FieldError, decide, parse_facts, parse_qualification_kind


@pytest.mark.parametrize(
    ("field", "raw", "value"),
    [
        ("employees", "120", 120),
        ("employees", 120, 120),
        ("employees", "1,200", 1200),
        ("revenue", "8000.5", Decimal("8000.50")),
        ("revenue", 8000.25, Decimal("8000.25")),
        ("industry_code", " 6520 ", "6520"),
        ("above_designated_size", "是", True),
        ("above_designated_size", "false", False),
        ("foreign_investor_country", "jp", "JP"),
        ("foreign_investor_country", "无", ""),
        ("tax_credit_rating", "a", "A"),
        ("established_on", "2016/03/18", date(2016, 3, 18)),
        ("rd_expense_ratio", "14.2", Decimal("14.20")),
    ],
)
def test_values_people_and_departments_send(field: str, raw, value) -> None:
    parsed, errors = parse_facts({field: raw})
    assert errors == []
    assert parsed == {field: value}


@pytest.mark.parametrize(
    ("field", "raw", "code"),
    [
        ("employees", "-1", "min_value"),
        ("employees", "12.5", "invalid_integer"),
        ("employees", True, "invalid_integer"),
        ("revenue", "abc", "invalid_number"),
        ("revenue", "1.234", "max_decimal_places"),
        ("revenue", "-5", "min_value"),
        ("industry_code", "652", "invalid_industry_code"),
        ("industry_code", "9999", "unknown_industry_code"),
        ("above_designated_size", "maybe", "invalid_boolean"),
        ("foreign_investor_country", "Japan", "invalid_country"),
        ("tax_credit_rating", "E", "invalid_choice"),
        ("established_on", "2016-13-01", "invalid_date"),
        ("established_on", "2999-01-01", "future_date"),
        ("rd_expense_ratio", "101", "max_value"),
        ("no_such_fact", "1", "unknown_field"),
    ],
)
def test_bad_values_name_the_field_and_a_stable_code(field: str, raw, code: str) -> None:
    parsed, errors = parse_facts({field: raw})
    assert parsed == {}
    assert [(e.field, e.code) for e in errors] == [(field, code)]
    assert errors[0].message and not errors[0].message.isascii()  # Chinese for people


def test_blank_values_are_not_given() -> None:
    assert parse_facts({"employees": "", "revenue": None}) == ({}, [])


def test_qualification_kinds_by_code_or_chinese_name() -> None:
    assert parse_qualification_kind("high_tech") == "high_tech"
    assert parse_qualification_kind("高新技术企业") == "high_tech"
    assert parse_qualification_kind("专精特新小巨人企业") == "little_giant"
    with pytest.raises(FieldError):
        parse_qualification_kind("优秀企业")


D1, D2 = date(2025, 1, 1), date(2025, 6, 30)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # (value, source, as_of) held → (value, source, as_of) arriving
        (None, (10, "self_declared", D1), Decision.APPLY),
        (None, (10, "tax", D1), Decision.APPLY),
        ((10, "self_declared", D1), (11, "self_declared", D2), Decision.APPLY),
        ((10, "self_declared", D1), (10, "self_declared", D2), Decision.CONFIRM),
        ((10, "self_declared", D2), (10, "statistics", D1), Decision.APPLY),  # a department vouches for it
        ((10, "statistics", D1), (11, "self_declared", D2), Decision.REFUSED),  # never over a department
        ((10, "statistics", D1), (10, "self_declared", D2), Decision.SAME),
        ((10, "statistics", D2), (11, "statistics", D1), Decision.STALE),  # an older file replayed
        ((10, "statistics", D2), (11, "tax", D1), Decision.STALE),
        ((10, "statistics", D1), (11, "tax", D2), Decision.APPLY),
        ((10, "statistics", D1), (11, "statistics", D1), Decision.APPLY),  # same date: the correction wins
        ((10, "statistics", D1), (10, "statistics", D1), Decision.SAME),  # the same batch again
        ((10, "statistics", D1), (10, "statistics", D2), Decision.CONFIRM),
    ],
)
def test_precedence(old, new, expected: Decision) -> None:
    old_value, old_source, old_as_of = old or (None, None, None)
    assert (
        decide(
            old_value=old_value,
            old_source=old_source,
            old_as_of=old_as_of,
            new_value=new[0],
            new_source=new[1],
            new_as_of=new[2],
        )
        is expected
    )
    # ISO strings, as the provenance map holds them, decide the same way.
    assert (
        decide(
            old_value=old_value,
            old_source=old_source,
            old_as_of=old_as_of.isoformat() if old_as_of else None,
            new_value=new[0],
            new_source=new[1],
            new_as_of=new[2].isoformat(),
        )
        is expected
    )
