from django.contrib import admin

from .models import Entitlement, EntitlementTransition


class TransitionInline(admin.TabularInline):
    model = EntitlementTransition
    extra = 0
    can_delete = False
    readonly_fields = (
        "from_status",
        "to_status",
        "by",
        "by_role",
        "policy_version",
        "previous_version",
        "reason",
        "at",
    )


@admin.register(Entitlement)
class EntitlementAdmin(admin.ModelAdmin):
    list_display = (
        "enterprise",
        "policy",
        "period",
        "policy_version",
        "status",
        "recovery_flagged_at",
        "determined_at",
    )
    list_filter = ("status",)
    search_fields = ("enterprise__name", "enterprise__credit_code", "policy_version__title")
    readonly_fields = (
        "enterprise",
        "policy",
        "period",
        "policy_version",
        "status",
        "explanation",
        "review_version",
        "review_explanation",
        "determined_at",
    )
    inlines = [TransitionInline]
