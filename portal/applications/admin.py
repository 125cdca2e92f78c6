from django.contrib import admin

from .models import Application, ApplicationAttachment, ApplicationTransition


class TransitionInline(admin.TabularInline):
    model = ApplicationTransition
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "by", "note", "at")


class AttachmentInline(admin.TabularInline):
    # No file link here: attachments are downloaded only through the scoped views.
    model = ApplicationAttachment
    extra = 0
    can_delete = False
    fields = ("material", "original_name", "size", "content_type", "uploaded_at")
    readonly_fields = fields


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ("enterprise", "policy_version", "status", "submitted_at")
    list_filter = ("status",)
    search_fields = ("enterprise__name", "enterprise__credit_code", "policy_version__title")
    readonly_fields = ("enterprise", "policy_version", "status", "submitted_by", "submitted_at", "staff_note")
    inlines = [AttachmentInline, TransitionInline]
