"""Two-factor sign-in (TOTP, django-otp): required for staff where STAFF_REQUIRE_TWO_FACTOR is on
(production), chosen freely by enterprise users.

After the password, a session that still owes its second factor is marked at sign-in; until the
code is given, the gate (middleware) lets it reach only the two-factor pages and sign-out. Whether a
session owes one is decided once at sign-in, so ordinary requests cost no extra query.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import django_otp
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.api.exceptions import ApplicationError, error_body

from .roles import is_staff_user

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from portal.accounts.models import User


PENDING_KEY = "huiqi_two_factor_pending"
DEVICE_NAME = "身份验证器应用"


def two_factor_required(user: User | AnonymousUser) -> bool:
    """Staff must use a second factor where the setting says so; anyone who set one up uses it."""
    if is_staff_user(user) and settings.STAFF_REQUIRE_TWO_FACTOR:
        return True
    return django_otp.user_has_device(user, confirmed=True)


@receiver(user_logged_in, dispatch_uid="huiqi_two_factor_pending")
def _mark_pending(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        if two_factor_required(user):
            request.session[PENDING_KEY] = True
        else:
            request.session.pop(PENDING_KEY, None)


def confirmed_device(user: User | AnonymousUser) -> TOTPDevice | None:
    if not user.is_authenticated:
        return None  # an anonymous visitor has no device
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


@transaction.atomic
def totp_device_start(*, user: User) -> TOTPDevice:
    """The user's authenticator being set up: the same secret until it is confirmed."""
    if confirmed_device(user) is not None:
        raise ApplicationError("已设置两步验证", code="two_factor_exists", http_status=409)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def _check_code(code: str) -> str:
    code = (code or "").strip().replace(" ", "")
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        raise ApplicationError("请输入身份验证器上显示的6位数字", code="invalid_code", field="code")
    return code


@transaction.atomic
def totp_device_confirm(*, request: HttpRequest, code: str) -> TOTPDevice:
    """Confirm the authenticator being set up with a code it shows; the session is then verified."""
    code = _check_code(code)
    device = TOTPDevice.objects.select_for_update().filter(user=request.user, confirmed=False).first()
    if device is None:
        raise ApplicationError("请先开始设置两步验证", code="no_device", field="code")
    if not device.verify_token(code):
        raise ApplicationError("验证码不正确或已过期，请输入最新的6位数字", code="wrong_code", field="code")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    _verified(request, device)
    return device


def totp_verify(*, request: HttpRequest, code: str) -> TOTPDevice:
    """Check the second factor of a signed-in session (django-otp throttles repeated wrong codes)."""
    code = _check_code(code)
    device = confirmed_device(request.user)
    if device is None:
        raise ApplicationError("尚未设置两步验证", code="no_device", field="code")
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        raise ApplicationError("错误次数过多，请稍后再试", code="throttled", field="code", http_status=429)
    if not device.verify_token(code):
        raise ApplicationError("验证码不正确或已过期，请输入最新的6位数字", code="wrong_code", field="code")
    _verified(request, device)
    return device


def _verified(request: HttpRequest, device: TOTPDevice) -> None:
    django_otp.login(request, device)
    request.session.pop(PENDING_KEY, None)


# Paths a session that owes its second factor may still reach.
_OPEN_PREFIXES = ("/accounts/two-factor/", "/accounts/logout/", "/static/", "/healthz")


class TwoFactorGate:
    """Until the second factor is given: pages lead to it, the API answers 403 `two_factor_required`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.get(PENDING_KEY) and not request.path.startswith(_OPEN_PREFIXES):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    error_body("two_factor_required", "请先完成两步验证"),
                    status=403,
                    json_dumps_params={"ensure_ascii": False},
                )
            has_device = confirmed_device(request.user) is not None
            target = reverse("frontend:two_factor_verify" if has_device else "frontend:two_factor_setup")
            return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
