"""GB/T 4754-2017 国民经济行业分类: code names, valid codes at every level, and the `under` test.

The code table is loaded lazily from matching/core/data/gbt4754-2017.json (this app's own copy, so the
matching core depends on nothing outside `matching/`). No Django imports.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "gbt4754-2017.json"

# 门类 → the 大类 (2-digit divisions) it covers, inclusive ranges (GB/T 4754-2017).
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


def section_divisions(letter: str) -> tuple[str, ...]:
    """The 2-digit division codes covered by a section letter ("C" → "13" … "43")."""
    lo, hi = SECTION_DIVISIONS[letter]
    return tuple(f"{n:02d}" for n in range(lo, hi + 1))


@cache
def _names() -> dict[str, str]:
    with DATA_FILE.open(encoding="utf-8") as fh:
        table: dict[str, str] = json.load(fh)
    names = dict(table)
    # The standard does not repeat a 中类 that has a single 小类: its 4-digit code ends in 0 and
    # carries the same name (652 集成电路设计 → 6520). The JSON lists only the 小类, so add the 中类
    # back: a policy may name "652" and mean exactly that group.
    for code, name in table.items():
        if len(code) == 4 and code.endswith("0") and code[:3] not in names:
            names[code[:3]] = name
    return names


def code_names() -> dict[str, str]:
    """Every code (letters, 2, 3 and 4 digits) mapped to its Chinese name (do not modify)."""
    return _names()


def industry_name(code: str) -> str | None:
    """The Chinese name of a code of any level, or None when it is not a GB/T 4754-2017 code."""
    return _names().get(code)


def is_industry_code(code: object) -> bool:
    """True for a section letter (A–T) or a 2, 3 or 4-digit code present in GB/T 4754-2017."""
    return isinstance(code, str) and code in _names()


def is_class_code(code: object) -> bool:
    """True for a 4-digit 小类, the level an enterprise is registered with."""
    return isinstance(code, str) and len(code) == 4 and code in _names()


def industry_display(code: str) -> str:
    """ "集成电路设计（6520）"; the bare code when it is not in the table."""
    name = industry_name(code)
    return f"{name}（{code}）" if name else code


def section_of(code: str) -> str | None:
    """The section letter a code of any level belongs to (6520 → I)."""
    if code in SECTION_DIVISIONS:
        return code
    if len(code) < 2 or not code[:2].isdigit():
        return None
    division = int(code[:2])
    for letter, (lo, hi) in SECTION_DIVISIONS.items():
        if lo <= division <= hi:
            return letter
    return None


class IndustryMatcher:
    """Precompiled `under` test: is a 4-digit code under any of the listed codes of any level?"""

    __slots__ = ("by2", "by3", "by4")

    def __init__(self, codes: list[str] | tuple[str, ...]) -> None:
        by2: set[str] = set()
        by3: set[str] = set()
        by4: set[str] = set()
        for code in codes:
            if code in SECTION_DIVISIONS:
                by2.update(section_divisions(code))
            elif len(code) == 2:
                by2.add(code)
            elif len(code) == 3:
                by3.add(code)
            else:
                by4.add(code)
        self.by2 = frozenset(by2)
        self.by3 = frozenset(by3)
        self.by4 = frozenset(by4)

    def __call__(self, code: str) -> bool:
        return code[:2] in self.by2 or code[:3] in self.by3 or code in self.by4


def industry_under(code: str, listed: list[str] | tuple[str, ...]) -> bool:
    """True when the enterprise's code falls under any listed code (convenience, not precompiled)."""
    return IndustryMatcher(listed)(code)
