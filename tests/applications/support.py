"""Files and data for the 在线申报 tests: real file signatures, a published 申报 policy, a match record."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from matching.models import MatchRecord
from policies.models import Mode, PolicyVersion
from tests.policies.factories import PolicyVersionFactory

MATERIALS = ["营业执照（系统已自动调取，无需上传）", "项目申报书", "近一年财务报表"]

PDF_BYTES = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32


def pdf(name: str = "申报书.pdf", data: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def png(name: str = "照片.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


def office(kind: str) -> bytes:
    """A minimal DOCX (kind="word") or XLSX (kind="xl") container."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml" if kind == "word" else "xl/workbook.xml", "<x/>")
    return buffer.getvalue()


def xlsx(name: str = "财务报表.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, office("xl"), content_type="application/octet-stream")


def docx(name: str = "申报书.docx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, office("word"))


def full_files() -> dict[int, list[Any]]:
    """One valid file for each material that needs an upload (index 0 is fetched by the system)."""
    return {1: [pdf()], 2: [xlsx()]}


def apply_policy(**fields: Any) -> PolicyVersion:
    today = timezone.localdate()
    fields.setdefault("title", "研发项目补助（示例）")
    fields.setdefault("materials", list(MATERIALS))
    fields.setdefault("application_start", today - dt.timedelta(days=10))
    fields.setdefault("application_end", today + dt.timedelta(days=30))
    fields.setdefault("conditions_text", "软件和信息技术服务业企业，持有有效的高新技术企业资格（示例）。")
    fields.setdefault("mode", Mode.APPLY)
    return PolicyVersionFactory(published=True, **fields)


def decide(enterprise: Any, version: PolicyVersion, outcome: str = "eligible") -> MatchRecord:
    """A match record as the matching engine would leave it."""
    now = timezone.now()
    record, _ = MatchRecord.objects.update_or_create(
        enterprise=enterprise,
        policy_version=version,
        defaults={"outcome": outcome, "verified": True, "states": "MM", "first_decided_at": now, "decided_at": now},
    )
    return record
