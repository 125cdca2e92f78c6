"""Public pages: home, the 政策清单, a policy's page, the 政策计算器 and the industry autocomplete."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from matching.rules import RuleError
from policies import selectors as policy_selectors
from policies.models import Mode, PolicyVersion

from .forms import CalculatorForm, PolicyFilterForm, industry_label, industry_search

PAGE_SIZE = 10


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/home.html")


def _zones() -> list[tuple[str, str]]:
    from portal.enterprises.models import Zone

    return list(Zone.objects.order_by("sort_order", "code").values_list("code", "name"))


def _parks() -> list[tuple[str, str]]:
    from portal.enterprises.models import Park

    return list(Park.objects.order_by("sort_order", "code").values_list("code", "name"))


def _departments() -> list[str]:
    return sorted(
        set(policy_selectors.published_versions().exclude(department="").values_list("department", flat=True))
    )


def describe(version: PolicyVersion) -> list[str]:
    """The rule in plain words; an invalid stored rule falls back to the written conditions."""
    from matching.describe import describe_rule

    try:
        return describe_rule(version.rule)
    except RuleError:
        return [version.conditions_text] if version.conditions_text else []


def policy_list(request: HttpRequest) -> HttpResponse:
    form = PolicyFilterForm(request.GET or None, zones=_zones(), departments=_departments())
    filters = form.filters() if form.is_valid() else {}
    versions = policy_selectors.policy_list(filters=filters) if (form.is_valid() or not request.GET) else []
    page = Paginator(versions, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "total": len(versions),
        "query": query.urlencode(),
        "today": timezone.localdate(),
        "section": "policies",
    }
    template = "frontend/partials/policy_results.html" if request.htmx else "frontend/policy_list.html"
    return render(request, template, context)


def policy_detail(request: HttpRequest, policy_id: int) -> HttpResponse:
    version = policy_selectors.policy_public_get(policy_id=policy_id)
    context = {
        "version": version,
        "conditions": describe(version),
        "in_effect": policy_selectors.policy_in_effect(version),
        "today": timezone.localdate(),
        "exempt": version.mode == Mode.EXEMPT,
        "section": "policies",
    }
    return render(request, "frontend/policy_detail.html", context)


def _own_profile_initial(request: HttpRequest) -> tuple[dict[str, Any], str] | None:
    """Form values from the signed-in enterprise user's own enterprise (never another's), and its name."""
    from portal.enterprises.models import Enterprise
    from portal.enterprises.selectors import enterprise_profile

    from .fact_inputs import CALCULATOR, initial_from_profile

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
    if submitted and form.is_valid():
        from .fact_inputs import declared_summary

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
    from portal.accounts.roles import is_staff_user

    user = request.user
    if not user.is_authenticated:
        return redirect(f"{reverse('login')}?next={reverse('frontend:workspace')}")
    if is_staff_user(user):
        return redirect("frontend:console")
    if user.enterprise_id is not None:
        return redirect("frontend:enterprise_dashboard", credit_code=user.enterprise.credit_code)
    return render(request, "frontend/no_enterprise.html", {"section": "workspace"}, status=403)
