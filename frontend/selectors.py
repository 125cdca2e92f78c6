"""Reads for the staff dashboard (数据看板): each figure aggregated in SQL, a handful of queries in all.

Staff-only (the console's views check the role); nothing here is scoped to an enterprise.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from matching.core.vocabulary import INDUSTRY_CHAINS
from matching.models import MatchRecord, MatchRun, change_counts_text
from matching.nightly import nightly_text
from policies.models import Mode, PolicyVersion
from portal.enterprises.models import Enterprise
from portal.entitlements.models import Entitlement
from portal.notifications.models import Delivery
from portal.ops.invariants import LABELS, latest_check

NO_DEPARTMENT = "未填责任部门"
NO_ZONE = "未登记经营场所"
NO_CHAIN = "未标注产业链"


def status_tabs(model: Any, requested: str | None, *, default: str) -> tuple[str, list[tuple[str, str, int]]]:
    """The status a console list shows (`requested` when valid, else `default`) and its tabs:
    (value, label, rows in that status) for every status of `model`, counted in one query."""
    status = requested if requested is not None and requested in model.Status.values else default
    counts = dict(model.objects.values_list("status").annotate(n=Count("id")).order_by())
    return status, [(value, label, counts.get(value, 0)) for value, label in model.Status.choices]


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weekly(rows: list[tuple[date, int]], weeks: list[date]) -> list[int]:
    """Per-day counts summed into the given weeks (Monday dates)."""
    totals: Counter[date] = Counter()
    for day, n in rows:
        totals[_week_start(day)] += n
    return [totals[week] for week in weeks]


def console_dashboard(*, today: date | None = None, weeks: int = 12) -> dict[str, Any]:
    """Figures for the dashboard, each as [(label, value or [values])] ready for the bar chart.

    Policies: the versions published now, by 兑现方式 and by 责任部门. Activity: eligible match records
    first decided, and entitlements determined, per week over the last `weeks` weeks (local time).
    Eligible matches of published versions by industry chain (a version tagged with several chains
    counts under each) and by functional zone (an enterprise with sites in two zones counts in both).
    Deliveries by channel and status, with the success rate of those that have finished.
    """
    today = today or timezone.localdate()
    published = PolicyVersion.Status.PUBLISHED

    # 1 query: published versions by mode and department.
    by_mode: Counter[str] = Counter()
    by_department: Counter[str] = Counter()
    for mode, department, n in (
        PolicyVersion.objects.filter(status=published)
        .values_list("mode", "department")
        .annotate(n=Count("id"))
        .order_by()
    ):
        by_mode[mode] += n
        by_department[department or NO_DEPARTMENT] += n
    mode_labels = dict(Mode.choices)

    # 2 queries: the weekly series, counted per local day in SQL and summed into weeks here.
    first_week = _week_start(today) - timedelta(weeks=weeks - 1)
    since = timezone.make_aware(datetime.combine(first_week, time.min))
    week_list = [first_week + timedelta(weeks=n) for n in range(weeks)]
    matches = (
        MatchRecord.objects.filter(outcome="eligible", first_decided_at__gte=since)
        .annotate(day=TruncDate("first_decided_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    entitlements = (
        Entitlement.objects.filter(determined_at__gte=since)
        .annotate(day=TruncDate("determined_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    match_weeks = _weekly(list(matches), week_list)
    entitlement_weeks = _weekly(list(entitlements), week_list)

    # 1 query: eligible matches per published version's chain tags (a few hundred groups at most).
    eligible = MatchRecord.objects.filter(outcome="eligible", policy_version__status=published)
    by_chain: Counter[str] = Counter()
    for chains, n in eligible.values_list("policy_version__chains").annotate(n=Count("id")).order_by():
        for chain in chains or [None]:
            by_chain[INDUSTRY_CHAINS[chain][0] if chain in INDUSTRY_CHAINS else NO_CHAIN] += n

    # 1 query: eligible matches by the zone of the enterprise's sites.
    by_zone = [
        (name or NO_ZONE, n)
        for name, n in eligible.values_list("enterprise__sites__township__zone__name")
        .annotate(n=Count("id", distinct=True))
        .order_by("-n", "enterprise__sites__township__zone__name")
    ]

    # 1 query: deliveries by channel and status.
    delivery_counts: dict[str, Counter[str]] = {}
    for channel, status, n in Delivery.objects.values_list("channel", "status").annotate(n=Count("id")).order_by():
        delivery_counts.setdefault(channel, Counter())[status] += n
    S = Delivery.Status
    deliveries = []
    sent_total = finished_total = 0
    for channel, label in Delivery.Channel.choices:
        counts = delivery_counts.get(channel, Counter())
        waiting = counts[S.PENDING] + counts[S.SENDING] + counts[S.FAILED]
        deliveries.append((label, [counts[S.SENT], waiting, counts[S.DEAD]]))
        sent_total += counts[S.SENT]
        finished_total += counts[S.SENT] + counts[S.DEAD]

    # 3 queries: headline numbers.
    eligible_count = eligible.count()
    enterprise_count = Enterprise.objects.count()
    entitlement_count = Entitlement.objects.count()

    return {
        "today": today,
        "first_week": first_week,
        "policies_by_mode": [(mode_labels.get(m, m), by_mode[m]) for m in Mode.values],
        "policies_by_department": sorted(by_department.items(), key=lambda kv: (-kv[1], kv[0])),
        "activity_by_week": [
            (f"{week:%m-%d}起", [m, e]) for week, m, e in zip(week_list, match_weeks, entitlement_weeks, strict=True)
        ],
        "matches_by_chain": sorted(by_chain.items(), key=lambda kv: (-kv[1], kv[0])),
        "matches_by_zone": by_zone,
        "deliveries": deliveries,
        "invariants": _invariants_line(),
        "nightly": _nightly_line(),
        "totals": {
            "published": sum(by_mode.values()),
            "enterprises": enterprise_count,
            "eligible": eligible_count,
            "entitlements": entitlement_count,
            "delivery_success": round(sent_total * 100 / finished_total, 1) if finished_total else None,
            "deliveries_finished": finished_total,
        },
    }


def _nightly_line() -> dict[str, Any] | None:
    """The latest nightly re-match (matching.nightly): what it re-decided and why, in Chinese (1 query)."""
    run = MatchRun.objects.filter(kind=MatchRun.Kind.NIGHTLY).order_by("-created_at", "-pk").first()
    if run is None:
        return None
    return {
        "day": run.nightly_for or timezone.localtime(run.created_at).date(),
        "status": run.status_label,
        "done": run.status == MatchRun.Status.DONE,
        "text": nightly_text(run.nightly),
        "changes": change_counts_text(run.changed or {}) if run.status == MatchRun.Status.DONE else "",
        "error": run.error,
    }


def _invariants_line() -> dict[str, Any] | None:
    """The latest data-consistency check (manage.py check_invariants / the nightly beat), in Chinese."""
    check = latest_check()
    if check is None:
        return None
    return {
        "checked_at": timezone.localtime(check.checked_at),
        "ok": check.ok,
        # In the rules' documented order (the stored JSON keeps none); a code without a label last.
        "items": [(label, check.counts[code]) for code, label in LABELS.items() if code in check.counts]
        + [(code, n) for code, n in check.counts.items() if code not in LABELS],
    }
