"""Load the policy catalogue (policies/catalogue/policies.json) into published versions, idempotently.

All entries are parsed and validated first (fields, rules, golden cases and their outcomes); if any
is wrong nothing is written and the error lists every problem. Then each entry is imported keyed by
`key`: a new published version only when its content differs from the last one the catalogue wrote.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from portal.api.exceptions import ApplicationError

from .services import policy_version_import, validate_import

DEFAULT_FILE = Path(__file__).resolve().parent / "catalogue" / "policies.json"
SYSTEM_USERNAME = "catalogue"
IMPORT_COMMENT = "由政策清单数据文件导入"  # shown on the console: no file path

_TEXT_FIELDS = (
    "title",
    "summary",
    "body",
    "source_section",
    "source_quote",
    "document_number",  # optional: the policy's 文号 where its issuing document is known
    "department",
    "contact_name",
    "contact_phone",
    "benefit_kind",
    "benefit_description",
    "amount_note",
    "mode",
)
_ENTRY_KEYS = frozenset(
    {
        *_TEXT_FIELDS,
        "key",
        "amount_max_wan",
        "application",
        "effective_from",
        "effective_to",
        "chains",
        "exclusion_groups",
        "rule",
        "golden_cases",
        "benefit_period",
    }
)
_APPLICATION_KEYS = frozenset({"window_start", "window_end", "conditions_text", "materials"})
_GOLDEN_KEYS = frozenset({"name", "expected", "profile", "on"})


class CatalogueError(Exception):
    """The catalogue file is refused; `problems` lists every reason (`key: field: message`)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Entry:
    key: str
    fields: dict[str, Any]
    golden_cases: list[dict[str, Any]]


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"政策清单：新增 {len(self.created)} 项，更新 {len(self.updated)} 项，未变 {len(self.unchanged)} 项"


class _Problem(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _date(value: Any, name: str, *, required: bool = True) -> date | None:
    if value in (None, ""):
        if required:
            raise _Problem(name, "必填")
        return None
    try:
        return date.fromisoformat(value) if isinstance(value, str) else _bad_date(name)
    except ValueError:
        raise _Problem(name, f"日期格式应为 YYYY-MM-DD：{value!r}") from None


def _bad_date(name: str) -> date:
    raise _Problem(name, "日期应为 YYYY-MM-DD 字符串")


def _parse_entry(raw: Any) -> Entry:
    if not isinstance(raw, dict):
        raise _Problem("", "每项政策应为 JSON 对象")
    unknown = sorted(set(raw) - _ENTRY_KEYS)
    if unknown:
        raise _Problem(unknown[0], "未知的字段")
    key = raw.get("key")
    if not isinstance(key, str) or not key:
        raise _Problem("key", "必填，且应为字符串")
    fields: dict[str, Any] = {}
    for name in _TEXT_FIELDS:
        value = raw.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise _Problem(name, "应为字符串")
        fields[name] = value.strip()
    amount = raw.get("amount_max_wan")
    if amount is None:
        fields["amount_max_wan"] = None
    else:
        if isinstance(amount, bool) or not isinstance(amount, int | float | str):
            raise _Problem("amount_max_wan", "应为数字或 null")
        try:
            fields["amount_max_wan"] = Decimal(str(amount))
        except InvalidOperation:
            raise _Problem("amount_max_wan", "应为数字或 null") from None

    application = raw.get("application")
    if application is None:
        application = {}
    if not isinstance(application, dict):
        raise _Problem("application", "应为 JSON 对象或 null")
    unknown = sorted(set(application) - _APPLICATION_KEYS)
    if unknown:
        raise _Problem(f"application.{unknown[0]}", "未知的字段")
    fields["application_start"] = _date(application.get("window_start"), "application.window_start", required=False)
    fields["application_end"] = _date(application.get("window_end"), "application.window_end", required=False)
    conditions_text = application.get("conditions_text") or ""
    if not isinstance(conditions_text, str):
        raise _Problem("application.conditions_text", "应为字符串")
    fields["conditions_text"] = conditions_text.strip()
    fields["materials"] = application.get("materials") or []
    if fields["mode"] == "apply" and not application:
        raise _Problem("application", "申报类政策须说明申报时间、条件和材料")

    fields["effective_from"] = _date(raw.get("effective_from"), "effective_from")
    fields["effective_to"] = _date(raw.get("effective_to"), "effective_to", required=False)
    fields["chains"] = raw.get("chains") or []
    # 同一事项不重复享受: the entry's 互斥事项组 (none unless it names them; checked with the version).
    fields["exclusion_groups"] = raw.get("exclusion_groups") or []
    # 一次性 unless the entry states the year its (annual) benefit is for.
    period = raw.get("benefit_period", "once")
    if not isinstance(period, str) or not re.fullmatch(r"once|20[0-9]{2}", period):
        raise _Problem("benefit_period", "兑现期应为 once（一次性）或四位年份（如 2026）")
    fields["benefit_period"] = period
    if "rule" not in raw:
        raise _Problem("rule", "必填")
    fields["rule"] = raw["rule"]

    golden_cases = []
    for index, case in enumerate(raw.get("golden_cases") or []):
        name = f"golden_cases[{index}]"
        if not isinstance(case, dict):
            raise _Problem(name, "应为 JSON 对象")
        unknown = sorted(set(case) - _GOLDEN_KEYS)
        if unknown:
            raise _Problem(f"{name}.{unknown[0]}", "未知的字段")
        if not isinstance(case.get("name"), str) or not case["name"].strip():
            raise _Problem(f"{name}.name", "必填")
        golden_cases.append(
            {
                "name": case["name"].strip(),
                "expected": case.get("expected"),
                "profile": case.get("profile"),
                "on": _date(case.get("on"), f"{name}.on", required=False),
            }
        )
    return Entry(key=key, fields=fields, golden_cases=golden_cases)


def _describe(error: Exception) -> list[tuple[str, str]]:
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return [(name, str(m)) for name, errs in error.error_dict.items() for e in errs for m in e.messages]
        return [("", m) for m in error.messages]
    if isinstance(error, ApplicationError):
        return [(error.field or "", error.message)]
    return [("", str(error))]


def parse_catalogue(data: Any) -> list[Entry]:
    """Parse and fully validate the catalogue JSON; CatalogueError lists every problem."""
    if not isinstance(data, list):
        raise CatalogueError(["政策清单应为 JSON 列表"])
    problems: list[str] = []
    entries: list[Entry] = []
    seen: set[str] = set()
    for index, raw in enumerate(data):
        label = raw.get("key") if isinstance(raw, dict) and isinstance(raw.get("key"), str) else f"第{index + 1}项"
        try:
            entry = _parse_entry(raw)
        except _Problem as problem:
            problems.append(f"{label}: {problem.field}: {problem.message}")
            continue
        if entry.key in seen:
            problems.append(f"{label}: key: 标识重复")
            continue
        seen.add(entry.key)
        try:
            validate_import(fields=entry.fields, golden_cases=entry.golden_cases)
        except (ValidationError, ApplicationError) as error:
            problems.extend(f"{label}: {name}: {message}" for name, message in _describe(error))
            continue
        entries.append(entry)
    if problems:
        raise CatalogueError(problems)
    return entries


def read_catalogue(path: Path) -> list[Entry]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogueError([f"找不到政策清单文件：{path}"]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise CatalogueError([f"政策清单不是有效的 JSON（第{error.lineno}行）：{error.msg}"]) from None
    return parse_catalogue(data)


def catalogue_user() -> Any:
    """The system user that authors catalogue versions; it cannot log in."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=SYSTEM_USERNAME, defaults={"is_active": False, "first_name": "政策清单"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def load_catalogue(*, path: Path = DEFAULT_FILE) -> LoadReport:
    """Validate the whole file, then import every entry; all or nothing."""
    entries = read_catalogue(path)
    by = catalogue_user()
    report = LoadReport()
    for entry in entries:
        try:
            _, result = policy_version_import(
                key=entry.key, fields=entry.fields, golden_cases=entry.golden_cases, by=by, comment=IMPORT_COMMENT
            )
        except (ValidationError, ApplicationError) as error:
            raise CatalogueError([f"{entry.key}: {name}: {message}" for name, message in _describe(error)]) from error
        getattr(report, result).append(entry.key)
    return report
