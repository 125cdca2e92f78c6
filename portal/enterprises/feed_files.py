"""Read department records from CSV or XLSX files (header row of field codes or their Chinese names)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import IO, Any

from .facts import QUALIFICATION_FIELDS
from .models import TRACKED_FIELDS, Enterprise

# Chinese column titles people put in spreadsheets → field codes.
_EXTRA_ALIASES = {
    "统一社会信用代码": "credit_code",
    "信用代码": "credit_code",
    "数据日期": "as_of",
    "数据截至日期": "as_of",
    "数据截止日期": "as_of",  # the common (if loose) spelling of 截至
    "企业名称": "name",
    "行业代码": "industry_code",
    "国民经济行业代码": "industry_code",
    "从业人员": "employees",
    "从业人员数": "employees",
    "营业收入": "revenue",
    "资产总额": "total_assets",
    "规上企业": "above_designated_size",
    "是否规上": "above_designated_size",
    "外资来源": "foreign_investor_country",
    "研发费用占比": "rd_expense_ratio",
    "纳税信用等级": "tax_credit_rating",
    "严重失信": "dishonest",
    "资质类型": "qualification_kind",
    "证书编号": "certificate_no",
    "有效期起": "valid_from",
    "有效期止": "valid_to",
}


@cache
def _aliases() -> dict[str, str]:
    aliases = {f: f for f in (*TRACKED_FIELDS, "credit_code", "as_of", *QUALIFICATION_FIELDS)}
    for f in TRACKED_FIELDS:
        aliases[str(Enterprise._meta.get_field(f).verbose_name)] = f
    aliases.update(_EXTRA_ALIASES)
    return aliases


def column_key(title: Any) -> str:
    """The field code for a header cell; unknown titles are kept (and rejected per record as unknown)."""
    text = str(title or "").strip().lstrip("\ufeff")
    return _aliases().get(text, text)


def field_label(code: str) -> str:
    """The Chinese column title of a field code (for error reports); the code itself when it has none."""
    if not code:
        return ""
    for title, key in _EXTRA_ALIASES.items():
        if key == code:
            return title
    if code in TRACKED_FIELDS:
        return str(Enterprise._meta.get_field(code).verbose_name)
    return code


class FeedFileError(ValueError):
    pass


SUFFIXES = (".csv", ".xlsx", ".xlsm")


def read_records(fh: IO[bytes], filename: str) -> list[dict[str, Any]]:
    """Records from a .csv (UTF-8 or GB18030) or .xlsx upload; blank rows are skipped."""
    return [record for _, record in read_numbered_records(fh, filename)]


def read_numbered_records(fh: IO[bytes], filename: str) -> list[tuple[int, dict[str, Any]]]:
    """(row number in the file, record): the header is row 1, so an error report can name the row."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        return list(_read_csv(fh.read()))
    if suffix in (".xlsx", ".xlsm"):
        return list(_read_xlsx(fh))
    raise FeedFileError("只支持CSV或XLSX文件")


def _rows_to_records(
    header: list[Any], rows: Iterator[tuple[Any, ...] | list[Any]]
) -> Iterator[tuple[int, dict[str, Any]]]:
    keys = [column_key(h) for h in header]
    for number, row in enumerate(rows, start=2):
        record: dict[str, Any] = {}
        for key, value in zip(keys, row, strict=False):
            if not key:
                continue
            if key == "credit_code" and isinstance(value, int):
                value = str(value)  # an all-digit code typed into a number cell
            record[key] = value
        if any(v not in (None, "") for v in record.values()):
            yield number, record


def _read_csv(data: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FeedFileError("无法识别文件编码（请使用UTF-8）")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise FeedFileError("文件为空")
    yield from _rows_to_records(header, reader)


def _read_xlsx(fh: IO[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(fh, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a bad file
        raise FeedFileError("无法读取XLSX文件") from exc
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if not header:
            raise FeedFileError("文件为空")
        yield from _rows_to_records(list(header), rows)
    finally:
        workbook.close()
