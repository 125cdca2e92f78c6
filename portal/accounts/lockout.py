"""What a locked-out sign-in sees (django-axes calls this): the login page, or JSON for the API."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from portal.api.exceptions import error_body


def retry_at(request: HttpRequest, credentials: dict[str, Any] | None) -> Any:
    """When the lock ends: the latest failure of this user name plus the cool-off."""
    from axes.models import AccessAttempt

    username = (credentials or {}).get("username") or request.POST.get("username", "")
    latest = (
        AccessAttempt.objects.filter(username=username).order_by("-attempt_time").values_list("attempt_time", flat=True)
    ).first()
    return timezone.localtime((latest or timezone.now()) + settings.AXES_COOLOFF_TIME)


def lockout_message(until: Any) -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return (
        f"登录失败次数过多（连续{settings.AXES_FAILURE_LIMIT}次），该账号已锁定{minutes}分钟，"
        f"请于 {until:%Y-%m-%d %H:%M} 后再试。如需提前解锁，请联系系统管理员。"
    )


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    message = lockout_message(retry_at(request, credentials))
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("locked_out", message), status=429, json_dumps_params={"ensure_ascii": False})
    return render(request, "registration/login.html", {"lockout_message": message}, status=429)
