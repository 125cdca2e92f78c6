"""Writes of decision notices: issued in the deciding transaction, numbered without gaps, never changed.

`notices_issue` is called by the services that decide (portal.entitlements, portal.applications), inside
their transaction (it joins it without a savepoint): a decision never commits without its notice, and a
rolled-back decision leaves neither a notice nor a used number. Issuing the same (enterprise, dedupe_key)
again is a no-op, however often matching runs.

Numbers (HQ-2026-000123) are sequential per year: the year's NoticeCounter row is locked (SELECT … FOR
UPDATE) before the existing keys are read and the new rows written, so two deciding transactions take
their numbers one after the other, and the lock is held until the decision commits or rolls back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from policies.models import SOURCE_PLAN_DOCUMENT_NUMBER, SOURCE_PLAN_TITLE, PolicyVersion
from portal.db import bound_cursor
from portal.enterprises.models import Enterprise

from .deadlines import deadlines_from
from .models import DecisionNotice, NoticeCounter, notice_number

Kind = DecisionNotice.Kind

SYSTEM = "系统依据部门共享数据自动核验"

# Where an enterprise asks for its data to be corrected (数据纠错): its profile page, where every fact shows
# its source and the department that verifies it.
CORRECTION_PATH = "/enterprises/{credit_code}/profile/"


@dataclass(frozen=True, slots=True)
class NoticeSpec:
    """One decision to notify (the input of notices_issue)."""

    enterprise_id: int
    kind: str
    dedupe_key: str
    version_id: int
    decision: str  # what was decided, one or two sentences
    reasons: str = ""  # why, in words (the facts follow from `explanation`)
    explanation: dict[str, Any] | None = None  # the evaluator's Outcome.to_dict() the decision rested on
    subject: str = "免申即享"
    decided_by: str = SYSTEM
    link: str = ""  # where the enterprise acts on it (confirm, object, supply, resubmit)


def facts_used(explanation: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Each condition of the decision with the enterprise's value, its source and the date of the data."""
    if not explanation:
        return []
    return [
        {
            "fact": c.get("fact", ""),
            "label": c.get("fact_label", ""),
            "requirement": c.get("requirement", ""),
            "value": c.get("actual", ""),
            "source": c.get("source_label") or "无数据",
            "as_of": c.get("as_of"),
            "verified": bool(c.get("verified")),
            "result": _result_label(c),
        }
        for c in explanation.get("conditions", [])
    ]


_RESULT_LABELS = {"met": "符合", "unmet": "不符合", "unknown": "缺少数据", "attest": "需企业承诺"}


def _result_label(condition: dict[str, Any]) -> str:
    result = condition.get("result", "")
    if result == "judge":
        return "待主管部门认定"
    return _RESULT_LABELS.get(result, result)


def _source_document(version: PolicyVersion) -> str:
    """The document the policy derives from: the plan (with its 文号, from the plan's own heading) when the
    version cites one of its sections."""
    if version.source_section:
        return f"{SOURCE_PLAN_TITLE}（{SOURCE_PLAN_DOCUMENT_NUMBER}）"
    return ""


def _take_numbers(year: int, count: int) -> int:
    """Lock the year's counter and reserve `count` numbers; returns the first. Must run in a transaction."""
    NoticeCounter.objects.bulk_create([NoticeCounter(year=year, last=0)], ignore_conflicts=True)
    counter = NoticeCounter.objects.select_for_update().get(year=year)
    first = counter.last + 1
    if count:
        NoticeCounter.objects.filter(year=year).update(last=counter.last + count)
    return first


def _issued(keys: list[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which of these (enterprise id, dedupe key) pairs already have a notice."""
    existing: set[tuple[int, str]] = set()
    if connection.vendor == "postgresql":
        # The exact pairs, each one probe of the unique key. `enterprise IN (…) AND key IN (…)` matches their
        # cross product: a nightly run's thousands of enterprises × hundreds of keys scanned the whole table
        # and returned ten times the pairs asked for.
        sql = (
            f"SELECT n.enterprise_id, n.dedupe_key FROM {DecisionNotice._meta.db_table} n "  # noqa: S608 (model metadata)
            "JOIN unnest(%s::bigint[], %s::text[]) AS k(enterprise_id, dedupe_key) "
            "ON n.enterprise_id = k.enterprise_id AND n.dedupe_key = k.dedupe_key"
        )
        with bound_cursor() as cursor:
            cursor.execute(sql, [[e for e, _ in keys], [k for _, k in keys]])
            existing.update(cursor.fetchall())
        return existing
    for start in range(0, len(keys), 5000):
        part = keys[start : start + 5000]
        existing.update(
            DecisionNotice.objects.filter(
                enterprise_id__in={e for e, _ in part}, dedupe_key__in={k for _, k in part}
            ).values_list("enterprise_id", "dedupe_key")
        )
    return existing


@transaction.atomic(savepoint=False)
def notices_issue(*, items: Sequence[NoticeSpec], on: date | None = None) -> list[DecisionNotice]:
    """Write the notices that are new (by enterprise and dedupe_key); returns them, numbered in item order."""
    if not items:
        return []
    for spec in items:
        if spec.kind not in Kind.values:
            raise ValueError(f"unknown notice kind {spec.kind!r}")
        if not spec.dedupe_key or len(spec.dedupe_key) > 200:
            raise ValueError("dedupe_key must be 1–200 characters")
    now = timezone.now()
    issued_on = on or timezone.localdate(now)
    unique: dict[tuple[int, str], NoticeSpec] = {}
    for spec in items:
        unique.setdefault((spec.enterprise_id, spec.dedupe_key), spec)
    # Lock first: a concurrent issuer of the same key has then either committed (and is seen below) or waits.
    first = _take_numbers(issued_on.year, 0)
    existing = _issued(list(unique))
    todo = [spec for key, spec in unique.items() if key not in existing]
    if not todo:
        return []
    NoticeCounter.objects.filter(year=issued_on.year).update(last=first - 1 + len(todo))
    versions = PolicyVersion.objects.in_bulk({spec.version_id for spec in todo})
    enterprises = {
        pk: (name, code)
        for pk, name, code in Enterprise.objects.filter(pk__in={spec.enterprise_id for spec in todo}).values_list(
            "pk", "name", "credit_code"
        )
    }
    deadlines = deadlines_from(issued_on)
    rows = []
    for offset, spec in enumerate(todo):
        version = versions[spec.version_id]
        name, code = enterprises[spec.enterprise_id]
        sequence = first + offset
        rows.append(
            DecisionNotice(
                number=notice_number(issued_on.year, sequence),
                year=issued_on.year,
                sequence=sequence,
                enterprise_id=spec.enterprise_id,
                enterprise_name=name,
                credit_code=code,
                kind=spec.kind,
                dedupe_key=spec.dedupe_key,
                subject=spec.subject,
                policy_id=version.policy_id,
                policy_version=version,
                version_number=version.number,
                policy_title=version.title,
                document_number=version.document_number,
                source_document=_source_document(version),
                source_section=version.source_section,
                source_quote=version.source_quote,
                department=version.department,
                contact_name=version.contact_name,
                contact_phone=version.contact_phone,
                decision=spec.decision,
                reasons=spec.reasons,
                decided_by=spec.decided_by,
                facts=facts_used(spec.explanation),
                link=spec.link,
                correction_link=CORRECTION_PATH.format(credit_code=code),
                issued_at=now,
                issued_on=issued_on,
                review_deadline=deadlines.review,
                litigation_deadline=deadlines.litigation,
            )
        )
    return DecisionNotice.objects.bulk_create(rows, batch_size=2000)
