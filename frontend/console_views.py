"""The staff console (工作台): policy list, editor with rule builder, review, publish and match-run progress.

Any staff role may look; policies.services checks the role each write needs (editor / reviewer).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from matching.core.describe import describe_rule
from matching.core.evaluator import Outcome
from matching.core.rules import RuleError
from matching.models import MatchRun
from policies import selectors as policy_selectors
from policies import services as policy_services
from policies.models import GoldenCase, PolicyVersion, PreviewRun
from portal.accounts.permissions import can_edit_policies, can_review_policies
from portal.accounts.roles import is_staff_user
from portal.api.exceptions import ApplicationError
from portal.enterprises.place_names import place_choices
from portal.entitlements import services as entitlement_services
from portal.entitlements.models import Entitlement
from portal.entitlements.selectors import entitlement_timeline, entitlements_for_staff
from portal.notifications import services as notification_services
from portal.notifications.models import Delivery
from portal.notifications.selectors import delivery_get, delivery_list
from portal.receipts.selectors import latest_entitlement_receipt_ids

from . import rule_builder as rb
from .forms import GoldenCaseForm, PolicyContentForm, PolicyCreateForm
from .selectors import status_tabs

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.accounts.requests import AuthenticatedHttpRequest


Status = PolicyVersion.Status
DEFAULT_RULE = {"all": [{"fact": "industry", "op": "under", "value": ["65"]}]}


def staff_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_staff_user(request.user):
            raise PermissionDenied("仅限工作人员访问")
        return view(request, *args, **kwargs)

    return wrapped


def _version(version_id: int) -> PolicyVersion:
    return get_object_or_404(policy_selectors.staff_version_queryset(), pk=version_id)


@staff_required
def console(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = []
    for policy in policy_selectors.staff_policy_list():
        versions = sorted(policy.versions.all(), key=lambda v: v.number)
        if versions:
            rows.append({"policy": policy, "latest": versions[-1], "count": len(versions)})
    context = {"rows": rows, "can_edit": can_edit_policies(request.user), "section": "console"}
    return render(request, "frontend/console/policy_list.html", context)


@staff_required
@require_GET
def review_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    """待我审核: what this reviewer may approve (not their own drafts) and what waits to be published."""
    queue = policy_selectors.staff_review_queue(user=request.user)
    context = {"queue": queue, "can_review": can_review_policies(request.user), "section": "console"}
    return render(request, "frontend/console/review_queue.html", context)


# --- Rule builder --------------------------------------------------------------------------------


def _builder_context(
    rule: Any,
    *,
    rows: list[rb.Row] | None = None,
    combinator: str | None = None,
    use_json: bool = False,
    rule_json: str | None = None,
) -> dict[str, Any]:
    """What the builder partial needs: rows (when the rule is flat), the JSON box and the plain words."""
    if rows is None:
        flat = rb.rows_from_rule(rule)
        if flat is None:
            combinator, rows, use_json = "all", [], True
        else:
            combinator, rows = flat
    json_text = rule_json if rule_json is not None else json.dumps(rule, ensure_ascii=False, indent=2)
    return {
        "combinator": combinator or "all",
        "rows": rows,
        "use_json": use_json,
        "rule_json": json_text,
        "fact_choices": rb.fact_choices(),
        **_preview(rule, rows),
    }


def _preview(rule: Any, rows: list[rb.Row], json_error: str = "") -> dict[str, Any]:
    """The rule in plain words, or its problems by node path (also attached to the rows they name)."""
    if json_error:
        return {"words": [], "problems": [{"field": "rule", "message": json_error}]}
    try:
        return {"words": describe_rule(rule), "problems": []}
    except RuleError as error:
        problems = error.as_fields()
        rb.attach_errors(rows, problems)
        return {"words": [], "problems": problems}


@staff_required
@require_POST
def rule_preview(request: AuthenticatedHttpRequest) -> HttpResponse:
    rule, rows, _combinator, json_error = rb.rule_from_post(request.POST)
    context = {**_preview(rule, rows, json_error), "rule_json": json.dumps(rule, ensure_ascii=False, indent=2)}
    return render(request, "frontend/console/rule_preview.html", context)


@staff_required
@require_GET
def rule_row(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A new row (add), or one row re-drawn for the fact just chosen."""
    rows = rb.rows_from_post(request.GET)
    if "index" in request.GET:
        row = next((r for r in rows if r.index == int(request.GET["index"])), None) or rb.new_row(0)
        if row.spec is None or request.GET.get("changed") == "fact":
            row = rb.new_row(row.index, row.fact)
    else:
        row = rb.new_row(max((r.index for r in rows), default=-1) + 1)
    return render(request, "frontend/console/rule_row.html", {"row": row, "fact_choices": rb.fact_choices()})


# --- Editor --------------------------------------------------------------------------------------


def _apply_errors(form: Any, error: Exception) -> list[dict[str, str]]:
    """Service errors onto the form; rule errors (named rule.<path>) are returned for the builder."""
    rule_problems: list[dict[str, str]] = []
    if isinstance(error, ApplicationError):
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return rule_problems
    assert isinstance(error, ValidationError)
    by_field = error.error_dict if hasattr(error, "error_dict") else {"__all__": error.error_list}
    for name, items in by_field.items():
        for item in items:
            message = " ".join(item.messages)
            if name == "rule" or name.startswith("rule."):
                rule_problems.append({"field": name, "message": message})
            else:
                form.add_error(name if name in form.fields else None, message)
    return rule_problems


def _editor_post(
    request: AuthenticatedHttpRequest, form: Any, save: Callable[[dict[str, Any], Any], PolicyVersion]
) -> tuple[PolicyVersion | None, dict[str, Any]]:
    """Parse form + rule; call `save`; (version or None, builder context)."""
    rule, rows, combinator, json_error = rb.rule_from_post(request.POST)
    use_json = bool(request.POST.get("use_json"))
    builder = _builder_context(
        rule, rows=rows, combinator=combinator, use_json=use_json, rule_json=request.POST.get("rule_json")
    )
    if json_error:
        builder.update(_preview(rule, rows, json_error))
        form.is_valid()
        return None, builder
    if not form.is_valid():
        return None, builder
    try:
        return save(form.cleaned_data, rule), builder
    except (ValidationError, ApplicationError) as error:
        problems = _apply_errors(form, error)
        if problems:
            rb.attach_errors(rows, problems)
            builder["problems"] = problems
            builder["words"] = []
        return None, builder


@staff_required
@require_http_methods(["GET", "POST"])
def policy_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not can_edit_policies(request.user):
        raise PermissionDenied("只有政策编辑人员可以新建政策")
    if request.method == "POST":
        form = PolicyCreateForm(request.POST)

        def save(data: dict[str, Any], rule: Any) -> PolicyVersion:
            return policy_services.policy_create(by=request.user, rule=rule, **data)

        version, builder = _editor_post(request, form, save)
        if version is not None:
            messages.success(request, "已保存草稿。")
            return redirect("frontend:console_version", version_id=version.pk)
    else:
        form, builder = PolicyCreateForm(), _builder_context(DEFAULT_RULE)
    return render(
        request, "frontend/console/editor.html", {"form": form, "version": None, "section": "console", **builder}
    )


@staff_required
@require_http_methods(["GET", "POST"])
def version_detail(request: AuthenticatedHttpRequest, version_id: int) -> HttpResponse:
    version = _version(version_id)
    editing = version.is_editable and can_edit_policies(request.user)
    form: PolicyContentForm | None = None
    builder: dict[str, Any] = {}
    if editing:
        if request.method == "POST":
            form = PolicyContentForm(request.POST)

            def save(data: dict[str, Any], rule: Any) -> PolicyVersion:
                saved = policy_services.policy_version_update(version=version, by=request.user, rule=rule, **data)
                if request.POST.get("action") == "submit":
                    saved = policy_services.policy_submit(version=saved, by=request.user)
                return saved

            saved, builder = _editor_post(request, form, save)
            if saved is not None:
                messages.success(request, "已提交审核。" if saved.status == Status.IN_REVIEW else "已保存草稿。")
                return redirect("frontend:console_version", version_id=version.pk)
        else:
            form, builder = (
                PolicyContentForm(initial=PolicyContentForm.initial_from(version)),
                _builder_context(version.rule),
            )
    elif request.method == "POST":
        raise PermissionDenied("该版本不能在此修改")

    try:
        words = describe_rule(version.rule)
    except RuleError:
        words = []
    golden_rows = policy_selectors.staff_golden_results(version=version)
    context = {
        "version": version,
        "form": form,
        "section": "console",
        "rule_words": words,
        "transitions": policy_selectors.staff_version_transitions(version=version),
        "golden_rows": golden_rows,
        "golden_failed": sum(1 for _, result in golden_rows if result is None or not result.passed),
        "can_edit_golden": version.is_editable and can_edit_policies(request.user),
        "can_review": can_review_policies(request.user),
        # Four eyes (policy_approve refuses the author or submitter): say so instead of offering the button.
        "own_version": request.user.pk in (version.author_id, version.submitted_by_id),
        "run": MatchRun.objects.filter(policy_version=version).order_by("-created_at", "-pk").first(),
        "preview_run": policy_selectors.preview_run_latest(version=version),
        "rule_contradictions": policy_selectors.rule_contradictions(version=version),
        **builder,
    }
    template = "frontend/console/editor.html" if editing else "frontend/console/version.html"
    return render(request, template, context)


ACTIONS: dict[str, Callable[..., PolicyVersion]] = {
    "approve": policy_services.policy_approve,
    "reject": policy_services.policy_reject,
    "publish": policy_services.policy_publish,
}
DONE = {"approve": "已审核通过，可以发布。", "reject": "已退回修改。", "publish": "已发布，正在为全区企业匹配。"}


@staff_required
@require_POST
def version_action(request: AuthenticatedHttpRequest, version_id: int) -> HttpResponse:
    version = _version(version_id)
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        messages.error(request, "未知的操作")
        return redirect("frontend:console_version", version_id=version.pk)
    try:
        ACTIONS[action](version=version, by=request.user, comment=request.POST.get("comment", "").strip())
    except ApplicationError as error:
        messages.error(request, error.message)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, DONE[action])
    return redirect("frontend:console_version", version_id=version.pk)


@staff_required
@require_http_methods(["GET", "POST"])
def version_preview(request: AuthenticatedHttpRequest, version_id: int) -> HttpResponse:
    """GET: the counts computed in this request (small districts, the API's twin).

    POST: start a preview run on a worker and show its progress; the page never waits for the count.
    """
    version = _version(version_id)
    if request.method == "POST":
        try:
            run = policy_services.preview_run_request(version=version, by=request.user)
        except ApplicationError as error:
            raise PermissionDenied(error.message) from error
        if request.htmx:
            return _preview_run_response(request, run.pk)
        return redirect(reverse("frontend:console_preview_run", args=[run.pk]))
    preview = policy_selectors.policy_preview(version=version, sample_size=5)
    return render(request, "frontend/console/preview.html", {"preview": preview, "version": version})


def _preview_run_response(request: AuthenticatedHttpRequest, run_id: int) -> HttpResponse:
    run = policy_selectors.preview_run_get(run_id=run_id)
    context = {"run": run, "version": run.version, **_preview_result_context(run)}
    if request.htmx:
        return render(request, "frontend/console/preview_run.html", context)
    return render(request, "frontend/console/preview_run_page.html", {**context, "section": "console"})


def _preview_result_context(run: PreviewRun) -> dict[str, Any]:
    """The finished result, with the condition that excludes most picked out for the chart."""
    result = run.result if run.status == run.Status.DONE else None
    if not result:
        return {"preview": None}
    conditions = result.get("conditions") or []
    worst = max(conditions, key=lambda c: c["unmet"], default=None)
    if worst is not None and worst["unmet"] == 0:
        worst = None
    samples = [row for status in policy_selectors.OUTCOMES for row in result["samples"].get(status, [])]
    return {
        "preview": result,
        "sample_size": policy_services.PREVIEW_SAMPLE_SIZE,
        "worst": worst,
        "samples": samples,
        "condition_bars": [(c["wording"], [c["unmet"], c["unknown"]]) for c in conditions],
        "outcome_bars": [
            ("符合", result["eligible"]),
            ("需补充信息", result["needs_info"]),
            ("不符合", result["ineligible"]),
        ],
    }


@staff_required
@require_GET
def preview_run(request: AuthenticatedHttpRequest, run_id: int) -> HttpResponse:
    """A preview run: progress while it runs (polled by htmx), then the counts, chart and sample."""
    return _preview_run_response(request, run_id)


@staff_required
@require_GET
def run_progress(request: AuthenticatedHttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(MatchRun, pk=run_id)
    return render(request, "frontend/console/run_progress.html", {"run": run})


# --- Golden cases (标准案例) --------------------------------------------------------------------------


def _golden_editable(version: PolicyVersion, user: User) -> None:
    """Refuse early (the services check again, under the version's lock)."""
    if not can_edit_policies(user):
        raise PermissionDenied("只有政策编辑人员可以修改标准案例")
    if not version.is_editable:
        raise PermissionDenied("已提交的版本不能修改标准案例；如需修改，请新建版本")


def _golden_form(request: AuthenticatedHttpRequest, version: PolicyVersion, case: GoldenCase | None) -> HttpResponse:
    _golden_editable(version, request.user)
    zones, parks = place_choices()
    if request.method == "POST":
        form = GoldenCaseForm(request.POST, held_from=version.effective_from, zones=zones, parks=parks)
        if form.is_valid():
            fields = {
                "name": form.cleaned_data["name"],
                "expected": form.cleaned_data["expected"],
                "on": form.cleaned_data["on"],
                "profile": form.profile(),
            }
            try:
                if case is None:
                    policy_services.golden_case_create(version=version, by=request.user, **fields)
                else:
                    policy_services.golden_case_update(case=case, by=request.user, **fields)
            except ApplicationError as error:
                form.add_error(form.field_for(error.field or ""), error.message)
            except ValidationError as error:
                for name, items in error.error_dict.items():
                    for item in items:
                        detail = " ".join(item.messages)
                        target = form.field_for(name)
                        if target == "profile_json" and name.startswith("profile."):
                            detail = f"{name.removeprefix('profile.')}：{detail}"
                        form.add_error(target, detail)
            else:
                messages.success(request, "已保存标准案例。")
                return redirect(reverse("frontend:console_version", args=[version.pk]) + "#golden-heading")
    else:
        initial = GoldenCaseForm.initial_from(case) if case is not None else {"expected": "eligible"}
        form = GoldenCaseForm(initial=initial, held_from=version.effective_from, zones=zones, parks=parks)
    context = {"form": form, "version": version, "case": case, "section": "console"}
    return render(request, "frontend/console/golden_form.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def golden_new(request: AuthenticatedHttpRequest, version_id: int) -> HttpResponse:
    return _golden_form(request, _version(version_id), None)


@staff_required
@require_http_methods(["GET", "POST"])
def golden_edit(request: AuthenticatedHttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(GoldenCase.objects.select_related("version"), pk=case_id)
    return _golden_form(request, case.version, case)


@staff_required
@require_POST
def golden_delete(request: AuthenticatedHttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(GoldenCase.objects.select_related("version"), pk=case_id)
    _golden_editable(case.version, request.user)
    try:
        policy_services.golden_case_delete(case=case, by=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"已删除标准案例“{case.name}”。")
    return redirect(reverse("frontend:console_version", args=[case.version_id]) + "#golden-heading")


# --- 免申即享 entitlements, objections and delivery status ------------------------------------------


@staff_required
def entitlements(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Entitlements by status (objections first by default), with the staff actions each allows.

    `?list=recovery` lists the possible 追回 cases instead: disbursed entitlements that a newer version
    of the policy no longer finds eligible (nothing is clawed back automatically). 待复核 and 追回 cards
    show the two decisions side by side: the one the entitlement rests on, and the newer version's.
    """
    recovery = request.GET.get("list") == "recovery"
    status, statuses = status_tabs(Entitlement, request.GET.get("status"), default=Entitlement.Status.OBJECTED)
    queryset = entitlements_for_staff(user=request.user, recovery=recovery, status=None if recovery else status)
    shown = list(queryset[:200])
    receipts = latest_entitlement_receipt_ids(entitlement_ids=[e.pk for e in shown])
    rows = [
        {
            "e": e,
            "receipt_id": receipts.get(e.pk),
            "timeline": entitlement_timeline(entitlement=e, for_staff=True),
            "outcome": Outcome.from_dict(e.explanation) if e.explanation else None,
            "review_outcome": Outcome.from_dict(e.review_explanation) if e.review_explanation else None,
        }
        for e in shown
    ]
    context = {
        "section": "console",
        "rows": rows,
        "status": "" if recovery else status,
        "statuses": statuses,
        "recovery": recovery,
        "recovery_count": entitlements_for_staff(user=request.user, recovery=True).count(),
    }
    return render(request, "frontend/console/entitlements.html", context)


@staff_required
@require_POST
def entitlement_action(request: AuthenticatedHttpRequest, entitlement_id: int, action: str) -> HttpResponse:
    entitlement = get_object_or_404(entitlements_for_staff(user=request.user), pk=entitlement_id)
    text = request.POST.get("text", "")
    try:
        if action == "disburse":
            entitlement_services.entitlement_disburse(entitlement=entitlement, by=request.user)
        elif action == "revoke":
            entitlement_services.entitlement_revoke(entitlement=entitlement, by=request.user, reason=text)
        elif action in ("resolve-confirm", "resolve-revoke"):
            entitlement_services.entitlement_resolve(
                entitlement=entitlement, by=request.user, decision=action.removeprefix("resolve-"), resolution=text
            )
        elif action in ("review-keep", "review-revoke"):
            entitlement_services.entitlement_review_resolve(
                entitlement=entitlement, by=request.user, decision=action.removeprefix("review-"), reason=text
            )
        elif action == "recovery-note":
            entitlement_services.entitlement_recovery_note(entitlement=entitlement, by=request.user, note=text)
        else:
            raise PermissionDenied("未知操作")
        messages.success(request, "已办理。")
    except ApplicationError as error:
        messages.error(request, error.message)
    # Back to the list the form came from; only a known status is echoed, never a caller-given URL.
    status = request.POST.get("status", "")
    target = reverse("frontend:console_entitlements")
    if request.POST.get("list") == "recovery":
        return redirect(f"{target}?list=recovery")
    return redirect(f"{target}?status={status}" if status in Entitlement.Status.values else target)


@staff_required
def deliveries(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Delivery status of pushes (e-mail, SMS, webhooks); dead letters first by default."""
    status, statuses = status_tabs(Delivery, request.GET.get("status"), default=Delivery.Status.DEAD)
    context = {
        "section": "console",
        "rows": delivery_list(user=request.user, status=status)[:200],
        "status": status,
        "statuses": statuses,
    }
    return render(request, "frontend/console/deliveries.html", context)


@staff_required
@require_POST
def delivery_retry(request: AuthenticatedHttpRequest, delivery_id: int) -> HttpResponse:
    delivery = delivery_get(user=request.user, delivery_id=delivery_id)
    if delivery is None:
        raise PermissionDenied("未找到该投递记录")
    try:
        notification_services.delivery_retry(delivery=delivery, by=request.user)
        messages.success(request, "已重新排队发送。")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("/console/deliveries/?status=" + delivery.status)
