"""Staff insight pages: 同一事项不重复享受 conflicts and the 应享未享 funnel (with its XLSX export).

Thin views: the figures come from portal.entitlements.selectors and portal.ops.funnel (aggregate queries).
"""

from __future__ import annotations

from io import BytesIO
from typing import TYPE_CHECKING, Any

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from openpyxl import Workbook

from portal.api.spreadsheets import append_text_safe_row, safe_cell
from portal.entitlements.selectors import exclusion_conflicts_for_staff
from portal.ops import funnel as funnel_selectors

from .console_views import staff_required

if TYPE_CHECKING:
    from portal.accounts.requests import AuthenticatedHttpRequest


@staff_required
@require_GET
def exclusion_conflicts(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Each exclusion group with what its policies hold, and the entitlements set aside (不重复享受)."""
    context = {"section": "console", **exclusion_conflicts_for_staff(user=request.user)}
    return render(request, "frontend/console/exclusions.html", context)


def _policy_filter(request: AuthenticatedHttpRequest) -> int | None:
    raw = request.GET.get("policy", "")
    return int(raw) if raw.isdigit() else None


@staff_required
@require_GET
def funnel(request: AuthenticatedHttpRequest) -> HttpResponse:
    """应享未享: each policy's funnel (the officer's own first), per officer, and whom to contact."""
    figures = funnel_selectors.funnel_for_staff(user=request.user)
    policy_id = _policy_filter(request)
    today = timezone.localdate()
    contacts = [
        (record, *funnel_selectors.unbenefited_stage(record, on=today))
        for record in funnel_selectors.unbenefited(user=request.user, policy_id=policy_id)
    ]
    rows = [*figures["mine"], *figures["others"]]
    context = {
        "section": "console",
        "f": figures,
        "contacts": contacts,
        "policy_id": policy_id,
        "policy_title": next((r.version.title for r in rows if r.version.policy_id == policy_id), ""),
        "limit": funnel_selectors.UNBENEFITED_LIMIT,
        "charts": funnel_charts(figures),
        "reasons": funnel_selectors.REASONS,
        "stage_labels": funnel_selectors.STAGES,
    }
    return render(request, "frontend/console/funnel.html", context)


def funnel_charts(figures: dict[str, Any]) -> dict[str, Any]:
    """Rows for the bar charts: the district's stages, the drop-out reasons, 应享未享 by officer."""
    totals = figures["totals"]
    if not totals:
        return {}
    return {
        "stages": [(label, totals.get(key, 0)) for key, label in funnel_selectors.STAGES],
        "reasons": [(label, totals.get(key, 0)) for key, label in funnel_selectors.REASONS],
        "officers": [(o.officer, o.totals.get("unbenefited", 0)) for o in figures["officers"][:15]],
    }


@staff_required
@require_GET
def funnel_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The funnel and the whole to-contact list as an XLSX workbook (two sheets)."""
    figures = funnel_selectors.funnel_for_staff(user=request.user)
    policy_id = _policy_filter(request)
    today = timezone.localdate()
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its sheet
    sheet.title = "各政策漏斗"
    append_text_safe_row(
        sheet,
        [
            "政策",
            "兑现方式",
            "责任部门",
            "责任人",
            *(label for _, label in funnel_selectors.STAGES),
            "应享未享",
            *(f"未继续：{label}" for _, label in funnel_selectors.REASONS),
        ],
    )
    for row in [*figures["mine"], *figures["others"]]:
        if policy_id is not None and row.version.policy_id != policy_id:
            continue
        append_text_safe_row(
            sheet,
            [
                safe_cell(row.version.title),
                row.version.get_mode_display(),
                safe_cell(row.version.department),
                safe_cell(row.version.contact_name),
                *(value if value is not None else "不适用" for _, _, value in row.stages()),
                row.unbenefited,
                *(row.reasons.get(key, 0) for key, _ in funnel_selectors.REASONS),
            ],
        )
    contacts = book.create_sheet("应享未享企业")
    append_text_safe_row(contacts, ["政策", "企业名称", "统一社会信用代码", "已到环节", "未继续的原因", "认定时间"])
    for record in funnel_selectors.unbenefited(user=request.user, policy_id=policy_id, limit=None):
        stage, why = funnel_selectors.unbenefited_stage(record, on=today)
        append_text_safe_row(
            contacts,
            [
                safe_cell(record.policy_version.title),
                safe_cell(record.enterprise.name),
                record.enterprise.credit_code,
                stage,
                why,
                timezone.localtime(record.decided_at).strftime("%Y-%m-%d %H:%M"),
            ],
        )
    buffer = BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"yingxiang-weixiang-{today:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
