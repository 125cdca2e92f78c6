"""关注与提醒 and 申报日历 pages, and the private iCal feed (portal.follows).

Enterprise pages resolve the enterprise through enterprise_get_for_user (another enterprise's user gets
404); writes are for the enterprise's own users only (anyone else: 404, nothing changes). The feed is
reached by its token alone: no session, no other user's data, 404 for a revoked or unknown token.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from matching.core.evaluator import Outcome
from matching.selectors import enterprise_matches
from policies.models import Policy, PolicyVersion
from portal.accounts.roles import is_enterprise_user
from portal.api.exceptions import ApplicationError
from portal.enterprises import selectors as enterprise_selectors
from portal.enterprises.models import Enterprise
from portal.follows import selectors, services
from portal.follows.ical import build_calendar

if TYPE_CHECKING:
    from portal.accounts.requests import AuthenticatedHttpRequest


def _enterprise(request: AuthenticatedHttpRequest, credit_code: str) -> Enterprise:
    return enterprise_selectors.enterprise_get_for_user(user=request.user, credit_code=credit_code)


def _member_enterprise(request: AuthenticatedHttpRequest, credit_code: str) -> Enterprise:
    """The enterprise, for its own users only: anyone else gets 404 (nothing is said about it)."""
    enterprise = _enterprise(request, credit_code)
    if not (is_enterprise_user(request.user) and request.user.enterprise_id == enterprise.pk):
        raise Http404
    return enterprise


def _context(enterprise: Enterprise, tab: str, **extra: Any) -> dict[str, Any]:
    return {"enterprise": enterprise, "tab": tab, "section": "workspace", **extra}


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return redirect(target)
    return redirect(default)


@login_required
@require_POST
def follow(request: AuthenticatedHttpRequest, credit_code: str, policy_id: int) -> HttpResponse:
    """关注 (action follow) or 取消关注 (action unfollow) a policy."""
    enterprise = _member_enterprise(request, credit_code)
    # A policy that was ever public (published, or retired since): a retired one can still be unfollowed;
    # following it is refused by the service. One that never was is not there for the enterprise (404).
    public = (PolicyVersion.Status.PUBLISHED, PolicyVersion.Status.RETIRED)
    policy = get_object_or_404(Policy.objects.filter(versions__status__in=public).distinct(), pk=policy_id)
    action = request.POST.get("action", "follow")
    title = policy.versions.filter(status__in=public).order_by("-number").values_list("title", flat=True).first()
    try:
        if action == "unfollow":
            services.follow_delete(user=request.user, enterprise=enterprise, policy=policy)
            messages.success(request, f"已取消关注：{title}")
        elif action == "follow":
            services.follow_create(user=request.user, enterprise=enterprise, policy=policy)
            messages.success(request, f"已关注：{title}。符合条件或补充的信息改变判定时，会通知您。")
        else:
            messages.error(request, "操作无效：只能关注或取消关注")
    except ApplicationError as error:
        messages.error(request, error.message)
    return _back(request, reverse("frontend:enterprise_follows", args=[enterprise.credit_code]))


@login_required
def follows(request: AuthenticatedHttpRequest, credit_code: str) -> HttpResponse:
    """关注与提醒: followed policies with their current decision, threshold warnings, policies to follow."""
    enterprise = _enterprise(request, credit_code)
    member = is_enterprise_user(request.user) and request.user.enterprise_id == enterprise.pk
    rows = selectors.follow_rows(enterprise=enterprise)
    followed = {row.follow.policy_id for row in rows}
    # Worth following: needs info that data can settle. A decision waiting only for a commitment or a
    # department's judgement (pending_only) never becomes eligible from data, so a follow would never speak.
    candidates = []
    for record in enterprise_matches(enterprise=enterprise, outcome="needs_info"):
        outcome = Outcome.from_dict(record.explanation) if record.explanation else None
        if record.policy_version.policy_id in followed or outcome is None or outcome.pending_only:
            continue
        candidates.append((record.policy_version, outcome.summary))
    today = timezone.localdate()
    return render(
        request,
        "frontend/workspace/follows.html",
        _context(
            enterprise,
            "follows",
            rows=rows,
            candidates=candidates,
            warnings=selectors.threshold_warnings(enterprise=enterprise, on=today),
            can_act=member,
            today=today,
            lead_days=settings.THRESHOLD_WARNING_LEAD_DAYS,
        ),
    )


def _months(entries: Iterable[selectors.CalendarEntry]) -> list[tuple[str, list[selectors.CalendarEntry]]]:
    grouped: dict[str, list[selectors.CalendarEntry]] = {}
    for entry in entries:
        day = entry.end or entry.start
        key = f"{day.year}年{day.month}月" if day else "未定日期"
        grouped.setdefault(key, []).append(entry)
    return list(grouped.items())


@login_required
def calendar(request: AuthenticatedHttpRequest, credit_code: str) -> HttpResponse:
    """申报日历: the windows and deadlines that concern the enterprise, and the user's subscription link."""
    enterprise = _enterprise(request, credit_code)
    member = is_enterprise_user(request.user) and request.user.enterprise_id == enterprise.pk
    return _calendar_page(request, enterprise, member=member, new_url="")


def _calendar_page(
    request: AuthenticatedHttpRequest, enterprise: Enterprise, *, member: bool, new_url: str
) -> HttpResponse:
    entries = selectors.calendar_entries(enterprise=enterprise)
    today = timezone.localdate()
    return render(
        request,
        "frontend/workspace/calendar.html",
        _context(
            enterprise,
            "calendar",
            months=_months(entries),
            count=len(entries),
            today=today,
            can_act=member,
            token=selectors.calendar_token_get(user=request.user) if member else None,
            new_url=new_url,
        ),
    )


@login_required
@require_POST
@never_cache
def calendar_token(request: AuthenticatedHttpRequest, credit_code: str) -> HttpResponse:
    """生成 / 重新生成 (action regenerate) or 停用 (action revoke) the user's own subscription link.

    The new URL is shown in this response only (its token is never stored, only its digest)."""
    enterprise = _member_enterprise(request, credit_code)
    action = request.POST.get("action", "")
    if action == "regenerate":
        token = services.calendar_token_regenerate(user=request.user)
        url = request.build_absolute_uri(reverse("frontend:calendar_feed", args=[token]))
        messages.success(request, "已生成新的订阅链接，原链接（如有）已失效。请复制下面的链接，离开本页后将不再显示。")
        return _calendar_page(request, enterprise, member=True, new_url=url)
    if action == "revoke":
        if services.calendar_token_revoke(user=request.user):
            messages.success(request, "已停用订阅链接，原链接将无法再访问。")
        else:
            messages.info(request, "您没有启用中的订阅链接。")
    else:
        messages.error(request, "操作无效：只能生成或停用订阅链接")
    return redirect("frontend:enterprise_calendar", credit_code=enterprise.credit_code)


@require_GET
@never_cache
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The iCal feed: its token is the only credential; it shows the token owner's enterprise only."""
    user, enterprise = selectors.calendar_owner(token=token)
    body = build_calendar(
        selectors.calendar_entries(enterprise=enterprise),
        name=f"惠企通申报日历（{enterprise.name}）",
        base_url=request.build_absolute_uri("/").rstrip("/"),
        stamp=timezone.now(),
        remind_days=settings.NOTIFY_APPLY_DEADLINE_DAYS,
    )
    services.calendar_token_used(user=user)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="huiqi-calendar.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response
