"""The enterprise workspace (我的企业): matches, profile with provenance, sites, inbox.

Every page resolves the enterprise through enterprise_get_for_user, so another enterprise's user gets 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Field
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from matching.core.evaluator import Outcome
from matching.core.vocabulary import COUNTRIES, SELF_DECLARED
from matching.selectors import enterprise_matches
from policies.models import Mode
from portal.accounts.roles import is_enterprise_user
from portal.api.exceptions import ApplicationError
from portal.applications.requirements import window_problem
from portal.applications.selectors import applied_version_ids
from portal.enterprises import selectors as enterprise_selectors
from portal.enterprises import services as enterprise_services
from portal.enterprises.models import FACT_FIELDS, Enterprise, Park, Township
from portal.entitlements import services as entitlement_services
from portal.entitlements.contacts import (
    departments_for_field,
    departments_for_qualification,
    verification_requests,
)
from portal.entitlements.selectors import (
    entitlement_get_for_user,
    entitlement_next_step,
    entitlement_timeline,
    entitlements_for_enterprise,
    exclusion_overview,
)
from portal.notices.selectors import notice_numbers_by_key
from portal.notifications.selectors import notification_get, notification_list, notification_unread_count
from portal.notifications.services import notification_mark_read, notifications_mark_all_read
from portal.receipts import selectors as receipt_selectors

from .correction_links import CORRECTABLE_FIELDS, correction_links
from .forms import FACT_FORM_FIELDS, FactsForm, QualificationEditForm, SiteForm, industry_label

if TYPE_CHECKING:
    from portal.accounts.requests import AuthenticatedHttpRequest


def _enterprise(request: AuthenticatedHttpRequest, credit_code: str) -> Enterprise:
    return enterprise_selectors.enterprise_get_for_user(user=request.user, credit_code=credit_code)


def _is_member(request: AuthenticatedHttpRequest, enterprise: Enterprise) -> bool:
    """Only the enterprise's own users declare facts or file sites here (staff use the registry's tools)."""
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
def dashboard(request: AuthenticatedHttpRequest, credit_code: str) -> HttpResponse:
    enterprise = _enterprise(request, credit_code)
    member = _is_member(request, enterprise)
    # 已申报: policies this enterprise applied for leave 可申报 (a withdrawn application may be made again).
    applied = applied_version_ids(enterprise=enterprise)
    today = timezone.localdate()
    groups: dict[str, list[dict[str, Any]]] = {"enjoy": [], "needs_info": [], "apply": []}
    records = list(enterprise_matches(enterprise=enterprise))
    for record in records:
        if record.outcome == "ineligible":
            continue
        outcome = Outcome.from_dict(record.explanation) if record.explanation else None
        item: dict[str, Any] = {"record": record, "version": record.policy_version, "outcome": outcome}
        # Needs info, but only commitments or a department's judgement stand in the way of a 申报
        # policy: it is applied for (the commitment is made, the judgement given, on application), so
        # it is listed under 可申报 with its 需您承诺 / 待…认定 summary, never as 符合.
        awaiting = outcome is not None and outcome.pending_only and record.policy_version.mode == Mode.APPLY
        if record.outcome == "needs_info" and not awaiting:
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

    # 认定依据: the latest receipt behind each result and each entitlement.
    all_items = [item for group in groups.values() for item in group]
    entitlement_rows = list(entitlements_for_enterprise(enterprise=enterprise))
    decision_receipts, entitlement_receipts = receipt_selectors.latest_receipt_ids_for_enterprise(
        enterprise_id=enterprise.pk,
        version_ids=[item["version"].pk for item in all_items],
        entitlement_ids=[e.pk for e in entitlement_rows],
    )
    for item in all_items:
        item["receipt_id"] = decision_receipts.get(item["version"].pk)
    entitlements = [
        {
            "entitlement": e,
            "receipt_id": entitlement_receipts.get(e.pk),
            "outcome": Outcome.from_dict(e.explanation) if e.explanation else None,
            "review_outcome": (
                Outcome.from_dict(e.review_explanation)
                if e.status == "pending_review" and e.review_explanation
                else None
            ),
            "timeline": entitlement_timeline(entitlement=e),
            "next_step": entitlement_next_step(entitlement=e),
        }
        for e in entitlement_rows
    ]
    return render(
        request,
        "frontend/workspace/dashboard.html",
        _context(
            enterprise,
            "dashboard",
            groups=groups,
            entitlements=entitlements,
            exclusions=exclusion_overview(
                enterprise=enterprise,
                entitlements=entitlement_rows,
                applications=applied.values(),
                records=records,
            ),
            can_act=member,
            applied=list(applied.values()),
            today=today,
            **correction_links(request, enterprise),
        ),
    )


@login_required
@require_POST
def entitlement_action(
    request: AuthenticatedHttpRequest, credit_code: str, entitlement_id: int, action: str
) -> HttpResponse:
    """Confirm (确认), object to (提出异议) or choose (改为享受本项, 同一事项不重复享受) a 免申即享
    entitlement; only the enterprise's own users."""
    enterprise = _enterprise(request, credit_code)
    entitlement = entitlement_get_for_user(user=request.user, enterprise=enterprise, entitlement_id=entitlement_id)
    if action not in ("confirm", "object", "choose"):
        raise Http404
    try:
        if action == "confirm":
            entitlement_services.entitlement_confirm(entitlement=entitlement, by=request.user)
            messages.success(request, "已确认，工作人员将尽快办理兑现。")
        elif action == "choose":
            entitlement_services.entitlement_choose(entitlement=entitlement, by=request.user)
            messages.success(request, "已改为享受本项并确认；同组的另一项不再享受。")
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
    if key == "foreign_investor_country":
        return COUNTRIES.get(value, value)  # 美国, not US
    return str(value)


def _fact_rows(enterprise: Enterprise) -> list[dict[str, Any]]:
    rows = []
    # The registered name is a fact too (from market regulation): it carries its own provenance.
    for key in ("name", *FACT_FIELDS):
        known = enterprise.fact_known(key) or (key in enterprise.provenance and key == "foreign_investor_country")
        field = Enterprise._meta.get_field(key)
        assert isinstance(field, Field)  # facts are the model's own columns
        rows.append(
            {
                "key": key,
                "label": field.verbose_name,
                "value": _display(enterprise, key) if known else "",
                "source": enterprise.fact_source(key) if known else None,
                "as_of": enterprise.fact_as_of(key) if known else None,
                "verified": known and enterprise.fact_verified(key),
            }
        )
    return rows


def _size_row(enterprise: Enterprise) -> dict[str, Any]:
    """The derived size is as verified as the facts it was computed from: 已核验 only when every one of them
    came from a department, 自行填报 when any was declared by the enterprise."""
    inputs = [key for key in enterprise.size_result().inputs if enterprise.fact_known(key)]
    sources = [enterprise.fact_source(key) for key in inputs]
    dates = [d for d in (enterprise.fact_as_of(key) for key in inputs) if d]
    return {
        "source": sources[0] if sources else None,
        "verified": bool(sources) and all(enterprise.fact_verified(key) for key in inputs),
        "self_declared": SELF_DECLARED in sources,
        "departments": sorted({s for s in sources if s != SELF_DECLARED}),
        "as_of": min(dates) if dates else None,
    }


def _qualification_rows(
    enterprise: Enterprise, member: bool, bound: dict[int, QualificationEditForm] | None = None
) -> list[dict[str, Any]]:
    today = timezone.localdate()
    rows = []
    for q in enterprise_selectors.qualification_list(enterprise=enterprise):
        editable = member and not q.verified
        form = None
        if editable:
            form = (bound or {}).get(q.pk) or QualificationEditForm(
                prefix=f"q{q.pk}",
                initial={"certificate_no": q.certificate_no, "valid_from": q.valid_from, "valid_to": q.valid_to},
            )
        rows.append(
            {
                "q": q,
                "expired": q.valid_to is not None and q.valid_to < today,
                "not_yet": q.valid_from > today,
                "editable": editable,
                "form": form,
                "open": bool(bound and q.pk in bound),
            }
        )
    return rows


def _verification_rows(enterprise: Enterprise, links: dict[str, Any]) -> list[dict[str, Any]]:
    """申请核验 for each 免申即享 policy met on self-declared data only: each pending fact leads to the online
    verification (portal.corrections) when a department can verify it, or says whom to ask."""
    rows = []
    for r in verification_requests(enterprise=enterprise, on=timezone.localdate()):
        facts = []
        for f in r.facts:
            field = next((key for key, name in CORRECTABLE_FIELDS.items() if name == f.fact), "")
            self_declared = bool(field) and enterprise.fact_source(field) == SELF_DECLARED
            open_request = links.get("correction_open", {}).get(field) if field else None
            verify_url = f"{links['correction_url']}?fact={f.fact}&kind=verification" if links and self_declared else ""
            facts.append(
                {"label": f.label, "departments": f.departments, "open": open_request, "verify_url": verify_url}
            )
        rows.append({"version": r.version, "facts": facts, "contact": r.contact})
    return rows


def _profile_page(
    request: HttpRequest,
    enterprise: Enterprise,
    *,
    member: bool,
    form: Any = None,
    bound: dict[int, QualificationEditForm] | None = None,
) -> HttpResponse:
    facts = _fact_rows(enterprise)
    links = correction_links(request, enterprise)
    for row in facts:
        # 申请核验 leads somewhere: the departments whose shared data would verify a self-declared fact.
        row["departments"] = departments_for_field(row["key"]) if row["source"] and not row["verified"] else []
        # 此数据有误 / 申请核验 beside each fact a department's record can put right (members only).
        row["fact"] = CORRECTABLE_FIELDS.get(row["key"], "") if links else ""
        row["correction"] = links.get("correction_open", {}).get(row["key"])
    qualifications = _qualification_rows(enterprise, member, bound)
    for row in qualifications:
        row["departments"] = [] if row["q"].verified else departments_for_qualification(row["q"].kind)
    context = _context(
        enterprise,
        "profile",
        facts=facts,
        size=_size_row(enterprise),
        form=form,
        qualifications=qualifications,
        can_act=member,
        verification_requests=_verification_rows(enterprise, links),
        **links,
    )
    return render(request, "frontend/workspace/profile.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: AuthenticatedHttpRequest, credit_code: str) -> HttpResponse:
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
            for key, value in initial.items():
                if isinstance(value, bool):  # a yes/no fact's choice input
                    initial[key] = "true" if value else "false"
            if initial.get("industry_code"):
                initial["industry_code"] = industry_label(initial["industry_code"])
            form = FactsForm(initial=initial, editable=editable)
    elif request.method == "POST":
        raise Http404
    return _profile_page(request, enterprise, member=member, form=form)


def _own_qualification(request: AuthenticatedHttpRequest, enterprise: Enterprise, qualification_id: int) -> Any:
    """The enterprise's qualification, for its own users only (anyone else: 404, nothing changes)."""
    if not _is_member(request, enterprise):
        raise Http404
    q = enterprise_selectors.qualification_list(enterprise=enterprise).filter(pk=qualification_id).first()
    if q is None:
        raise Http404
    return q


@login_required
@require_POST
def qualification_edit(request: AuthenticatedHttpRequest, credit_code: str, qualification_id: int) -> HttpResponse:
    """Correct a self-declared qualification; a refused edit shows the profile again with the reasons."""
    enterprise = _enterprise(request, credit_code)
    q = _own_qualification(request, enterprise, qualification_id)
    form = QualificationEditForm(request.POST, prefix=f"q{q.pk}")
    if form.is_valid():
        try:
            enterprise_services.qualification_update(
                qualification=q,
                valid_from=form.cleaned_data["valid_from"],
                valid_to=form.cleaned_data["valid_to"],
                certificate_no=form.cleaned_data["certificate_no"],
                by=request.user,
            )
        except (ValidationError, ApplicationError) as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"已修改资质：{q.get_kind_display()}")
            return redirect("frontend:enterprise_profile", credit_code=enterprise.credit_code)
    editable = [key for key in FACT_FORM_FIELDS if not enterprise.fact_verified(key)]
    facts_form = FactsForm(editable=editable)
    return _profile_page(request, enterprise, member=True, form=facts_form, bound={q.pk: form})


@login_required
@require_POST
def qualification_withdraw(request: AuthenticatedHttpRequest, credit_code: str, qualification_id: int) -> HttpResponse:
    enterprise = _enterprise(request, credit_code)
    q = _own_qualification(request, enterprise, qualification_id)
    try:
        enterprise_services.qualification_delete(qualification=q, by=request.user, source=SELF_DECLARED)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"已撤回自行填报的资质：{q.get_kind_display()}")
    return redirect("frontend:enterprise_profile", credit_code=enterprise.credit_code)


@login_required
@require_http_methods(["GET", "POST"])
def sites(request: AuthenticatedHttpRequest, credit_code: str) -> HttpResponse:
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
    # The refusal (e.g. an address outside the district) shows only on the field after a refused filing.
    context = _context(
        enterprise, "sites", sites=enterprise_selectors.site_list(enterprise=enterprise), form=form, can_act=member
    )
    return render(request, "frontend/workspace/sites.html", context)


_OWN_PAGES = {
    "profile": "frontend:enterprise_profile",
    "inbox": "frontend:enterprise_inbox",
    "applications": "frontend:enterprise_applications",
    "sites": "frontend:enterprise_sites",
    "follows": "frontend:enterprise_follows",
    "calendar": "frontend:enterprise_calendar",
}


# What a notice's link opens, by kind (the button says where it goes).
_LINK_LABELS = {
    "may_apply": "查看政策",
    "apply_deadline": "查看政策",
    "needs_info": "补充企业信息",
    "confirm_fact": "查看企业信息",
    "qualification_expiring": "查看企业资质",
    "exempt_granted": "查看兑现记录",
    "entitlement_update": "查看兑现记录",
    "application_update": "查看申报",
    "followed_policy": "查看政策",
    "threshold_warning": "查看条件变化提醒",
}


def link_label(kind: str, link: str) -> str:
    """What the notice's button says: where its link goes. A needs-info notice about commitments
    links to the policy page, not the profile, so the target decides before the kind."""
    if (link or "").startswith("/policies/"):
        return "查看政策"
    return _LINK_LABELS.get(kind, "查看详情")


@login_required
def own_page(request: AuthenticatedHttpRequest, page: str) -> HttpResponse:
    """/workspace/<page>/: the signed-in user's own enterprise's page (links in notices carry no credit code)."""
    if page not in _OWN_PAGES:
        raise Http404
    if request.user.enterprise is None:
        return redirect("frontend:workspace")
    return redirect(_OWN_PAGES[page], credit_code=request.user.enterprise.credit_code)


@login_required
@require_POST
def site_withdraw(request: AuthenticatedHttpRequest, credit_code: str, site_id: int) -> HttpResponse:
    """撤销 a filed operating site; only the enterprise's own users (anyone else gets 404, nothing changes)."""
    enterprise = _enterprise(request, credit_code)
    if not _is_member(request, enterprise):
        raise Http404
    site = enterprise_selectors.site_list(enterprise=enterprise).filter(pk=site_id).first()
    if site is None:
        raise Http404
    try:
        enterprise_services.site_withdraw(site=site, by=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"已撤销经营场所备案：{site.address}")
    return redirect("frontend:enterprise_sites", credit_code=enterprise.credit_code)


@login_required
def inbox(request: AuthenticatedHttpRequest, credit_code: str) -> HttpResponse:
    enterprise = _enterprise(request, credit_code)
    # Read state is per user: only the enterprise's own users have an inbox (staff see none).
    member = _is_member(request, enterprise)
    listed = list(notification_list(user=request.user)[:50]) if member else []
    # each with its link's button text, and the number of its 决定通知书 when the notice reports a decision
    numbers = notice_numbers_by_key(user=request.user, enterprise_id=enterprise.pk, keys=[n.dedupe_key for n in listed])
    notifications = [(n, link_label(n.kind, n.link), numbers.get(n.dedupe_key)) for n in listed]
    unread = notification_unread_count(user=request.user) if member else 0
    return render(
        request,
        "frontend/workspace/inbox.html",
        _context(enterprise, "inbox", notifications=notifications, unread_count=unread, can_act=member),
    )


@login_required
@require_POST
def inbox_mark_read(request: AuthenticatedHttpRequest, credit_code: str, notification_id: int) -> HttpResponse:
    enterprise = _enterprise(request, credit_code)
    notification = notification_get(user=request.user, notification_id=notification_id)
    if notification is None or notification.enterprise_id != enterprise.pk:
        raise Http404
    notification_mark_read(notification=notification, user=request.user)
    return redirect("frontend:enterprise_inbox", credit_code=enterprise.credit_code)


@login_required
def inbox_open(request: AuthenticatedHttpRequest, credit_code: str, notification_id: int) -> HttpResponse:
    """Follow a notice's link: it counts as read for this user (only), then go where it points.

    A GET that writes only the caller's own read marker (idempotent, harmless if forged): the notice's
    link must stay an ordinary link. Links are written by our services; anything but a local path is
    refused rather than followed.
    """
    enterprise = _enterprise(request, credit_code)
    notification = notification_get(user=request.user, notification_id=notification_id)
    if notification is None or notification.enterprise_id != enterprise.pk:
        raise Http404
    if not notification.link.startswith("/") or notification.link.startswith("//"):
        raise Http404
    notification_mark_read(notification=notification, user=request.user)
    return redirect(notification.link)


@login_required
@require_POST
def inbox_mark_all_read(request: AuthenticatedHttpRequest, credit_code: str) -> HttpResponse:
    """全部标为已读: for this user, in their own enterprise only (anyone else gets 404, nothing written)."""
    enterprise = _enterprise(request, credit_code)
    if not _is_member(request, enterprise):
        raise Http404
    marked = notifications_mark_all_read(user=request.user)
    messages.success(request, f"已将{marked}条消息标为已读。" if marked else "没有未读消息。")
    return redirect("frontend:enterprise_inbox", credit_code=enterprise.credit_code)
