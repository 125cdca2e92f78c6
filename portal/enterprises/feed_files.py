"""Read department records from CSV or XLSX files (header row of field codes or their Chinese names)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import IO, Any

from matching.core.registry import stored_facts

from .facts import QUALIFICATION_FIELDS
from .models import TRACKED_FIELDS
from .models import field_label as tracked_field_label  # a tracked field's verbose name

# Chinese column titles people put in spreadsheets → field codes: each fact's own (its definition's
# `aliases` in matching.core.registry), and those of the record's other columns.
_EXTRA_ALIASES = {
    "统一社会信用代码": "credit_code",
    "信用代码": "credit_code",
    "数据日期": "as_of",
    "数据截至日期": "as_of",
    "数据截止日期": "as_of",  # the common (if loose) spelling of 截至
    "企业名称": "name",
    **{alias: spec.profile_key for spec in stored_facts() for alias in spec.aliases},
    "资质类型": "qualification_kind",
    "证书编号": "certificate_no",
    "有效期起": "valid_from",
    "有效期止": "valid_to",
}


@cache
def _aliases() -> dict[str, str]:
    aliases = {f: f for f in (*TRACKED_FIELDS, "credit_code", "as_of", *QUALIFICATION_FIELDS)}
    for f in TRACKED_FIELDS:
        aliases[tracked_field_label(f)] = f
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
        return tracked_field_label(code)
    return code


class FeedFileError(ValueError):
    pass


SUFFIXES = (".csv", ".xlsx", ".xlsm")


def read_records(fh: IO[bytes], filename: str) -> list[dict[str, Any]]:
    """Records from a .csv (UTF-8 or GB18030) or .xlsx upload; blank rows are skipped."""
    return [record for _, record in read_numbered_records(fh, filename)]


def read_numbered_records(fh: IO[bytes], filename: str) -> list[tuple[int, dict[str, Any]]]:
    """(row number in the file, record): the header is row 1, so an error report can name the row."""
    return list(iter_numbered_records(fh, filename))


def iter_numbered_records(fh: IO[bytes], filename: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """The same, one record at a time: a large upload is never held as a list of records (a 50 MB CSV
    held whole took 1.35 GB). The file's content is checked before the first record."""
    check_content(fh, filename)
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        yield from _read_csv(fh.read())
    elif suffix in (".xlsx", ".xlsm"):
        yield from _read_xlsx(fh)
    else:
        raise FeedFileError("只支持CSV或XLSX文件")


# Leading bytes of files people upload by mistake, named so the refusal says what the file is.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF文档"),
    (b"PK\x03\x04", "压缩包（ZIP或XLSX/DOCX等Office文件）"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "旧版Office文件（XLS/DOC）"),
    (b"\x89PNG", "PNG图片"),
    (b"\xff\xd8\xff", "JPEG图片"),
    (b"GIF8", "GIF图片"),
    (b"Rar!", "RAR压缩包"),
    (b"7z\xbc\xaf", "7z压缩包"),
    (b"\x1f\x8b", "GZIP压缩包"),
)
# The parts every OOXML workbook has; a zip without them is some other document renamed .xlsx.
_XLSX_PARTS = ("[Content_Types].xml", "xl/workbook.xml")


def _looks_like(head: bytes) -> str:
    return next((what for magic, what in _SIGNATURES if head.startswith(magic)), "")


def check_content(fh: IO[bytes], filename: str) -> None:
    """Refuse a file whose content is not what its name says (a PDF renamed .csv is not parsed as rows).

    CSV: UTF-8 or GB18030 text without NUL bytes. XLSX: a zip archive holding the OOXML workbook parts.
    Leaves `fh` at its start. Raises FeedFileError naming the file.
    """
    import zipfile

    from django.conf import settings

    name = Path(filename).name
    suffix = Path(name).suffix.lower()
    size = fh.seek(0, 2)
    fh.seek(0)
    if size > settings.FEED_UPLOAD_MAX_BYTES:
        limit = settings.FEED_UPLOAD_MAX_BYTES // 1048576
        raise FeedFileError(f"文件“{name}”过大（{size / 1048576:.1f} MB），上限为 {limit} MB，请分成几个文件上传")
    try:
        if suffix == ".csv":
            data = fh.read()
            what = _looks_like(data[:16])
            if what:
                raise FeedFileError(f"文件“{name}”的内容是{what}，不是CSV文本，已拒收；请上传CSV或XLSX格式的数据表")
            if b"\x00" in data:
                raise FeedFileError(f"文件“{name}”含有二进制内容，不是CSV文本，已拒收；请上传CSV或XLSX格式的数据表")
            for encoding in ("utf-8-sig", "gb18030"):
                try:
                    data.decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue
            else:
                raise FeedFileError(f"文件“{name}”不是UTF-8或GB18030编码的文本，已拒收；请另存为UTF-8编码的CSV")
        elif suffix in (".xlsx", ".xlsm"):
            head = fh.read(8)
            fh.seek(0)
            if not zipfile.is_zipfile(fh):
                what = _looks_like(head) or "无法识别的内容"
                raise FeedFileError(f"文件“{name}”的内容是{what}，不是XLSX工作簿，已拒收；请上传CSV或XLSX格式的数据表")
            fh.seek(0)
            with zipfile.ZipFile(fh) as archive:
                names = set(archive.namelist())
                # What it inflates to, as the archive declares it (a small file can hold gigabytes of XML).
                inflated = sum(info.file_size for info in archive.infolist())
            if inflated > settings.FEED_UPLOAD_MAX_UNCOMPRESSED_BYTES:
                raise FeedFileError(
                    f"文件“{name}”解压后过大（{inflated / 1048576:.0f} MB），"
                    f"上限为 {settings.FEED_UPLOAD_MAX_UNCOMPRESSED_BYTES // 1048576} MB，已拒收"
                )
            if not all(part in names for part in _XLSX_PARTS):
                raise FeedFileError(f"文件“{name}”是压缩包，但不是XLSX工作簿，已拒收；请上传CSV或XLSX格式的数据表")
    except zipfile.BadZipFile as exc:
        raise FeedFileError(f"文件“{name}”已损坏，无法作为XLSX工作簿读取，已拒收") from exc
    finally:
        fh.seek(0)


def _rows_to_records(
    header: list[Any], rows: Iterator[tuple[Any, ...] | list[Any]]
) -> Iterator[tuple[int, dict[str, Any]]]:
    from django.conf import settings

    keys = [column_key(h) for h in header]
    limit = settings.FEED_UPLOAD_MAX_ROWS
    for number, row in enumerate(rows, start=2):
        if number - 1 > limit:
            raise FeedFileError(f"文件超过 {limit} 行数据，已停止读取；请分成几个文件上传")
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
