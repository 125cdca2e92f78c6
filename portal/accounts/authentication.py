"""DRF authentication by department API key: `Authorization: Api-Key <key>`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from .models import DepartmentApiKey
from .services import api_key_authenticate

KEYWORD = "Api-Key"


class DepartmentApiKeyAuthentication(authentication.BaseAuthentication):
    """request.user stays anonymous; request.auth is the DepartmentApiKey (its `source` scopes the request)."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, DepartmentApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        keyword, _, key = header.partition(" ")
        if keyword.lower() != KEYWORD.lower():
            return None
        row = api_key_authenticate(key=key)
        if row is None:
            raise exceptions.AuthenticationFailed("接口密钥无效或已停用")
        return AnonymousUser(), row

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) when the key is missing.
        return KEYWORD


class DepartmentApiKeyScheme(OpenApiAuthenticationExtension):
    """Tells the OpenAPI schema how feed endpoints authenticate."""

    target_class = DepartmentApiKeyAuthentication
    name = "departmentApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "部门接口密钥：`Api-Key <key>`，每个密钥只能推送其所属部门的数据。",
        }
