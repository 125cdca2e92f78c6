"""Chinese error pages (400/403/404/500) in every settings mode, DEBUG=True included.

Outside DEBUG Django's default handlers already render 400.html … 500.html (frontend/templates).
With DEBUG on, Django answers an unknown URL, a raised Http404 and an uncaught exception with its
English technical pages; this middleware renders the same Chinese pages instead (the exception is
still logged with its traceback, so nothing is hidden from the developer's console). The API's
JSON errors are DRF's and never reach here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views import defaults

from portal.api import errors as api_errors

logger = logging.getLogger("django.request")


_ERROR_PAGE_MARK = "huiqi_error_page"  # set on responses that are already one of our pages


def _mark_error_page(response: HttpResponse) -> HttpResponse:
    setattr(response, _ERROR_PAGE_MARK, True)
    return response


def _is_error_page(response: HttpResponse) -> bool:
    return getattr(response, _ERROR_PAGE_MARK, False)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if api_errors.is_api_request(request):
        return api_errors.bad_request(request, exception)
    response = defaults.bad_request(request, exception or Exception())
    return _mark_error_page(response)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if api_errors.is_api_request(request):
        return api_errors.page_not_found(request, exception)
    response = defaults.page_not_found(request, exception or Http404())
    return _mark_error_page(response)


def server_error(request: HttpRequest) -> HttpResponse:
    if api_errors.is_api_request(request):
        return api_errors.server_error(request)
    response = defaults.server_error(request)
    return _mark_error_page(response)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler403: the refusal's own reason when it is written for people (Chinese), else a general one."""
    from django.shortcuts import render

    if api_errors.is_api_request(request):
        return api_errors.permission_denied(request, exception)
    message = str(exception or "")
    reason = message if re.search(r"[\u4e00-\u9fff]", message) else ""
    response = render(request, "403.html", {"reason": reason}, status=403)
    return _mark_error_page(response)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: Django's own page is English (and verbose under DEBUG)."""
    from django.shortcuts import render

    # Django's csrf middleware has already logged the reason (django.security.csrf).
    context = {"reason": "页面已过期或来源无法验证，请返回上一页刷新后重试。"}
    response = render(request, "403.html", context, status=403)
    return _mark_error_page(response)


class ChineseErrorPagesMiddleware:
    """Under DEBUG, serve the Chinese 404/500 pages where Django would show its technical pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # An unknown URL never reaches a view (so not process_exception): the technical 404 comes
        # back as a response. resolver_match is None exactly when no URL pattern matched.
        if (
            settings.DEBUG
            and response.status_code == 404
            and getattr(request, "resolver_match", None) is None
            and not _is_error_page(response)
        ):
            return page_not_found(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not settings.DEBUG:
            return None  # Django's handlers render the same templates
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation

        if isinstance(exception, PermissionDenied | BadRequest | SuspiciousOperation):
            return None  # Django answers these with handler403/400 even under DEBUG
        logger.error("Internal Server Error: %s", request.path, exc_info=exception, extra={"request": request})
        return server_error(request)
