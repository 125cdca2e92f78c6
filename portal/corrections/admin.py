from django.contrib import admin

from .models import CorrectionEvidence, CorrectionRequest, CorrectionTransition, DepartmentAssignment


@admin.register(DepartmentAssignment)
class DepartmentAssignmentAdmin(admin.ModelAdmin):
    """Which department's 数据纠错 queue each 数据专员 works."""

    list_display = ("user", "department", "created_at")
    list_filter = ("department",)
    search_fields = ("user__username",)
    autocomplete_fields = ("user",)


class TransitionInline(admin.TabularInline):
    model = CorrectionTransition
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "by", "by_role", "note", "at")


class EvidenceInline(admin.TabularInline):
    # No file link here: evidence is downloaded only through the scoped views.
    model = CorrectionEvidence
    extra = 0
    can_delete = False
    fields = ("original_name", "size", "content_type", "uploaded_at")
    readonly_fields = fields


@admin.register(CorrectionRequest)
class CorrectionRequestAdmin(admin.ModelAdmin):
    list_display = ("enterprise", "kind", "fact", "department", "status", "due_on", "assignee")
    list_filter = ("status", "kind", "department")
    search_fields = ("enterprise__name", "enterprise__credit_code")
    readonly_fields = (
        "enterprise",
        "kind",
        "fact",
        "field",
        "department",
        "current_value",
        "current_source",
        "current_as_of",
        "proposed_value",
        "status",
        "decision_reason",
        "decided_at",
        "created_by",
    )
    inlines = [EvidenceInline, TransitionInline]
