"""Reads for matching: published policy versions to match, and an enterprise's matches (scoped)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from policies.models import PolicyVersion

from .models import MatchOutcome, MatchRecord

if TYPE_CHECKING:
    from portal.enterprises.models import Enterprise


def today() -> date:
    return timezone.localdate()


def published_versions_any_period() -> QuerySet:
    """Every published policy version (in effect or not: an expired one must stop matching)."""
    return PolicyVersion.objects.filter(status=PolicyVersion.Status.PUBLISHED).order_by("pk")


def published_stamp_sql() -> str:
    """A SELECT of one row, (count, latest update, highest id) of the published versions: whether the
    published set changed since a catalogue was compiled (a publish retires the previous version, so both
    count and latest update move). Plain SQL (from model metadata) so the incremental path's one-enterprise
    read can carry it in the same statement."""
    meta = PolicyVersion._meta
    updated_at, status = meta.get_field("updated_at").column, meta.get_field("status").column
    published = str(PolicyVersion.Status.PUBLISHED)
    assert published.isidentifier()  # a plain code, safe to inline
    return (
        f"SELECT count(*) AS n, max({updated_at}) AS last, max({meta.pk.column}) AS top"  # noqa: S608
        f" FROM {meta.db_table} WHERE {status} = '{published}'"
    )


_OUTCOME_ORDER = Case(
    When(outcome=MatchOutcome.ELIGIBLE, then=Value(0)),
    When(outcome=MatchOutcome.NEEDS_INFO, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def enterprise_matches(*, enterprise: Enterprise | int, outcome: str | None = None) -> QuerySet[MatchRecord]:
    """The enterprise's (or the enterprise id's) records on currently published versions, eligible first.

    The caller has already checked that the user may see the enterprise (enterprise_get_for_user,
    enterprise_id_for_user).
    """
    records = MatchRecord.objects.filter(
        enterprise=enterprise, policy_version__status=PolicyVersion.Status.PUBLISHED
    ).select_related("policy_version", "policy_version__policy")
    if outcome:
        records = records.filter(outcome=outcome)
    return records.annotate(outcome_order=_OUTCOME_ORDER).order_by("outcome_order", "-decided_at", "pk")
