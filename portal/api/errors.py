"""The API's JSON error format for errors no API view handled (an unknown URL under /api/, a body
refused before any view, an unhandled exception). The URLconf's handlers (frontend/errors.py) call
these for /api/ paths and render the Chinese pages for everything else.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

from .exceptions import error_body


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _json(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status, json_dumps_params={"ensure_ascii": False})


def bad_request(request: HttpRequest, exception: Exception | None = None, **kwargs: Any) -> JsonResponse:
    return _json("bad_request", "请求无效", 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None, **kwargs: Any) -> JsonResponse:
    return _json("permission_denied", "没有权限执行此操作", 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None, **kwargs: Any) -> JsonResponse:
    return _json("not_found", "未找到该资源", 404)


def server_error(request: HttpRequest, **kwargs: Any) -> JsonResponse:
    return _json("server_error", "服务器内部错误，请稍后再试", 500)
