"""Public pages: home, the 政策清单, a policy's page, the 政策计算器 and the industry autocomplete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from matching.core.describe import describe_rule
from matching.core.evaluator import Outcome, compile_rule
from matching.core.rules import RuleError
from matching.selectors import enterprise_matches
from policies import selectors as policy_selectors
from policies.models import Mode, PolicyVersion
from portal.accounts.roles import is_staff_user
from portal.api.exceptions import ApplicationError
from portal.applications.selectors import applied_version_ids
from portal.applications.services import application_precheck
from portal.enterprises.models import Enterprise
from portal.enterprises.place_names import place_choices
from portal.enterprises.selectors import enterprise_profile
from portal.follows.selectors import followed_policy_ids

from .correction_links import correction_links
from .fact_inputs import CALCULATOR, declared_summary, initial_from_profile
from .forms import CalculatorForm, PolicyFilterForm, industry_label, industry_search

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from portal.accounts.models import User
    from portal.accounts.requests import HtmxHttpRequest


PAGE_SIZE = 10


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/home.html")


def _zones() -> list[tuple[str, str]]:
    return place_choices()[0]


def _parks() -> list[tuple[str, str]]:
    return place_choices()[1]


def _departments() -> list[str]:
    return sorted(
        set(policy_selectors.published_versions_in_effect().exclude(department="").values_list("department", flat=True))
    )


def describe(version: PolicyVersion) -> list[str]:
    """The rule in plain words; an invalid stored rule falls back to the written conditions."""
    try:
        return describe_rule(version.rule)
    except RuleError:
        return [version.conditions_text] if version.conditions_text else []


def policy_list(request: HtmxHttpRequest) -> HttpResponse:
    form = PolicyFilterForm(request.GET or None, zones=_zones(), departments=_departments())
    filters = form.filters() if form.is_valid() else {}
    versions = policy_selectors.policy_list(filters=filters) if (form.is_valid() or not request.GET) else []
    page = Paginator(versions, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    # The exports are the API's (policies/api): the same filters, only the ones given (the API
    # refuses a blank choice), so a download holds exactly the policies listed.
    listed = form.is_valid() or not request.GET
    export_query = urlencode({k: v for k, v in filters.items() if v not in ("", None)}) if listed else None
    context = {
        "form": form,
        "page": page,
        "total": len(versions),
        "query": query.urlencode(),
        "export_query": export_query,
        "today": timezone.localdate(),
        "section": "policies",
    }
    template = "frontend/partials/policy_results.html" if request.htmx else "frontend/policy_list.html"
    return render(request, template, context)


def _enterprise_outcome(user: User | AnonymousUser, version: PolicyVersion) -> dict[str, Any] | None:
    """The logged-in enterprise user's own enterprise against this policy, and whether it may apply.

    The status is matching's decision (the MatchRecord; no record means 不符合), explained by the
    record's stored explanation, or by evaluating the rule now when the record has none (a pair that
    was never eligible has no record). Only the user's own enterprise is ever read here.
    """
    if not user.is_authenticated or user.enterprise is None:
        return None
    enterprise = user.enterprise
    today = timezone.localdate()
    record = enterprise_matches(enterprise=enterprise).filter(policy_version=version).first()
    outcome = Outcome.from_dict(record.explanation) if record is not None and record.explanation else None
    if outcome is None:
        try:
            outcome = compile_rule(version.rule).evaluate(enterprise_profile(enterprise=enterprise), on=today)
        except RuleError:
            outcome = None
    status = record.outcome if record is not None else "ineligible"
    if outcome is not None and outcome.status != status:
        outcome = None  # an explanation of another decision would not be true; the status stands alone
    result: dict[str, Any] = {
        "enterprise": enterprise,
        "status": status,
        "outcome": outcome,
        "followed": version.policy_id in followed_policy_ids(enterprise=enterprise),
    }
    if version.mode != Mode.EXEMPT:
        application = applied_version_ids(enterprise=enterprise).get(version.pk)
        if application is not None:
            result["application"] = application
        else:
            try:
                application_precheck(enterprise=enterprise, version=version)
            except ApplicationError as error:
                # 不符合 is already the box's headline; other refusals (window closed…) are news.
                result["apply_refusal"] = "" if error.code == "ineligible" else error.message
            else:
                result["apply_url"] = reverse("frontend:enterprise_apply", args=[enterprise.credit_code, version.pk])
    return result


def policy_detail(request: HttpRequest, policy_id: int) -> HttpResponse:
    version = policy_selectors.policy_public_get(policy_id=policy_id)
    context: dict[str, Any] = {
        "version": version,
        "conditions": describe(version),
        "in_effect": policy_selectors.policy_in_effect(version),
        "today": timezone.localdate(),
        "exempt": version.mode == Mode.EXEMPT,
        "mine": _enterprise_outcome(request.user, version),
        "exclusion_peers": policy_selectors.exclusion_peers(version=version),
        "section": "policies",
    }
    mine = context["mine"]
    if mine is not None:
        context.update(correction_links(request, mine["enterprise"]))
    return render(request, "frontend/policy_detail.html", context)


def _own_profile_initial(request: HttpRequest) -> tuple[dict[str, Any], str] | None:
    """Form values from the signed-in enterprise user's own enterprise (never another's), and its name."""
    enterprise_id = getattr(request.user, "enterprise_id", None) if request.user.is_authenticated else None
    if enterprise_id is None or not request.user.is_active:
        return None
    enterprise = Enterprise.objects.prefetch_related("qualifications", "sites__township__zone", "sites__parks").get(
        pk=enterprise_id
    )
    profile = enterprise_profile(enterprise=enterprise)
    return initial_from_profile(profile, on=timezone.localdate(), purpose=CALCULATOR), enterprise.name


def calculator(request: HttpRequest) -> HttpResponse:
    """GET only: evaluating typed facts changes nothing, and a result can be bookmarked or shared.

    `?mine=1` pre-fills the form from the signed-in enterprise user's own enterprise; nothing is
    evaluated until the visitor submits (they may change any value first).
    """
    submitted = "submitted" in request.GET
    own = None
    initial: dict[str, Any] = {}
    if not submitted and request.GET.get("mine"):
        own = _own_profile_initial(request)
        if own is not None:
            initial = own[0]
    form = CalculatorForm(request.GET if submitted else None, initial=initial, zones=_zones(), parks=_parks())
    groups: dict[str, list[Any]] | None = None
    declared: list[tuple[str, str]] = []
    if submitted and form.is_valid() and form.profile is not None:  # a valid form has its profile
        derived = not form.cleaned_data.get("size")
        notes = {"size": "（按行业和填写的指标划型）"} if derived else {}
        declared = declared_summary(form.profile, on=form.on, notes=notes)
        groups = {"eligible": [], "needs_info": [], "ineligible": []}
        for result in policy_selectors.eligibility_check(profile=form.profile, on=form.on):
            groups[result.outcome.status].append(result)
    can_use_own = bool(
        request.user.is_authenticated and getattr(request.user, "enterprise_id", None) and request.user.is_active
    )
    context = {
        "form": form,
        "groups": groups,
        "declared": declared,
        "section": "calculator",
        "can_use_own": can_use_own,
        "prefilled_from": own[1] if own else "",
        "today": form.on,
    }
    # htmx swaps the form and the results together (hx-select), so an error is shown on its field.
    return render(request, "frontend/calculator.html", context)


def industry_options(request: HttpRequest) -> HttpResponse:
    """<option>s for the industry <datalist>: codes or names matching what was typed."""
    query = request.GET.get("industry") or request.GET.get("industry_code") or request.GET.get("q") or ""
    classes_only = request.GET.get("level") == "class"
    options = [(code, industry_label(code)) for code, _ in industry_search(query, classes_only=classes_only)]
    return render(request, "frontend/partials/industry_options.html", {"options": options})


def workspace(request: HttpRequest) -> HttpResponse:
    """我的企业 / 工作台: send each kind of user to their own start page."""
    user = request.user
    if not user.is_authenticated:
        return redirect(f"{reverse('login')}?next={reverse('frontend:workspace')}")
    if is_staff_user(user):
        return redirect("frontend:console")
    if user.enterprise is not None:
        return redirect("frontend:enterprise_dashboard", credit_code=user.enterprise.credit_code)
    return render(request, "frontend/no_enterprise.html", {"section": "workspace"}, status=403)
