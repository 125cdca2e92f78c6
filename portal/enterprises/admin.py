"""Admin: places (zones, townships, parks) are edited here; enterprise facts are read-only (they change
through feeds and the API, which keep provenance and history); department files are uploaded here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Field
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from matching.core.vocabulary import DEPARTMENT_SOURCES, SOURCES
from portal.accounts.roles import Role, has_role
from portal.api.exceptions import ApplicationError

from . import services
from .feeds import feed_fields
from .models import Enterprise, EnterpriseChange, FeedImport, Park, Qualification, Site, Township, Zone
from .selectors import feed_upload_message


class _CodeReadOnlyAfterCreate(admin.ModelAdmin):
    """Rules refer to places by code: a code cannot change once created."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("code",) if obj is not None else ()


@admin.register(Zone)
class ZoneAdmin(_CodeReadOnlyAfterCreate):
    list_display = ("name", "code", "sort_order")
    list_editable = ("sort_order",)

    def delete_model(self, request: HttpRequest, obj: Zone) -> None:
        services.zone_delete(zone=obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for zone in queryset:
            services.zone_delete(zone=zone)


@admin.register(Park)
class ParkAdmin(_CodeReadOnlyAfterCreate):
    list_display = ("name", "code", "sort_order")
    list_editable = ("sort_order",)
    search_fields = ("name", "code")

    def delete_model(self, request: HttpRequest, obj: Park) -> None:
        services.park_delete(park=obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for park in queryset:
            services.park_delete(park=park)


@admin.register(Township)
class TownshipAdmin(_CodeReadOnlyAfterCreate):
    list_display = ("code", "name", "zone")
    list_filter = ("zone",)

    def save_model(self, request: HttpRequest, obj: Township, form: forms.ModelForm, change: bool) -> None:
        if change:
            # Moving a township to another zone changes the profile of every enterprise with a site there.
            original = Township.objects.get(pk=obj.pk)
            name, zone = obj.name, obj.zone
            obj.name, obj.zone = original.name, original.zone
            services.township_update(township=obj, name=name, zone=zone)
        else:
            super().save_model(request, obj, form, change)


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class QualificationInline(_ReadOnlyInline):
    model = Qualification
    fields = ("kind", "certificate_no", "valid_from", "valid_to", "source", "as_of")


class SiteInline(_ReadOnlyInline):
    model = Site
    fields = ("kind", "address", "township", "source", "filed_at")


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = ("name", "credit_code", "industry_code", "size", "above_designated_size", "updated_at")
    list_filter = ("size", "above_designated_size", "tax_credit_rating", "dishonest")
    search_fields = ("name", "credit_code")
    inlines = (QualificationInline, SiteInline)
    readonly_fields = ("provenance_table", "industry_name")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Facts change through feeds and the API only, so that provenance and history are kept.
        return [f.name for f in Enterprise._meta.concrete_fields] + ["industry_name", "provenance_table"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="数据来源")
    def provenance_table(self, obj: Enterprise) -> str:
        lines = []
        for key, entry in (obj.provenance or {}).items():
            field = Enterprise._meta.get_field(key)
            label = field.verbose_name if isinstance(field, Field) else key
            mark = "已核验" if entry["source"] in DEPARTMENT_SOURCES else "自行填报"
            lines.append(
                f"{label}：{SOURCES.get(entry['source'], entry['source'])}，{entry.get('as_of') or ''}（{mark}）"
            )
        return "\n".join(lines)

    @admin.display(description="行业名称")
    def industry_name(self, obj: Enterprise) -> str:
        return obj.industry_name


@admin.register(EnterpriseChange)
class EnterpriseChangeAdmin(admin.ModelAdmin):
    list_display = ("changed_at", "enterprise", "summary", "source", "changed_by")
    list_filter = ("source",)
    search_fields = ("enterprise__credit_code", "enterprise__name")
    list_select_related = ("enterprise", "changed_by")
    date_hierarchy = "changed_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # an audit trail


class FeedUploadForm(forms.Form):
    source = forms.ChoiceField(
        label="数据来源部门", choices=[(code, SOURCES[code]) for code in SOURCES if code in DEPARTMENT_SOURCES]
    )
    file = forms.FileField(
        label="CSV或XLSX文件", help_text="第一行为表头：字段代码或中文名称，如“统一社会信用代码”“从业人员”"
    )
    as_of = forms.DateField(label="数据日期", required=False, help_text="记录中未注明数据日期时使用；默认今天")


@admin.register(FeedImport)
class FeedImportAdmin(admin.ModelAdmin):
    list_display = (
        "received_at",
        "source",
        "channel",
        "filename",
        "status",
        "total",
        "accepted",
        "rejected",
        "changed",
    )
    list_filter = ("source", "channel")
    change_list_template = "admin/enterprises/feedimport/change_list.html"
    readonly_fields = [f.name for f in FeedImport._meta.concrete_fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.method == "GET" and super().has_view_permission(request, obj)

    def get_urls(self) -> list:
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="enterprises_feedimport_upload"),
            *super().get_urls(),
        ]

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        """上传部门数据: stored and queued like a console upload; the worker imports it, never this request.

        After the upload the page shows that import (?import=<id>): its status, then its counts and report.
        """
        user = request.user
        if not user.is_authenticated or not has_role(user, Role.DATA_OFFICER):
            raise PermissionDenied
        form = FeedUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                created = services.feed_upload_create(
                    by=user,
                    source=form.cleaned_data["source"],
                    file=form.cleaned_data["file"],
                    default_as_of=form.cleaned_data["as_of"],
                )
            except ApplicationError as error:
                form.add_error(error.field if error.field in form.fields else "file", error.message)
            else:
                messages.success(request, feed_upload_message(import_id=created.pk))
                return redirect(f"{reverse('admin:enterprises_feedimport_upload')}?import={created.pk}")
        shown = request.GET.get("import", "")
        feed_import = (
            FeedImport.objects.filter(pk=shown, channel=FeedImport.Channel.CONSOLE).first() if shown.isdigit() else None
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "上传部门数据",
            "form": form,
            "fi": feed_import,
            "report": feed_import.report[:500] if feed_import is not None and feed_import.is_finished else [],
            "fields_by_source": {SOURCES[s]: ", ".join(feed_fields(s)) for s in SOURCES if s in DEPARTMENT_SOURCES},
            "changelist_url": reverse("admin:enterprises_feedimport_changelist"),
        }
        return TemplateResponse(request, "admin/enterprises/feedimport/upload.html", context)
