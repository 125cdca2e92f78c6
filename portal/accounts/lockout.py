"""What a locked-out sign-in sees (django-axes calls this): the login page, or JSON for the API."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from portal.api.exceptions import error_body


def lock_state(request: HttpRequest, credentials: dict[str, Any] | None) -> tuple[str, Any]:
    """Which lock holds ("account" or "address", as AXES_LOCKOUT_PARAMETERS counts them) and when it
    ends: its latest failure plus the cool-off."""
    from axes.models import AccessAttempt
    from django.db.models import Max, Sum

    username = (credentials or {}).get("username") or request.POST.get("username", "")
    ip = getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR", "")
    limit = settings.AXES_FAILURE_LIMIT
    for kind, rows in (("account", {"username": username}), ("address", {"ip_address": ip})):
        seen = AccessAttempt.objects.filter(**rows).aggregate(n=Sum("failures_since_start"), last=Max("attempt_time"))
        if (seen["n"] or 0) >= limit and seen["last"] is not None:
            return kind, timezone.localtime(seen["last"] + settings.AXES_COOLOFF_TIME)
    return "account", timezone.localtime(timezone.now() + settings.AXES_COOLOFF_TIME)


def lockout_message(kind: str, until: Any) -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    what = "该账号已暂停登录" if kind == "account" else "您所在网络地址的登录已暂停"
    return (
        f"登录失败次数过多（连续{settings.AXES_FAILURE_LIMIT}次），{what}{minutes}分钟，"
        f"请于 {until:%Y-%m-%d %H:%M} 后再试。如需提前解锁，请联系系统管理员。"
    )


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    message = lockout_message(*lock_state(request, credentials))
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("locked_out", message), status=429, json_dumps_params={"ensure_ascii": False})
    return render(request, "registration/login.html", {"lockout_message": message}, status=429)
