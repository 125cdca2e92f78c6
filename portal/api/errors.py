"""Error responses for paths no DRF view handled: under /api/ they are the API's JSON error format.

Django answers an unknown URL, a request it refuses before any view (a too-large or malformed
body) and an unhandled exception itself; these handlers give /api/ callers the same
`{"error": {"code", "message"}}` body every API view returns, and leave pages to the page handlers.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from .exceptions import error_body


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _json(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status, json_dumps_params={"ensure_ascii": False})


def bad_request(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    if is_api_request(request):
        return _json("bad_request", "请求无效", 400)
    return defaults.bad_request(request, exception, **kwargs)


def permission_denied(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    if is_api_request(request):
        return _json("permission_denied", "没有权限执行此操作", 403)
    return defaults.permission_denied(request, exception, **kwargs)


def page_not_found(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    if is_api_request(request):
        return _json("not_found", "未找到该资源", 404)
    return defaults.page_not_found(request, exception, **kwargs)


def server_error(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    if is_api_request(request):
        return _json("server_error", "服务器内部错误，请稍后再试", 500)
    return defaults.server_error(request, **kwargs)
