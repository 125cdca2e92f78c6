"""What an application (在线申报) must meet, shared by services, selectors and pages: the materials a version
asks for, its application window, contact phones and the statement length. (Eligibility rules: matching.core.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from policies.models import PolicyVersion


# Materials the platform fetches itself (the catalogue marks them "系统已自动调取，无需上传" or "系统自动调取"):
# no file is asked for them. Every other material needs at least one file.
NO_UPLOAD_MARKERS = ("无需上传", "自动调取")
MAX_FILES_PER_MATERIAL = 5
STATEMENT_MAX_LENGTH = 5000

# 中国大陆手机号 (optionally +86), or a landline with area code (0512-66668888, 010 12345678, extension -123).
_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(?:-\d{1,6})?$")


def normalise_phone(value: str) -> str:
    """Spaces removed; full-width digits and dashes made ASCII (people paste numbers from documents)."""
    table = str.maketrans("０１２３４５６７８９－—＋", "0123456789--+")
    return re.sub(r"\s+", "", (value or "").translate(table))


def is_valid_phone(value: str) -> bool:
    phone = normalise_phone(value)
    return bool(_MOBILE.match(phone.replace("-", "")) or _LANDLINE.match(phone))


@dataclass(frozen=True)
class Material:
    index: int
    name: str
    needs_upload: bool

    @property
    def field(self) -> str:
        return material_field(self.index)


def material_field(index: int) -> str:
    """The form / multipart field that carries the files of material number `index` (0-based)."""
    return f"material_{index}"


def materials_of(version: PolicyVersion) -> list[Material]:
    names = [str(m) for m in (version.materials or [])]
    return [Material(i, name, not any(mark in name for mark in NO_UPLOAD_MARKERS)) for i, name in enumerate(names)]


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def window_text(version: PolicyVersion) -> str:
    start, end = version.application_start, version.application_end
    if start and end:
        return f"{cn_date(start)}至{cn_date(end)}"
    if end:
        return f"截至{cn_date(end)}"
    if start:
        return f"{cn_date(start)}起"
    return "常年受理"


def window_problem(version: PolicyVersion, on: date) -> str:
    """Why `on` is outside the version's application window, in Chinese naming the dates; "" when open."""
    start, end = version.application_start, version.application_end
    if start and on < start:
        return f"申报尚未开始：本政策申报时间为{window_text(version)}。"
    if end and on > end:
        return f"申报已截止：本政策申报时间为{window_text(version)}。"
    return ""
