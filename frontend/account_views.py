"""Two-factor sign-in pages: set up an authenticator app, and give its code after the password."""

from __future__ import annotations

from typing import TYPE_CHECKING

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods

from portal.accounts import two_factor
from portal.api.exceptions import ApplicationError

if TYPE_CHECKING:
    from portal.accounts.requests import AuthenticatedHttpRequest


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe else "/"


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: AuthenticatedHttpRequest) -> HttpResponse:
    if two_factor.confirmed_device(request.user) is not None:
        messages.info(request, "已设置两步验证。")
        return redirect(_next(request))
    error = ""
    if request.method == "POST":
        try:
            two_factor.totp_device_confirm(request=request, code=request.POST.get("code", ""))
        except ApplicationError as refused:
            error = refused.message
        else:
            messages.success(request, "两步验证已开启：以后登录时需要输入身份验证器上的验证码。")
            return redirect(_next(request))
    device = two_factor.totp_device_start(user=request.user)
    context = {
        "qr": segno.make(device.config_url, error="m").svg_data_uri(scale=4),
        "secret": _grouped_secret(device),
        "error": error,
        "next": _next(request),
        "required": request.session.get(two_factor.PENDING_KEY, False),
    }
    return render(request, "registration/two_factor_setup.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    if two_factor.confirmed_device(request.user) is None:
        return redirect(f"{reverse('frontend:two_factor_setup')}?{urlencode({'next': _next(request)})}")
    error = ""
    status = 200
    if request.method == "POST":
        try:
            two_factor.totp_verify(request=request, code=request.POST.get("code", ""))
        except ApplicationError as refused:
            error, status = refused.message, refused.http_status
        else:
            return redirect(_next(request))
    return render(
        request, "registration/two_factor_verify.html", {"error": error, "next": _next(request)}, status=status
    )


def _grouped_secret(device: two_factor.TOTPDevice) -> str:
    """The secret in base32, in groups of four, as authenticator apps ask for it typed."""
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
