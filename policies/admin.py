"""Django admin for policies: read-only records, with workflow actions that call the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from portal.api.exceptions import ApplicationError

from . import services
from .models import GoldenCase, Policy, PolicyTransition, PolicyVersion


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TransitionInline(ReadOnlyInline):
    model = PolicyTransition
    readonly_fields = ("at", "action", "from_status", "to_status", "by", "comment")
    fields = readonly_fields
    ordering = ["at", "id"]
    verbose_name_plural = "流转记录"


class GoldenCaseInline(ReadOnlyInline):
    model = GoldenCase
    readonly_fields = ("name", "expected", "on", "profile")
    fields = readonly_fields


class VersionInline(ReadOnlyInline):
    model = PolicyVersion
    readonly_fields = ("number", "title", "status", "author", "published_at", "retired_at")
    fields = readonly_fields
    show_change_link = True


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["key", "created_by", "created_at"]
    search_fields = ["key", "versions__title"]
    readonly_fields = ["key", "created_by", "created_at"]
    inlines = [VersionInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # create through the API (services check the role and validate the rule)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _run(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[PolicyVersion],
    service: Callable[..., Any],
    done: str,
    **kwargs: Any,
) -> None:
    """Call a workflow service for each selected version; report each refusal with its reason."""
    ok = 0
    for version in queryset.order_by("pk"):
        try:
            service(version=version, by=request.user, **kwargs)
        except ApplicationError as error:
            modeladmin.message_user(request, f"{version}：{error.message}", level=messages.ERROR)
        except ValidationError as error:
            modeladmin.message_user(request, f"{version}：{'；'.join(error.messages)}", level=messages.ERROR)
        else:
            ok += 1
    if ok:
        modeladmin.message_user(request, f"{ok} 个版本已{done}", level=messages.SUCCESS)


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    list_display = ["title", "policy", "number", "status", "mode", "benefit_kind", "department", "published_at"]
    list_filter = ["status", "mode", "benefit_kind", "department"]
    search_fields = ["title", "summary", "policy__key"]
    list_select_related = ["policy"]
    inlines = [GoldenCaseInline, TransitionInline]
    actions = ["submit", "approve", "publish", "retire"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in PolicyVersion._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # content is edited through services (drafts only); the admin runs the workflow

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="提交审核")
    def submit(self, request: HttpRequest, queryset: QuerySet[PolicyVersion]) -> None:
        _run(self, request, queryset, services.policy_submit, "提交审核", comment="通过管理后台提交")

    @admin.action(description="审核通过")
    def approve(self, request: HttpRequest, queryset: QuerySet[PolicyVersion]) -> None:
        _run(self, request, queryset, services.policy_approve, "审核通过", comment="通过管理后台审核")

    @admin.action(description="发布")
    def publish(self, request: HttpRequest, queryset: QuerySet[PolicyVersion]) -> None:
        _run(self, request, queryset, services.policy_publish, "发布", comment="通过管理后台发布")

    @admin.action(description="停用")
    def retire(self, request: HttpRequest, queryset: QuerySet[PolicyVersion]) -> None:
        _run(self, request, queryset, services.policy_retire, "停用", comment="通过管理后台停用")
