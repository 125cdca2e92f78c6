"""Serializers of the 在线申报 API: thin; the rules live in services.py."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

from portal.api.serializers import StrictInputSerializer

from ..models import Application, ApplicationAttachment, ApplicationTransition

_MATERIAL_FIELD = re.compile(r"^material_(\d{1,3})$")


def files_from_request(request: Any) -> dict[int, list[Any]]:
    """Uploaded files by material index, from multipart fields material_<index> (0-based in version.materials)."""
    files: dict[int, list[Any]] = {}
    for key in request.FILES:
        match = _MATERIAL_FIELD.match(key)
        if match:
            files[int(match.group(1))] = request.FILES.getlist(key)
    return files


def chinese_name(user: Any) -> str:
    """姓 then 名, no space (get_full_name gives "名 姓")."""
    return f"{user.last_name}{user.first_name}".strip()


def actor_label(user: Any, enterprise_id: int) -> str:
    """Who acted, as the enterprise may see it: its own users by name, staff by role (no query per row:
    only the enterprise's own users can act on its applications, so anyone else is staff)."""
    if user is None:
        return "系统"
    if user.enterprise_id != enterprise_id:
        return "审核工作人员"
    return chinese_name(user) or user.get_username()


class ApplicationTransitionSerializer(serializers.ModelSerializer):
    to_label = serializers.CharField(source="get_to_status_display")
    by = serializers.SerializerMethodField()

    class Meta:
        model = ApplicationTransition
        fields = ("from_status", "to_status", "to_label", "by", "note", "at")

    def get_by(self, obj: ApplicationTransition) -> str:
        return actor_label(obj.by, obj.application.enterprise_id)


class ApplicationAttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="下载地址（需登录，按企业范围校验）")

    class Meta:
        model = ApplicationAttachment
        fields = ("id", "material", "original_name", "size", "content_type", "uploaded_at", "url")

    def get_url(self, obj: ApplicationAttachment) -> str:
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
            "statement",
            "staff_note",
            "submitted_at",
            "updated_at",
            "can_withdraw",
            "can_resubmit",
            "attachments",
            "timeline",
        )


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
