"""How a fact is read and stored: per-channel number syntax and the register's column (pure, no Django).

A fact definition (registry.FactSpec) carries these, so that every reader of typed text (the
政策计算器, forms, department feeds, the API) and every storage derivation (the enterprise column,
the matching projection, serializer and form bounds) comes from the one definition.

Numbers are written differently on different channels, and the difference is deliberate:
- TYPED: what a person types into a form. Plain decimal only ("1,200.5" is fine); letters and
  scientific notation are refused, so "1e1000000" or "12万" gets a clear message instead of a guess.
- FILE: what a department's spreadsheet or system export sends. Spreadsheets write large figures as
  "1.23E+11", so a short exponent is accepted; thousands commas must be well placed.
Both are bounded in length before anything converts the text, so nothing huge is ever computed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Widget(StrEnum):
    """How a form asks for a fact (the 政策计算器, the golden-case form, the workspace profile form)."""

    INDUSTRY = "industry"  # an industry by name or code
    NUMBER = "number"  # text with a numeric keyboard (never <input type=number>: it hides bad input)
    DATE = "date"
    SELECT = "select"  # one of the fact's choices, or 不填
    CHECKBOXES = "checkboxes"  # any of the choices (qualifications held, places)
    YES_NO = "yes_no"  # 不填 / 是 / 否, or the visitor's own statement as a checkbox


class Channel(StrEnum):
    TYPED = "typed"  # a person at a form (政策计算器, golden-case form, enterprise workspace)
    FILE = "file"  # a department feed: spreadsheet upload or system export through the API


@dataclass(frozen=True, slots=True)
class NumberSyntax:
    """The accepted spelling of a number on one channel.

    `strip_before` characters are removed before matching (and count towards no limit);
    `strip_after` are allowed by the pattern and removed after it matched.
    """

    pattern: re.Pattern[str]
    max_length: int
    strip_before: str = ""
    strip_after: str = ""

    def text(self, raw: str) -> str | None:
        """Plain decimal text Decimal() accepts, or None when `raw` is not written this way."""
        text = raw.strip()
        for char in self.strip_before:
            text = text.replace(char, "")
        if len(text) > self.max_length or not self.pattern.fullmatch(text):
            return None
        for char in self.strip_after:
            text = text.replace(char, "")
        return text


TYPED_NUMBER = NumberSyntax(
    pattern=re.compile(r"-?\d{1,20}(\.\d{1,8})?"),
    max_length=32,  # characters after removing thousands separators
    strip_before=",，",
)
FILE_NUMBER = NumberSyntax(
    # digits (thousands commas allowed), a fraction, and at most a two-digit exponent (1.23E+11)
    pattern=re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d{1,2})?"),
    max_length=40,
    strip_after=",",
)
NUMBER_SYNTAX: dict[Channel, NumberSyntax] = {Channel.TYPED: TYPED_NUMBER, Channel.FILE: FILE_NUMBER}

# The register's integer columns are PositiveIntegerField; this leaves room below 2**31.
MAX_STORED_INTEGER = 2_000_000_000


@dataclass(frozen=True, slots=True)
class Stored:
    """The fact's column on the enterprise register (portal.enterprises.Enterprise), named by the
    fact's profile_key, and what the feeds and the API accept for it.

    `digits` / `places`: a decimal column's precision (the largest value it holds follows from them
    unless `maximum` is lower); `input_length`: the longest text accepted for a code before it is
    checked; `projection_digits`: the precision of the matching projection's column.
    """

    digits: int = 0
    places: int = 0
    maximum: int | Decimal | None = None
    input_length: int = 0
    projection_digits: int = 20

    def largest(self, *, integer: bool) -> int | Decimal:
        """The largest value the column holds (for integers: MAX_STORED_INTEGER unless lower)."""
        if integer:
            return MAX_STORED_INTEGER if self.maximum is None else self.maximum
        by_precision = Decimal(10) ** (self.digits - self.places) - Decimal(1).scaleb(-self.places)
        return by_precision if self.maximum is None else min(Decimal(self.maximum), by_precision)
