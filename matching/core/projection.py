"""Profile → typed row for the SQL bulk path (pure: no Django).

A column holds a value exactly when the evaluator's reading of that fact would be known, and its
`*_verified` flag is the registry's own verdict on the fact's source, so the compiled SQL and the
pure evaluator decide from the same facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from .profile import EnterpriseProfile, Fact
from .registry import FACTS, FactSpec, ValueType, scalar_facts

_NUMBER = (int, Decimal, float)
# Python types a fact's value may have, by the registry's value type (anything else is unknown).
_VALUE_KINDS: dict[ValueType, tuple[type, ...]] = {
    ValueType.INDUSTRY: (str,),
    ValueType.CHOICE: (str,),
    ValueType.COUNTRY: (str,),
    ValueType.INTEGER: _NUMBER,
    ValueType.NUMBER: _NUMBER,
    ValueType.BOOLEAN: (bool,),
}


def _value_kinds(spec: FactSpec) -> tuple[type, ...]:
    if spec.profile_key == "established_on":  # age_years is read from the establishment date
        return (date,)
    return _VALUE_KINDS[spec.type]


# projection column → (profile fact key, registry fact that judges its source, accepted value types,
#                      name of the verified-flag column); one per registry fact read from a profile key.
SCALAR_COLUMNS: dict[str, tuple[str, str, tuple[type, ...], str]] = {
    spec.profile_key: (spec.profile_key, spec.name, _value_kinds(spec), spec.flag_column) for spec in scalar_facts()
}
PROJECTION_COLUMNS: tuple[str, ...] = (
    *(name for column, spec in SCALAR_COLUMNS.items() for name in (column, spec[3])),
    "has_sites",
)


def _known(column: str, fact: Fact | None, kinds: tuple[type, ...]) -> bool:
    """Mirror of the registry's checkers: when would the evaluator find this fact known?"""
    if fact is None or fact.value is None:
        return False
    value = fact.value
    if kinds == (bool,):
        return value.__class__ is bool
    if value.__class__ is bool or not isinstance(value, kinds):
        return False
    if column == "industry_code":
        return value != ""
    if isinstance(value, float | Decimal):
        return Decimal(repr(value) if isinstance(value, float) else value).is_finite()
    return True


def profile_row(profile: EnterpriseProfile) -> dict[str, Any]:
    """The projection row for `profile` (column → value)."""
    return facts_row(profile.facts, has_sites=bool(profile.sites))


def facts_row(facts: Mapping[str, Fact], *, has_sites: bool) -> dict[str, Any]:
    """The projection row from a profile's scalar facts and whether it has any site."""
    row: dict[str, Any] = {}
    for column, (key, fact_name, kinds, flag) in SCALAR_COLUMNS.items():
        fact = facts.get(key)
        if fact is not None and _known(column, fact, kinds):
            value = fact.value
            row[column] = Decimal(repr(value)) if isinstance(value, float) else value
            row[flag] = FACTS[fact_name].is_verified(fact)
        else:
            row[column], row[flag] = None, False
    row["has_sites"] = has_sites
    return row
