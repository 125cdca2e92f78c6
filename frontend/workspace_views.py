"""The enterprise workspace (我的企业): matches, profile with provenance, sites, inbox.

Every page resolves the enterprise through enterprise_get_for_user, so another enterprise's user gets 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from matching.evaluator import Outcome
from matching.selectors import enterprise_matches
from matching.vocabulary import SELF_DECLARED
from policies.models import Mode
from portal.api.exceptions import ApplicationError
from portal.applications.rules import window_problem
from portal.applications.selectors import applied_version_ids
from portal.enterprises import selectors as enterprise_selectors
from portal.enterprises import services as enterprise_services
from portal.enterprises.models import FACT_FIELDS, Enterprise, Park, Township

from .forms import FACT_FORM_FIELDS, FactsForm, SiteForm, industry_label


def _enterprise(request: HttpRequest, credit_code: str) -> Enterprise:
    return enterprise_selectors.enterprise_get_for_user(user=request.user, credit_code=credit_code)


def _is_member(request: HttpRequest, enterprise: Enterprise) -> bool:
    """Only the enterprise's own users declare facts or file sites here (staff use the registry's tools)."""
    from portal.accounts.roles import is_enterprise_user

    return is_enterprise_user(request.user) and request.user.enterprise_id == enterprise.pk


def _context(enterprise: Enterprise, tab: str, **extra: Any) -> dict[str, Any]:
    return {"enterprise": enterprise, "tab": tab, "section": "workspace", **extra}


def _apply_errors(form: Any, error: Exception) -> None:
    """Put a service's ValidationError / ApplicationError on the form fields it names."""
    if isinstance(error, ApplicationError):
        field = getattr(error, "field", None)
        form.add_error(field if field in form.fields else None, error.message)
        return
    assert isinstance(error, ValidationError)
    by_field = error.error_dict if hasattr(error, "error_dict") else {"__all__": error.error_list}
    for name, items in by_field.items():
        for item in items:
            message = " ".join(item.messages)
            form.add_error(name if name in form.fields else None, message)


@login_required
def dashboard(request: HttpRequest, credit_code: str) -> HttpResponse:
    enterprise = _enterprise(request, credit_code)
    member = _is_member(request, enterprise)
    # 已申报: policies this enterprise applied for leave 可申报 (a withdrawn application may be made again).
    applied = applied_version_ids(enterprise=enterprise)
    today = timezone.localdate()
    groups: dict[str, list[dict[str, Any]]] = {"enjoy": [], "needs_info": [], "apply": []}
    for record in enterprise_matches(enterprise=enterprise):
        if record.outcome == "ineligible":
            continue
        outcome = Outcome.from_dict(record.explanation) if record.explanation else None
        item = {"record": record, "version": record.policy_version, "outcome": outcome}
        if record.outcome == "needs_info":
            groups["needs_info"].append(item)
        elif record.policy_version.mode == Mode.EXEMPT:
            groups["enjoy"].append(item)
        elif record.policy_version_id not in applied:
            item["window_note"] = window_problem(record.policy_version, today)
            if member and not item["window_note"]:
                item["apply_url"] = reverse(
                    "frontend:enterprise_apply", args=[enterprise.credit_code, record.policy_version_id]
                )
            groups["apply"].append(item)
    from portal.entitlements.selectors import (
        entitlement_next_step,
        entitlement_timeline,
        entitlements_for_enterprise,
    )

    entitlements = [
        {
            "entitlement": e,
            "outcome": Outcome.from_dict(e.explanation) if e.explanation else None,
            "review_outcome": (
                Outcome.from_dict(e.review_explanation)
                if e.status == "pending_review" and e.review_explanation
                else None
            ),
            "timeline": entitlement_timeline(entitlement=e),
            "next_step": entitlement_next_step(entitlement=e),
        }
        for e in entitlements_for_enterprise(enterprise=enterprise)
    ]
    return render(
        request,
        "frontend/workspace/dashboard.html",
        _context(
            enterprise,
            "dashboard",
            groups=groups,
            entitlements=entitlements,
            can_act=member,
            applied=list(applied.values()),
            today=today,
        ),
    )


@login_required
@require_POST
def entitlement_action(request: HttpRequest, credit_code: str, entitlement_id: int, action: str) -> HttpResponse:
    """Confirm (确认) or object to (提出异议) a 免申即享 entitlement; only the enterprise's own users."""
    from portal.entitlements import services as entitlement_services
    from portal.entitlements.selectors import entitlement_get_for_user

    enterprise = _enterprise(request, credit_code)
    entitlement = entitlement_get_for_user(user=request.user, enterprise=enterprise, entitlement_id=entitlement_id)
    if action not in ("confirm", "object"):
        raise Http404
    try:
        if action == "confirm":
            entitlement_services.entitlement_confirm(entitlement=entitlement, by=request.user)
            messages.success(request, "已确认，工作人员将尽快办理兑现。")
        else:
            entitlement_services.entitlement_object(
                entitlement=entitlement, by=request.user, reason=request.POST.get("reason", "")
            )
            messages.success(request, "异议已提交，工作人员处理后会通知您。")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("frontend:enterprise_dashboard", credit_code=enterprise.credit_code)


def _display(enterprise: Enterprise, key: str) -> str:
    value = getattr(enterprise, key)
    if value is None or value == "":
        return "" if key not in enterprise.provenance else ("无" if key == "foreign_investor_country" else "")
    if key == "industry_code":
        return industry_label(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if key == "tax_credit_rating":
        return enterprise.get_tax_credit_rating_display()
    return str(value)


def _fact_rows(enterprise: Enterprise) -> list[dict[str, Any]]:
    rows = []
    for key in FACT_FIELDS:
        known = enterprise.fact_known(key) or (key in enterprise.provenance and key == "foreign_investor_country")
        rows.append(
            {
                "key": key,
                "label": Enterprise._meta.get_field(key).verbose_name,
                "value": _display(enterprise, key) if known else "",
                "source": enterprise.fact_source(key) if known else None,
                "as_of": enterprise.fact_as_of(key) if known else None,
                "verified": known and enterprise.fact_verified(key),
            }
        )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest, credit_code: str) -> HttpResponse:
    enterprise = _enterprise(request, credit_code)
    member = _is_member(request, enterprise)
    editable = [key for key in FACT_FORM_FIELDS if not enterprise.fact_verified(key)]
    form = None
    if member:
        if request.method == "POST":
            form = FactsForm(request.POST, editable=editable)
            if form.is_valid():
                try:
                    changed = enterprise_services.enterprise_update_facts(
                        enterprise=enterprise, facts=form.facts(), source=SELF_DECLARED, by=request.user
                    )
                except (ValidationError, ApplicationError) as error:
                    _apply_errors(form, error)
                else:
                    messages.success(
                        request, f"已保存，更新了{len(changed)}项信息。" if changed else "已保存，信息没有变化。"
                    )
                    return redirect("frontend:enterprise_profile", credit_code=enterprise.credit_code)
        else:
            initial = {key: getattr(enterprise, key) for key in editable if enterprise.fact_known(key)}
            if "above_designated_size" in initial:
                initial["above_designated_size"] = "true" if initial["above_designated_size"] else "false"
            if initial.get("industry_code"):
                initial["industry_code"] = industry_label(initial["industry_code"])
            form = FactsForm(initial=initial, editable=editable)
    elif request.method == "POST":
        raise Http404
    qualifications = enterprise_selectors.qualification_list(enterprise=enterprise)
    context = _context(enterprise, "profile", facts=_fact_rows(enterprise), form=form, qualifications=qualifications)
    return render(request, "frontend/workspace/profile.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def sites(request: HttpRequest, credit_code: str) -> HttpResponse:
    enterprise = _enterprise(request, credit_code)
    member = _is_member(request, enterprise)
    townships = [(t.code, t.name) for t in Township.objects.order_by("code")]
    parks = list(Park.objects.order_by("sort_order", "code").values_list("code", "name"))
    form = SiteForm(request.POST or None, townships=townships, parks=parks) if member else None
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            try:
                enterprise_services.site_file(
                    enterprise=enterprise,
                    address=form.cleaned_data["address"],
                    township_code=form.cleaned_data["township"],
                    park_codes=form.cleaned_data["parks"],
                    by=request.user,
                )
            except (ValidationError, ApplicationError) as error:
                _apply_errors(form, error)
            else:
                messages.success(request, "经营场所已备案，即时生效。")
                return redirect("frontend:enterprise_sites", credit_code=enterprise.credit_code)
    context = _context(
        enterprise,
        "sites",
        sites=enterprise_selectors.site_list(enterprise=enterprise),
        form=form,
        outside_message=enterprise_services.OUTSIDE_JURISDICTION_MESSAGE,
    )
    return render(request, "frontend/workspace/sites.html", context)


@login_required
def inbox(request: HttpRequest, credit_code: str) -> HttpResponse:
    from portal.notifications.selectors import notification_list

    enterprise = _enterprise(request, credit_code)
    # Read state is per user: only the enterprise's own users have an inbox (staff see none).
    notifications = notification_list(user=request.user)[:50] if _is_member(request, enterprise) else []
    return render(request, "frontend/workspace/inbox.html", _context(enterprise, "inbox", notifications=notifications))


@login_required
@require_POST
def inbox_mark_read(request: HttpRequest, credit_code: str, notification_id: int) -> HttpResponse:
    from portal.notifications.selectors import notification_get
    from portal.notifications.services import notification_mark_read

    enterprise = _enterprise(request, credit_code)
    notification = notification_get(user=request.user, notification_id=notification_id)
    if notification is None or notification.enterprise_id != enterprise.pk:
        raise Http404
    notification_mark_read(notification=notification, user=request.user)
    return redirect("frontend:enterprise_inbox", credit_code=enterprise.credit_code)
