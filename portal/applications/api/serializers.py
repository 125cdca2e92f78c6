"""Serializers of the 在线申报 API: thin; the rules live in services.py."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rest_framework import serializers

from portal.api.serializers import StrictInputSerializer

from .. import selectors
from ..models import Application, ApplicationAttachment, ApplicationTransition
from ..selectors import actor_label, chinese_name

if TYPE_CHECKING:
    from portal.accounts.models import User

__all__ = ["actor_label", "chinese_name", "files_from_request"]

_MATERIAL_FIELD = re.compile(r"^material_(\d{1,3})$")


def files_from_request(request: Any) -> dict[int, list[Any]]:
    """Uploaded files by material index, from multipart fields material_<index> (0-based in version.materials)."""
    files: dict[int, list[Any]] = {}
    for key in request.FILES:
        match = _MATERIAL_FIELD.match(key)
        if match:
            files[int(match.group(1))] = request.FILES.getlist(key)
    return files


def _viewer(context: Mapping[str, Any]) -> User:
    """Who the data is serialized for: the views pass "viewer"; generic views have the request."""
    if "viewer" in context:
        return context["viewer"]
    return context["request"].user


class ApplicationTransitionSerializer(serializers.ModelSerializer):
    to_label = serializers.CharField(source="get_to_status_display")
    by = serializers.SerializerMethodField()

    class Meta:
        model = ApplicationTransition
        fields = ("from_status", "to_status", "to_label", "by", "note", "at")

    def get_by(self, obj: ApplicationTransition) -> str:
        masked = not selectors.may_see_personal_data(user=_viewer(self.context), application=obj.application)
        return actor_label(obj.by, obj.application.enterprise_id, masked=masked)


class ApplicationAttachmentSerializer(serializers.ModelSerializer):
    original_name = serializers.SerializerMethodField(help_text="原文件名（非审核角色只见扩展名，如 ***.pdf）")
    url = serializers.SerializerMethodField(
        help_text="下载地址（需登录，按企业范围校验）；只有申报企业和审核人、数据专员可以下载，其他角色为 null"
    )

    class Meta:
        model = ApplicationAttachment
        fields = ("id", "material", "original_name", "size", "content_type", "uploaded_at", "url")

    def get_original_name(self, obj: ApplicationAttachment) -> str:
        return selectors.attachment_label(user=_viewer(self.context), attachment=obj)

    def get_url(self, obj: ApplicationAttachment) -> str | None:
        if not selectors.may_see_personal_data(user=_viewer(self.context), application=obj.application):
            return None
        return self.context["attachment_url"](obj)


class ApplicationSerializer(serializers.ModelSerializer):
    credit_code = serializers.CharField(source="enterprise.credit_code")
    enterprise_name = serializers.CharField(source="enterprise.name")
    policy_id = serializers.IntegerField(source="policy_version.policy_id")
    policy_title = serializers.CharField(source="policy_version.title")
    status_label = serializers.CharField(source="get_status_display")
    can_withdraw = serializers.BooleanField()
    can_resubmit = serializers.BooleanField()
    attachments = ApplicationAttachmentSerializer(many=True)
    timeline = ApplicationTransitionSerializer(many=True, source="transitions")
    contact_name = serializers.SerializerMethodField(help_text="联系人（非审核角色的工作人员看到脱敏值，如 王**）")
    contact_phone = serializers.SerializerMethodField(
        help_text="联系电话（非审核角色的工作人员看到脱敏值，如 138****5678）"
    )
    personal_data_masked = serializers.SerializerMethodField(
        help_text="true：联系人、电话、提交人姓名和文件名已脱敏，材料不可下载（只有申报企业和审核角色可见全文）"
    )

    class Meta:
        model = Application
        fields = (
            "id",
            "credit_code",
            "enterprise_name",
            "policy_id",
            "policy_version",
            "policy_title",
            "status",
            "status_label",
            "contact_name",
            "contact_phone",
            "personal_data_masked",
            "statement",
            "staff_note",
            "submitted_at",
            "updated_at",
            "can_withdraw",
            "can_resubmit",
            "attachments",
            "timeline",
        )

    def _contact(self, obj: Application) -> selectors.ApplicationContact:
        return selectors.application_contact(user=_viewer(self.context), application=obj)

    def get_contact_name(self, obj: Application) -> str:
        return self._contact(obj).name

    def get_contact_phone(self, obj: Application) -> str:
        return self._contact(obj).phone

    def get_personal_data_masked(self, obj: Application) -> bool:
        return self._contact(obj).masked


class ApplicationCreateSerializer(StrictInputSerializer):
    """Text fields of a submission; files come as multipart fields material_<index>."""

    extra_key_prefixes = ("material_",)

    policy_version = serializers.IntegerField(help_text="政策版本 id")
    contact_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    contact_phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    statement = serializers.CharField(required=False, allow_blank=True, default="", max_length=20000)


class ApplicationResubmitSerializer(StrictInputSerializer):
    extra_key_prefixes = ("material_",)

    contact_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    contact_phone = serializers.CharField(required=False, allow_blank=True, max_length=200)
    statement = serializers.CharField(required=False, allow_blank=True, max_length=20000)


class ApplicationReasonSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ApplicationNoteSerializer(StrictInputSerializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
