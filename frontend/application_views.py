"""Pages of 在线申报: the one-page form, the application with its status timeline, 我的申报, and the staff console.

Enterprise pages resolve the enterprise through enterprise_get_for_user (another enterprise's user gets 404)
and only the enterprise's own users write. Attachments are streamed by views that check the same scope.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from matching.core.evaluator import Outcome
from matching.selectors import enterprise_matches
from policies.models import PolicyVersion
from portal.api.exceptions import ApplicationError
from portal.applications import requirements
from portal.applications import selectors as app_selectors
from portal.applications import services as app_services
from portal.applications.api.serializers import files_from_request
from portal.applications.http import attachment_response
from portal.applications.models import Application
from portal.enterprises.models import Enterprise
from portal.exclusions.selectors import exclusion_conflict_note

from .application_forms import ApplicationForm
from .console_views import staff_required
from .correction_links import correction_links
from .selectors import status_tabs
from .workspace_views import _apply_errors, _context, _enterprise, _is_member

if TYPE_CHECKING:
    from portal.accounts.requests import AuthenticatedHttpRequest


def _application(
    request: AuthenticatedHttpRequest, credit_code: str, application_id: int
) -> tuple[Enterprise, Application]:
    """The enterprise (within the user's scope) and one of its applications; 404 otherwise."""
    enterprise = _enterprise(request, credit_code)
    application = app_selectors.application_get_for_user(
        user=request.user, enterprise=enterprise, application_id=application_id
    )
    return enterprise, application


def _personal(request: AuthenticatedHttpRequest, application: Application) -> dict[str, Any]:
    """What every application page shows of the applicant, as this user may see it (masking lives in selectors)."""
    user = request.user
    return {
        "timeline": app_selectors.application_timeline(user=user, application=application),
        "attachment_groups": _attachment_groups(request, application),
        "contact": app_selectors.application_contact(user=user, application=application),
        "may_download": app_selectors.may_see_personal_data(user=user, application=application),
        "deciding_roles": app_selectors.DECIDING_ROLES_LABEL,
    }


def _attachment_groups(
    request: AuthenticatedHttpRequest, application: Application
) -> list[tuple[str, list[dict[str, Any]]]]:
    """Attachments by material, in the order of the policy's materials list, each with the name this user sees."""
    order = {m.name: m.index for m in requirements.materials_of(application.policy_version)}
    groups: dict[str, list[dict[str, Any]]] = {}
    for attachment in application.attachments.all():
        label = app_selectors.attachment_label(user=request.user, attachment=attachment)
        groups.setdefault(attachment.material, []).append({"file": attachment, "label": label})
    return sorted(groups.items(), key=lambda item: order.get(item[0], len(order)))


def _uploaded(application: Application | None) -> dict[str, list[str]]:
    files: dict[str, list[str]] = {}
    for attachment in application.attachments.all() if application else []:
        files.setdefault(attachment.material, []).append(attachment.original_name)
    return files


def _prefill(request: AuthenticatedHttpRequest, previous: Application | None) -> dict[str, str]:
    if previous is not None:
        return {k: getattr(previous, k) for k in ("contact_name", "contact_phone", "statement")}
    preference = getattr(request.user, "notification_preference", None)
    return {
        "contact_name": app_selectors.chinese_name(request.user),
        "contact_phone": getattr(preference, "phone", "") or "",
    }


def _outcome(enterprise: Enterprise, version: PolicyVersion) -> Outcome | None:
    record = enterprise_matches(enterprise=enterprise).filter(policy_version=version).first()
    return Outcome.from_dict(record.explanation) if record and record.explanation else None


# --- Enterprise pages ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: AuthenticatedHttpRequest, credit_code: str, version_id: int) -> HttpResponse:
    """在线申报: the whole application on one page, submitted once."""
    enterprise = _enterprise(request, credit_code)
    if not _is_member(request, enterprise):
        raise Http404
    version = get_object_or_404(PolicyVersion.objects.select_related("policy"), pk=version_id)
    previous = app_selectors.application_for_version(enterprise=enterprise, version=version)
    if previous is not None and previous.status != Application.Status.WITHDRAWN:
        messages.info(request, "贵企业已申报该政策，以下是申报进度。")
        return redirect(
            "frontend:enterprise_application", credit_code=enterprise.credit_code, application_id=previous.pk
        )
    refusal = ""
    try:
        app_services.application_precheck(enterprise=enterprise, version=version)
    except ApplicationError as error:
        refusal = error.message
    materials = requirements.materials_of(version)
    uploaded = _uploaded(previous)
    if request.method == "POST" and not refusal:
        form = ApplicationForm(request.POST, request.FILES, materials=materials, uploaded=uploaded)
        if form.is_valid():
            try:
                application = app_services.application_submit(
                    enterprise=enterprise,
                    version=version,
                    by=request.user,
                    contact_name=form.cleaned_data["contact_name"],
                    contact_phone=form.cleaned_data["contact_phone"],
                    statement=form.cleaned_data["statement"],
                    files=files_from_request(request),
                )
            except (ValidationError, ApplicationError) as error:
                _apply_errors(form, error)
            else:
                messages.success(request, "申报已提交，受理进度会通过消息通知您。")
                return redirect(
                    "frontend:enterprise_application", credit_code=enterprise.credit_code, application_id=application.pk
                )
    else:
        if request.method == "POST":
            messages.error(request, refusal)
        form = ApplicationForm(initial=_prefill(request, previous), materials=materials, uploaded=uploaded)
    context = _context(
        enterprise,
        "applications",
        version=version,
        form=form,
        refusal=refusal,
        outcome=_outcome(enterprise, version),
        window=requirements.window_text(version),
        reopening=previous is not None,
        today=timezone.localdate(),
        **correction_links(request, enterprise),
    )
    return render(request, "frontend/workspace/application_form.html", context, status=400 if form.errors else 200)


@login_required
def application_list(request: AuthenticatedHttpRequest, credit_code: str) -> HttpResponse:
    """我的申报: every application of the enterprise with its status."""
    enterprise = _enterprise(request, credit_code)
    rows = app_selectors.with_contacts(
        user=request.user, applications=app_selectors.applications_for_enterprise(enterprise=enterprise)
    )
    return render(request, "frontend/workspace/applications.html", _context(enterprise, "applications", rows=rows))


def _detail(
    request: AuthenticatedHttpRequest, enterprise: Enterprise, application: Application, **extra: Any
) -> HttpResponse:
    member = _is_member(request, enterprise)
    form = extra.pop("form", None)
    if form is None and member and application.can_resubmit:
        form = ApplicationForm(
            initial=_prefill(request, application),
            materials=requirements.materials_of(application.policy_version),
            uploaded=_uploaded(application),
        )
    context = _context(
        enterprise,
        "applications",
        application=application,
        member=member,
        **_personal(request, application),
        form=form,
        **extra,
    )
    return render(
        request,
        "frontend/workspace/application_detail.html",
        context,
        status=400 if form is not None and form.errors else 200,
    )


@login_required
def application_detail(request: AuthenticatedHttpRequest, credit_code: str, application_id: int) -> HttpResponse:
    enterprise, application = _application(request, credit_code, application_id)
    return _detail(request, enterprise, application)


@login_required
@require_POST
def application_withdraw(request: AuthenticatedHttpRequest, credit_code: str, application_id: int) -> HttpResponse:
    enterprise, application = _application(request, credit_code, application_id)
    if not _is_member(request, enterprise):
        raise Http404
    try:
        app_services.application_withdraw(
            application=application, by=request.user, reason=request.POST.get("reason", "")
        )
        messages.success(request, "申报已撤回。在申报期内可以重新提交。")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect(
        "frontend:enterprise_application", credit_code=enterprise.credit_code, application_id=application.pk
    )


@login_required
@require_POST
def application_resubmit(request: AuthenticatedHttpRequest, credit_code: str, application_id: int) -> HttpResponse:
    enterprise, application = _application(request, credit_code, application_id)
    if not _is_member(request, enterprise):
        raise Http404
    form = ApplicationForm(
        request.POST,
        request.FILES,
        materials=requirements.materials_of(application.policy_version),
        uploaded=_uploaded(application),
    )
    if form.is_valid():
        try:
            app_services.application_resubmit(
                application=application,
                by=request.user,
                contact_name=form.cleaned_data["contact_name"],
                contact_phone=form.cleaned_data["contact_phone"],
                statement=form.cleaned_data["statement"],
                files=files_from_request(request),
            )
        except ApplicationError as error:
            if error.field in form.fields:
                _apply_errors(form, error)
            else:
                messages.error(request, error.message)
                return redirect(
                    "frontend:enterprise_application", credit_code=enterprise.credit_code, application_id=application.pk
                )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "已重新提交，请等待受理。")
            return redirect(
                "frontend:enterprise_application", credit_code=enterprise.credit_code, application_id=application.pk
            )
    return _detail(request, enterprise, application, form=form)


@login_required
def attachment_download(
    request: AuthenticatedHttpRequest, credit_code: str, application_id: int, attachment_id: int
) -> FileResponse:
    _, application = _application(request, credit_code, application_id)
    return attachment_response(
        app_selectors.attachment_get_for_user(user=request.user, application=application, attachment_id=attachment_id)
    )


# --- Staff console ------------------------------------------------------------------------------

_STAFF_ACTIONS = ("accept", "approve", "reject", "return")


@staff_required
def console_applications(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Applications by status (newly submitted first by default)."""
    status, statuses = status_tabs(Application, request.GET.get("status"), default=Application.Status.SUBMITTED)
    context = {
        "section": "console",
        "rows": app_selectors.applications_for_staff(user=request.user, status=status)[:200],
        "status": status,
        "statuses": statuses,
    }
    return render(request, "frontend/console/applications.html", context)


@staff_required
def console_application(request: AuthenticatedHttpRequest, application_id: int) -> HttpResponse:
    application = app_selectors.application_get_for_staff(user=request.user, application_id=application_id)
    context = {
        "section": "console",
        "application": application,
        **_personal(request, application),
        "outcome": _outcome(application.enterprise, application.policy_version),
        "exclusion_note": exclusion_conflict_note(
            version=application.policy_version, enterprise_id=application.enterprise_id
        ),
    }
    return render(request, "frontend/console/application.html", context)


@staff_required
@require_POST
def console_application_action(request: AuthenticatedHttpRequest, application_id: int, action: str) -> HttpResponse:
    if action not in _STAFF_ACTIONS:
        raise Http404
    application = app_selectors.application_get_for_staff(user=request.user, application_id=application_id)
    text = request.POST.get("text", "")
    try:
        if action == "accept":
            app_services.application_accept(application=application, by=request.user, note=text)
        elif action == "approve":
            app_services.application_approve(application=application, by=request.user, note=text)
        elif action == "reject":
            app_services.application_reject(application=application, by=request.user, reason=text)
        else:
            app_services.application_return(application=application, by=request.user, reason=text)
        messages.success(request, "已办理，企业将收到消息通知。")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect(reverse("frontend:console_application", args=[application.pk]))


@staff_required
def console_attachment_download(
    request: AuthenticatedHttpRequest, application_id: int, attachment_id: int
) -> FileResponse:
    application = app_selectors.application_get_for_staff(user=request.user, application_id=application_id)
    return attachment_response(
        app_selectors.attachment_get_for_user(user=request.user, application=application, attachment_id=attachment_id)
    )
