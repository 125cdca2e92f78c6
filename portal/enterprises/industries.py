"""GB/T 4754-2017 国民经济行业分类 for the registry: names, validation, prefixes and paths.

The code table and the 门类 ranges live once, in `matching.core.industries` (the matching core may not
depend on the portal); this module adds what the registry's forms, filters and sizing need.
"""

from __future__ import annotations

from types import MappingProxyType

from matching.core.industries import SECTION_DIVISIONS, section_divisions
from matching.core.industries import code_names as _names
from matching.core.industries import section_of as section_of


def codes() -> MappingProxyType[str, str]:
    """Every code (letters, 2, 3 and 4 digits) mapped to its Chinese name."""
    return MappingProxyType(_names())


def industry_name(code: str | None) -> str | None:
    """Name of a code at any level, or None when the code is not in the 2017 list."""
    if not code:
        return None
    return _names().get(code.strip().upper())


def is_class_code(code: str | None) -> bool:
    """True for a 4-digit 小类 that exists in GB/T 4754-2017 (what an enterprise registers with)."""
    return code is not None and len(code) == 4 and code.isdigit() and code in _names()


def is_code(code: str | None) -> bool:
    """True for a code at any level: a 门类 letter or a 2, 3 or 4 digit code in the list."""
    if not code:
        return False
    return code.strip().upper() in _names()


def division_prefixes(prefix: str) -> tuple[str, ...]:
    """The digit prefixes equivalent to `prefix`: a letter becomes its divisions, digits stay as they are."""
    prefix = prefix.strip().upper()
    return section_divisions(prefix) if prefix in SECTION_DIVISIONS else (prefix,)


def is_under(code: str | None, prefix: str) -> bool:
    """True when `code` (a 4-digit 小类) is under `prefix` (a letter, or 2, 3 or 4 digits)."""
    if not code:
        return False
    return any(code.startswith(p) for p in division_prefixes(prefix))


def industry_path(code: str) -> list[tuple[str, str]]:
    """The chain from 门类 down to `code`, e.g. C → 39 → 397 → 3973, skipping levels the list lacks."""
    names = _names()
    path: list[tuple[str, str]] = []
    section = section_of(code)
    if section:
        path.append((section, names[section]))
    for length in (2, 3, 4):
        part = code[:length]
        if len(code) >= length and part in names:
            path.append((part, names[part]))
    return path
