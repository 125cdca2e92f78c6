"""Checks on uploaded application files: type by extension AND by content (magic bytes), size, name.

The extension chooses the expected type; the first bytes must agree, so a renamed executable or a
PDF called .png is refused. DOCX and XLSX are ZIP containers: we also look inside (names only, no
decompression) for the part that makes them a Word document or an Excel workbook.
"""

from __future__ import annotations

import logging
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.files.storage import default_storage

# extension → (canonical content type, label for messages)
ALLOWED_TYPES: dict[str, tuple[str, str]] = {
    ".pdf": ("application/pdf", "PDF"),
    ".jpg": ("image/jpeg", "JPG"),
    ".jpeg": ("image/jpeg", "JPG"),
    ".png": ("image/png", "PNG"),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "DOCX"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX"),
}
ALLOWED_LABEL = "PDF、JPG、PNG、DOCX、XLSX"
ACCEPT_ATTRIBUTE = ",".join(ALLOWED_TYPES)
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def max_bytes() -> int:
    return int(getattr(settings, "APPLICATION_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} 字节"


class FileProblem(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class CheckedFile:
    upload: Any
    original_name: str
    extension: str
    content_type: str
    size: int


def clean_name(name: str) -> str:
    """The file's base name as the user knows it (for display and download), without any path."""
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    base = "".join(ch for ch in base if ch.isprintable())
    if len(base) > 255:
        stem, ext = os.path.splitext(base)
        base = stem[: 255 - len(ext)] + ext
    return base


def _head(upload: IO[bytes], n: int = 16) -> bytes:
    upload.seek(0)
    data = upload.read(n)
    upload.seek(0)
    return data


def _zip_has(upload: IO[bytes], part: str) -> bool:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        upload.seek(0)
    return "[Content_Types].xml" in names and part in names


def _content_matches(extension: str, upload: IO[bytes]) -> bool:
    head = _head(upload)
    if extension == ".pdf":
        return head.startswith(b"%PDF-")
    if extension in (".jpg", ".jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if extension == ".png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if extension == ".docx":
        return head.startswith(b"PK\x03\x04") and _zip_has(upload, "word/document.xml")
    if extension == ".xlsx":
        return head.startswith(b"PK\x03\x04") and _zip_has(upload, "xl/workbook.xml")
    return False


def check_file(upload: Any) -> CheckedFile:
    """The checked file, or FileProblem with a Chinese message and a stable code."""
    name = clean_name(getattr(upload, "name", "") or "")
    if not name:
        raise FileProblem("文件名不能为空", "invalid_name")
    extension = os.path.splitext(name)[1].lower()
    if extension not in ALLOWED_TYPES:
        raise FileProblem(f"“{name}”的文件类型不支持，请上传 {ALLOWED_LABEL} 文件", "file_type")
    size = int(getattr(upload, "size", 0) or 0)
    if size == 0:
        raise FileProblem(f"“{name}”是空文件", "empty_file")
    limit = max_bytes()
    if size > limit:
        raise FileProblem(f"“{name}”大小为 {human_size(size)}，超过 {human_size(limit)} 的上限", "file_too_large")
    if not _content_matches(extension, upload):
        label = ALLOWED_TYPES[extension][1]
        raise FileProblem(f"“{name}”的内容不是 {label} 文件（扩展名与文件内容不符）", "file_content_mismatch")
    return CheckedFile(
        upload=upload,
        original_name=name,
        extension=extension,
        content_type=ALLOWED_TYPES[extension][0],
        size=size,
    )


_logger = logging.getLogger(__name__)


@contextmanager
def delete_written_on_failure() -> Iterator[list[str]]:
    """Collects storage names written in the block; deletes them if the block raises (no orphan files).

    Used by 申报 submissions and 数据纠错 evidence alike."""
    written: list[str] = []
    try:
        yield written
    except BaseException:
        for name in written:
            try:
                default_storage.delete(name)
            except OSError:
                _logger.exception("Could not delete %s after a failed write", name)
        raise
