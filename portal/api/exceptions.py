"""One error format for the whole API.

Every error body is::

    {"error": {"code": "validation_error", "message": "提交的数据有误",
               "fields": [{"field": "credit_code", "code": "invalid_check_character",
                           "message": "统一社会信用代码校验位错误"}]}}

`code` values are stable identifiers for machines; `message` is Chinese for people.
Services raise ApplicationError (or Django's ValidationError) and never build responses.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A business rule refused the request. Maps to HTTP 400 (or `http_status`)."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        field: str | None = None,
        extra: dict[str, Any] | None = None,
        http_status: int = status.HTTP_400_BAD_REQUEST,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.extra = extra or {}
        self.http_status = http_status


_DEFAULT_MESSAGES = {
    "not_found": "未找到该资源",
    "not_authenticated": "请先登录",
    "authentication_failed": "身份验证失败",
    "permission_denied": "没有权限执行此操作",
    "method_not_allowed": "不支持该请求方法",
    "throttled": "请求过于频繁，请稍后再试",
    "parse_error": "请求格式有误",
    "unsupported_media_type": "不支持的内容类型",
}

_DRF_CODE_MESSAGES = {
    "required": "此项为必填项",
    "null": "此项不能为空",
    "blank": "此项不能为空",
    "invalid": "格式不正确",
    "invalid_choice": "不是有效的选项",
    "max_length": "长度超出限制",
    "min_value": "数值过小",
    "max_value": "数值过大",
    "unique": "该值已存在",
    "does_not_exist": "所引用的对象不存在",
    "date": "日期格式不正确",
    "max_digits": "数字位数过多",
    "max_decimal_places": "小数位数过多",
}


def _flatten(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """Turn DRF's nested error detail into a flat list of {field, code, message}."""
    items: list[dict[str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "__all__") else str(key)
            path = f"{prefix}.{name}" if prefix and name else (name or prefix)
            items.extend(_flatten(value, path))
    elif isinstance(detail, list):
        if all(isinstance(d, (exceptions.ErrorDetail, str)) for d in detail):
            for d in detail:
                items.extend(_flatten(d, prefix))
        else:
            for index, value in enumerate(detail):
                items.extend(_flatten(value, f"{prefix}[{index}]"))
    else:
        code = getattr(detail, "code", None) or "invalid"
        message = str(detail)
        # DRF's built-in messages are English; give people a Chinese one.
        if message.isascii() and code in _DRF_CODE_MESSAGES:
            message = _DRF_CODE_MESSAGES[code]
        items.append({"field": prefix, "code": str(code), "message": message})
    return items


def error_body(code: str, message: str, fields: list[dict[str, str]] | None = None, **extra: Any) -> dict:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    body.update(extra)
    return {"error": body}


def django_validation_error_fields(error: DjangoValidationError) -> list[dict[str, str]]:
    fields: list[dict[str, str]] = []
    if hasattr(error, "error_dict"):
        for field, errs in error.error_dict.items():
            for e in errs:
                message = e.message % e.params if e.params else e.message
                fields.append(
                    {"field": "" if field == "__all__" else field, "code": e.code or "invalid", "message": str(message)}
                )
    else:
        for e in error.error_list:
            message = e.message % e.params if e.params else e.message
            fields.append({"field": "", "code": e.code or "invalid", "message": str(message)})
    return fields


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = f"请求体过大：上限为 {limit // (1024 * 1024)} MB，请分批提交"
        return Response(error_body("body_too_large", message), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):
        return Response(error_body("bad_request", "请求无效"), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ApplicationError):
        fields = [{"field": exc.field, "code": exc.code, "message": exc.message}] if exc.field else None
        return Response(error_body(exc.code, exc.message, fields, **exc.extra), status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        fields = django_validation_error_fields(exc)
        return Response(error_body("validation_error", "提交的数据有误", fields), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body("validation_error", "提交的数据有误", _flatten(exc.detail))
    else:
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        code = code if isinstance(code, str) else "error"
        detail = getattr(exc, "detail", "")
        message = (
            str(detail)
            if isinstance(detail, str) and not str(detail).isascii()
            else _DEFAULT_MESSAGES.get(code, str(detail))
        )
        response.data = error_body(code, message)
    return response
