"""审计日志: the auditor's page (search, read, export). Reads only; nothing here writes."""

from __future__ import annotations

import csv
from datetime import date

from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.api.spreadsheets import safe_cell
from portal.audit import selectors


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _filters(request: HttpRequest) -> dict:
    return {
        "text": request.GET.get("q", "").strip()[:100],
        "action": request.GET.get("action", "")[:64],
        "start": _date(request.GET.get("from", "")),
        "end": _date(request.GET.get("to", "")),
    }


@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    filters = _filters(request)
    events = selectors.audit_events(user=request.user, **filters)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    context = {
        "section": "console",
        "rows": [selectors.describe(e) for e in page.object_list],
        "page": page,
        "filters": filters,
        "actions": selectors.action_choices(),
        "query": request.GET.copy(),
    }
    return render(request, "frontend/console/audit.html", context)


@require_GET
def audit_export(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    events = selectors.audit_events(user=request.user, **_filters(request))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(["时间", "操作人", "角色", "来源地址", "操作", "对象", "变更", "说明"])
    for event in events[:50_000].iterator(chunk_size=2000):
        row = selectors.describe(event)
        changes = "；".join(f"{label}：{old} → {new}" for label, old, new in row.changes)
        writer.writerow(
            [
                safe_cell(value)
                for value in (
                    f"{event.at:%Y-%m-%d %H:%M:%S}",
                    event.actor_name or "系统",
                    event.actor_roles,
                    event.ip or "",
                    row.action,
                    event.object_label,
                    changes,
                    event.detail,
                )
            ]
        )
    return response
