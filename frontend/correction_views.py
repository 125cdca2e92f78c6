"""Pages of 数据纠错 / 申请核验: the enterprise's form beside every fact (此数据有误, 申请核验), its requests with
their timelines, and the department's queue in the staff console (采纳 / 不予采纳 / 改派).

Enterprise pages are for the enterprise's own users (anyone else: 404, nothing changes); console pages show
only the queues of the departments the officer is assigned to (another department's request: 404).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from portal.api.exceptions import ApplicationError
from portal.corrections import selectors, services
from portal.corrections.facts import correctable, department_name, fact_for, held, owning_departments, value_text
from portal.corrections.http import evidence_response
from portal.corrections.models import CorrectionRequest
from portal.corrections.services import due_working_days
from portal.enterprises.models import Enterprise

from .console_views import staff_required
from .correction_forms import CorrectionForm
from .workspace_views import _context, _enterprise, _is_member

if TYPE_CHECKING:
    from portal.accounts.requests import AuthenticatedHttpRequest

Status = CorrectionRequest.Status
Kind = CorrectionRequest.Kind


def _member_enterprise(request: AuthenticatedHttpRequest, credit_code: str) -> Enterprise:
    enterprise = _enterprise(request, credit_code)
    if not _is_member(request, enterprise):
        raise Http404("未找到")
    return enterprise


@login_required
@require_http_methods(["GET", "POST"])
def correction_new(request: AuthenticatedHttpRequest, credit_code: str) -> HttpResponse:
    enterprise = _member_enterprise(request, credit_code)
    name = request.GET.get("fact", "")
    if not correctable(name):
        raise Http404("该信息项不能在线纠错")
    spec = fact_for(name)
    verification = request.GET.get("kind") == Kind.VERIFICATION
    current = held(enterprise, spec)
    existing = selectors.open_request_for_fact(enterprise=enterprise, field=spec.profile_key)
    form = CorrectionForm(request.POST or None, request.FILES or None, spec=spec, verification=verification)
    if request.method == "POST" and existing is None and form.is_valid():
        try:
            correction = services.correction_submit(
                enterprise=enterprise,
                by=request.user,
                fact=spec.name,
                kind=Kind.VERIFICATION if verification else Kind.CORRECTION,
                value=form.cleaned_data.get("value"),
                statement=form.cleaned_data["statement"],
                files=request.FILES.getlist("evidence"),
            )
        except ApplicationError as error:
            field = error.field if error.field in form.fields else None
            form.add_error(field, error.message)
        else:
            messages.success(
                request, f"已提交{correction.get_department_display()}办理，办理期限 {correction.due_on:%Y-%m-%d}。"
            )
            return redirect(
                "frontend:enterprise_correction", credit_code=enterprise.credit_code, correction_id=correction.pk
            )
    context = _context(
        enterprise,
        "corrections",
        spec=spec,
        verification=verification,
        current=current,
        current_text=value_text(spec, current.value) if current.known else "未提供",
        department=department_name(owning_departments(spec, current)[0]),
        due_days=due_working_days(),
        existing=existing,
        form=form,
    )
    return render(request, "frontend/workspace/correction_form.html", context)


@login_required
def correction_list(request: AuthenticatedHttpRequest, credit_code: str) -> HttpResponse:
    enterprise = _member_enterprise(request, credit_code)
    rows = selectors.requests_for_enterprise(user=request.user, enterprise=enterprise)
    return render(request, "frontend/workspace/corrections.html", _context(enterprise, "corrections", rows=rows))


@login_required
def correction_detail(request: AuthenticatedHttpRequest, credit_code: str, correction_id: int) -> HttpResponse:
    enterprise = _member_enterprise(request, credit_code)
    correction = selectors.request_get_for_enterprise(
        user=request.user, enterprise=enterprise, request_id=correction_id
    )
    context = _context(
        enterprise,
        "corrections",
        correction=correction,
        timeline=selectors.timeline(correction=correction),
        evidence_url="frontend:enterprise_correction_evidence",
    )
    return render(request, "frontend/workspace/correction_detail.html", context)


@login_required
def correction_evidence(
    request: AuthenticatedHttpRequest, credit_code: str, correction_id: int, evidence_id: int
) -> FileResponse:
    enterprise = _member_enterprise(request, credit_code)
    correction = selectors.request_get_for_enterprise(
        user=request.user, enterprise=enterprise, request_id=correction_id
    )
    return evidence_response(selectors.evidence_get(correction=correction, evidence_id=evidence_id))


# --- The department's queue (staff console) ----------------------------------------------------------

_TABS = (
    ("submitted", "待办理"),
    ("overdue", "已逾期"),
    ("accepted", "已采纳"),
    ("rejected", "未采纳"),
)


@staff_required
def console_corrections(request: AuthenticatedHttpRequest) -> HttpResponse:
    tab = request.GET.get("status") or "submitted"
    if tab not in dict(_TABS):
        tab = "submitted"
    user = request.user
    counts = {
        "submitted": selectors.queue_for_staff(user=user, status=Status.SUBMITTED).count(),
        "overdue": selectors.overdue_for_staff(user=user).count(),
        "accepted": selectors.queue_for_staff(user=user, status=Status.ACCEPTED).count(),
        "rejected": selectors.queue_for_staff(user=user, status=Status.REJECTED).count(),
    }
    rows = (
        selectors.overdue_for_staff(user=user) if tab == "overdue" else selectors.queue_for_staff(user=user, status=tab)
    )
    departments = selectors.departments_of(user=user)
    context = {
        "section": "console",
        "tabs": [(value, label, counts[value]) for value, label in _TABS],
        "tab": tab,
        "rows": rows[:200],
        "departments": None if departments is None else [department_name(d) for d in departments],
        "today": timezone.localdate(),
    }
    return render(request, "frontend/console/corrections.html", context)


@staff_required
def console_correction(request: AuthenticatedHttpRequest, correction_id: int) -> HttpResponse:
    correction = selectors.request_get_for_staff(user=request.user, request_id=correction_id)
    enterprise = correction.enterprise
    spec = fact_for(correction.fact)
    now = held(enterprise, spec)
    context = {
        "section": "console",
        "correction": correction,
        "timeline": selectors.timeline(correction=correction),
        "now_text": value_text(spec, now.value) if now.known else "未提供",
        "now": now,
        "officers": selectors.officers_of(department=correction.department),
        "evidence_url": "frontend:console_correction_evidence",
    }
    return render(request, "frontend/console/correction.html", context)


@staff_required
def console_correction_evidence(
    request: AuthenticatedHttpRequest, correction_id: int, evidence_id: int
) -> FileResponse:
    correction = selectors.request_get_for_staff(user=request.user, request_id=correction_id)
    return evidence_response(selectors.evidence_get(correction=correction, evidence_id=evidence_id))


@staff_required
@require_POST
def console_correction_action(request: AuthenticatedHttpRequest, correction_id: int, action: str) -> HttpResponse:
    if action not in ("accept", "reject", "assign"):
        raise Http404
    correction = selectors.request_get_for_staff(user=request.user, request_id=correction_id)
    text = request.POST.get("text", "")
    try:
        if action == "accept":
            services.correction_accept(correction=correction, by=request.user, note=text)
            messages.success(request, "已采纳：数据已按本部门来源更新，平台正在重新匹配政策，企业将收到消息通知。")
        elif action == "reject":
            services.correction_reject(correction=correction, by=request.user, reason=text)
            messages.success(request, "已办结（不予采纳），企业将收到消息通知。")
        else:
            raw = request.POST.get("assignee", "")
            assignee = get_user_model().objects.filter(pk=int(raw)).first() if raw.isdigit() else None
            if assignee is None:
                raise ApplicationError("请选择责任人", code="required", field="assignee")
            services.correction_assign(correction=correction, by=request.user, assignee=assignee)
            messages.success(request, "已改派责任人。")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("frontend:console_correction", correction_id=correction.pk)
