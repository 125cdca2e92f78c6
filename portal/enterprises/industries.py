"""GB/T 4754-2017 国民经济行业分类: names, validation and "under a prefix" tests (pure, no Django)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from types import MappingProxyType

DATA_FILE = Path(__file__).resolve().parent / "data" / "gbt4754-2017.json"

# 门类 → its range of 大类 (2-digit divisions), from the standard.
SECTION_DIVISIONS: dict[str, tuple[int, int]] = {
    "A": (1, 5),
    "B": (6, 12),
    "C": (13, 43),
    "D": (44, 46),
    "E": (47, 50),
    "F": (51, 52),
    "G": (53, 60),
    "H": (61, 62),
    "I": (63, 65),
    "J": (66, 69),
    "K": (70, 70),
    "L": (71, 72),
    "M": (73, 75),
    "N": (76, 79),
    "O": (80, 82),
    "P": (83, 83),
    "Q": (84, 85),
    "R": (86, 90),
    "S": (91, 96),
    "T": (97, 97),
}


@cache
def _codes() -> MappingProxyType[str, str]:
    with DATA_FILE.open(encoding="utf-8") as fh:
        return MappingProxyType(json.load(fh))


def codes() -> MappingProxyType[str, str]:
    """Every code (letters, 2, 3 and 4 digits) mapped to its Chinese name."""
    return _codes()


def industry_name(code: str | None) -> str | None:
    """Name of a code at any level, or None when the code is not in the 2017 list."""
    if not code:
        return None
    return _codes().get(code.strip().upper())


def is_class_code(code: str | None) -> bool:
    """True for a 4-digit 小类 that exists in GB/T 4754-2017 (what an enterprise registers with)."""
    return bool(code) and len(code) == 4 and code.isdigit() and code in _codes()


def is_code(code: str | None) -> bool:
    """True for a code at any level: a 门类 letter or a 2, 3 or 4 digit code in the list."""
    return bool(code) and code.strip().upper() in _codes()


def section_of(code: str) -> str | None:
    """The 门类 letter a digit code belongs to (by its 2-digit division)."""
    if len(code) < 2 or not code[:2].isdigit():
        return None
    division = int(code[:2])
    for letter, (first, last) in SECTION_DIVISIONS.items():
        if first <= division <= last:
            return letter
    return None


def division_prefixes(prefix: str) -> tuple[str, ...]:
    """The digit prefixes equivalent to `prefix`: a letter becomes its divisions, digits stay as they are."""
    prefix = prefix.strip().upper()
    if prefix in SECTION_DIVISIONS:
        first, last = SECTION_DIVISIONS[prefix]
        return tuple(f"{d:02d}" for d in range(first, last + 1))
    return (prefix,)


def is_under(code: str | None, prefix: str) -> bool:
    """True when `code` (a 4-digit 小类) is under `prefix` (a letter, or 2, 3 or 4 digits)."""
    if not code:
        return False
    return any(code.startswith(p) for p in division_prefixes(prefix))


def industry_path(code: str) -> list[tuple[str, str]]:
    """The chain from 门类 down to `code`, e.g. C → 39 → 397 → 3973, skipping levels the list lacks."""
    names = _codes()
    path: list[tuple[str, str]] = []
    section = section_of(code)
    if section:
        path.append((section, names[section]))
    for length in (2, 3, 4):
        part = code[:length]
        if len(code) >= length and part in names:
            path.append((part, names[part]))
    return path
