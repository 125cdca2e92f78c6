"""Cells for the CSV and XLSX files the portal produces, safe to open in a spreadsheet program.

A text cell beginning with = + - @ (or a tab or carriage return before one) is run as a formula by
Excel and WPS (CSV/formula injection, OWASP). Such text gets a leading apostrophe, which the
programs show as plain text; numbers and dates are left as they are.
"""

from __future__ import annotations

from datetime import date
from typing import Any

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def plain(value: Any) -> Any:
    """None as empty, dates as ISO text, anything else as it is."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return value


def safe_cell(value: Any) -> Any:
    """`plain(value)`, with text that a spreadsheet would read as a formula neutralised."""
    value = plain(value)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def append_text_safe_row(sheet: Any, values: list[Any]) -> None:
    """Append to an openpyxl sheet; text stays text (openpyxl would store "=…" as a formula)."""
    sheet.append([plain(v) for v in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"
