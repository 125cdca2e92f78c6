"""Admin for users (enterprise membership, staff roles as groups) and department API keys."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from .models import DepartmentApiKey, User
from .roles import Role, roles_of
from .services import api_key_create


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("所属企业", {"fields": ("enterprise",), "description": "企业用户只能看到本企业的信息。"}),
    )
    list_display = ("username", "enterprise", "role_names", "is_staff", "is_superuser", "is_active")
    list_select_related = ("enterprise",)
    autocomplete_fields = ("enterprise",)
    search_fields = ("username", "first_name", "last_name", "email", "enterprise__name", "enterprise__credit_code")

    @admin.display(description="角色（用户组）")
    def role_names(self, obj: User) -> str:
        labels = dict(Role.choices)
        return "、".join(labels[r] for r in sorted(roles_of(obj))) if not obj.is_superuser else "超级管理员"


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = DepartmentApiKey
        fields = ("name", "source", "is_active")


@admin.register(DepartmentApiKey)
class DepartmentApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ("name", "source", "prefix", "is_active", "created_at", "last_used_at")
    list_filter = ("source", "is_active")
    readonly_fields = ("prefix", "created_at", "last_used_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # A key's department never changes: issue a new key instead.
        return (*self.readonly_fields, "source") if obj is not None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: DepartmentApiKey, form: forms.ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        by = request.user if request.user.is_authenticated else None  # admin pages: always signed in
        row, key = api_key_create(name=obj.name, source=obj.source, by=by)
        obj.pk, obj.prefix, obj.key_hash, obj.created_at = row.pk, row.prefix, row.key_hash, row.created_at
        obj._state.adding = False
        messages.warning(request, f"新密钥（只显示这一次，请立即交给{row.get_source_display()}）：{key}")
