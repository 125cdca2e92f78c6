"""How the OpenAPI schema describes what the API really answers.

drf-spectacular documents the success body of each operation. This AutoSchema adds what every
caller also meets: the API's one error format (`Error`, see portal/api/exceptions.py) on each 4xx
status the operation can answer, and `additionalProperties: false` on request bodies whose
unknown keys are refused (StrictInputSerializer), so clients and fuzzers can rely on the schema.
"""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from .serializers import StrictInputSerializer


class ErrorFieldSerializer(serializers.Serializer):
    field = serializers.CharField(allow_blank=True, help_text="出错的字段（空：整体错误）")
    code = serializers.CharField(help_text="稳定的错误代码")
    message = serializers.CharField(help_text="中文说明")


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="稳定的错误代码，例如 validation_error、not_found、throttled")
    message = serializers.CharField(help_text="中文说明")
    # A declared field named "fields" (DRF's metaclass moves it out of the class; drf-stubs sees Serializer.fields).
    fields = ErrorFieldSerializer(many=True, required=False, help_text="逐字段的错误（仅校验错误）")  # type: ignore[assignment]


class ErrorSerializer(serializers.Serializer):
    """`{"error": {"code", "message", "fields"?}}`; some codes add keys next to `code` (e.g. `status`)."""

    error = ErrorBodySerializer()


_DESCRIPTIONS = {
    "400": "请求有误（校验错误、JSON 格式或超出限制）",
    "401": "缺少或无效的接口密钥",
    "403": "未登录、无权限或缺少 CSRF 令牌",
    "404": "未找到该资源（或无权查看）",
    "409": "当前状态不允许此操作",
    "413": "请求体过大",
    "415": "不支持的内容类型",
    "429": "请求过于频繁",
}

_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# The services that answer 409: the status machines of applications and entitlements
# (portal/lifecycle.status_move), a second application for the same policy, retrying a delivery
# that has not failed, a second open 数据纠错 request for the same fact or deciding a decided one.
# (Policy versions refuse a wrong status with 400 invalid_status.)
_CONFLICT_PATHS = ("/applications/", "/entitlements/", "/deliveries/", "/corrections/")


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_status_codes():
            responses.setdefault(
                code, self._get_response_for_code(OpenApiResponse(ErrorSerializer, _DESCRIPTIONS[code]), code)
            )
        return responses

    def _error_status_codes(self) -> list[str]:
        """The 4xx statuses this operation can answer: from its view's permission, authentication,
        throttle and pagination classes, its method and path parameters, and _CONFLICT_PATHS."""
        view = self.view
        write = self.method in _WRITE_METHODS
        has_path_params = "{" in self.path
        public = all(issubclass(p, AllowAny) for p in getattr(view, "permission_classes", []))
        codes: list[str] = []
        # Bodies and query filters are validated; any request can also be malformed (bad Host, …).
        codes.append("400")
        if any(getattr(a, "authenticate_header", None) and a().authenticate_header(None) for a in _auth(view)):
            codes.append("401")
        # Session writes need a CSRF token even on public endpoints; private ones need a login.
        if write or not public:
            codes.append("403")
        # A page past the last one is 404 (DRF's page-number pagination).
        if has_path_params or "/staff/" in self.path or not public or self._is_paginated():
            codes.append("404")
        if self.method == "POST" and has_path_params and any(part in self.path for part in _CONFLICT_PATHS):
            codes.append("409")
        if write:
            codes.append("413")
        if write and self.method != "DELETE" and self.get_request_serializer() is not None:
            codes.append("415")  # a body in a content type the operation does not parse
        if getattr(view, "throttle_classes", None):
            codes.append("429")
        return codes

    def _is_paginated(self) -> bool:
        if self.method == "GET" and self._is_list_view() and self._get_paginator() is not None:
            return True
        # Views that paginate by hand declare portal.api.pagination.PAGE_PARAMETERS.
        return any(getattr(p, "name", None) == "page" for p in self.get_override_parameters())

    def _get_serializer_name(self, serializer: Any, direction: str, bypass_extensions: bool = False) -> str:
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        # One serializer that both reads and writes (read-only fields, e.g. PreferenceSerializer) would
        # be one component for both directions, and the response's open form would win; the request
        # gets its own, strict component.
        if direction == "request" and isinstance(serializer, StrictInputSerializer) and _read_only_fields(serializer):
            name = f"{name}Input"
        return name

    def _map_serializer(self, serializer: Any, direction: str, bypass_extensions: bool = False) -> dict[str, Any]:
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        # Unknown keys are refused with 400 unknown_field, unless the view reads some keys itself.
        strict = isinstance(serializer, StrictInputSerializer) and not serializer.extra_key_prefixes
        if direction == "request" and strict:
            schema["additionalProperties"] = False
            # Read-only fields are output: a request need not (and gains nothing by) sending them.
            properties = schema.get("properties", {})
            read_only = {name for name, prop in properties.items() if prop.get("readOnly")}
            for name in read_only:
                del properties[name]
            if "required" in schema:
                schema["required"] = [name for name in schema["required"] if name not in read_only]
                if not schema["required"]:
                    del schema["required"]
        return schema


def _read_only_fields(serializer: Any) -> bool:
    return any(field.read_only for field in serializer.fields.values())


def _auth(view: Any) -> list[type]:
    return list(getattr(view, "authentication_classes", []) or [])
