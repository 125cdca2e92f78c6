"""Serializers of the 数据纠错 API: thin; the rules live in services.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.utils import html

from portal.api.serializers import StrictInputSerializer
from portal.lifecycle import ActorRole

from ..models import CorrectionEvidence, CorrectionRequest, CorrectionTransition


class CorrectionEvidenceSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="下载地址（需登录，按企业或部门范围校验）")

    class Meta:
        model = CorrectionEvidence
        fields = ("id", "original_name", "size", "content_type", "uploaded_at", "url")

    def get_url(self, obj: CorrectionEvidence) -> str:
        url: Callable[[CorrectionEvidence], str] = self.context["evidence_url"]
        return url(obj)


class CorrectionTransitionSerializer(serializers.ModelSerializer):
    to_label = serializers.CharField(source="get_to_status_display")
    by_role_label = serializers.CharField(source="get_by_role_display", help_text="操作人的角色（企业只见角色）")

    class Meta:
        model = CorrectionTransition
        fields = ("from_status", "to_status", "to_label", "by_role", "by_role_label", "note", "at")


class CorrectionSerializer(serializers.ModelSerializer):
    credit_code = serializers.CharField(source="enterprise.credit_code")
    enterprise_name = serializers.CharField(source="enterprise.name")
    kind_label = serializers.CharField(source="get_kind_display")
    fact_label = serializers.CharField()
    department_label = serializers.CharField(source="get_department_display")
    current_text = serializers.CharField(help_text="提交时登记的值（中文）")
    current_source_label = serializers.CharField(help_text="提交时登记值的来源")
    proposed_value = serializers.JSONField(help_text="申请值（核验申请：企业自行填报的值）")
    current_value = serializers.JSONField(allow_null=True)
    proposed_text = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    is_overdue = serializers.BooleanField(help_text="待办理且已过办理期限")
    assignee = serializers.SerializerMethodField(
        help_text="责任人：工作人员看到用户名；企业只看到角色（数据专员），尚未指派为 null"
    )
    evidence = CorrectionEvidenceSerializer(many=True)
    timeline = CorrectionTransitionSerializer(many=True, source="transitions")

    class Meta:
        model = CorrectionRequest
        fields = (
            "id",
            "credit_code",
            "enterprise_name",
            "kind",
            "kind_label",
            "fact",
            "fact_label",
            "department",
            "department_label",
            "current_value",
            "current_text",
            "current_source",
            "current_source_label",
            "current_as_of",
            "proposed_value",
            "proposed_text",
            "statement",
            "status",
            "status_label",
            "due_on",
            "is_overdue",
            "assignee",
            "decision_reason",
            "decided_at",
            "created_at",
            "evidence",
            "timeline",
        )

    def get_assignee(self, obj: CorrectionRequest) -> str | None:
        if obj.assignee is None:
            return None
        if self.context.get("staff"):
            return obj.assignee.get_full_name() or obj.assignee.get_username()
        return ActorRole.DATA_OFFICER.label


class FactValueField(serializers.JSONField):
    """A value as JSON (number, text, true/false) or, in a multipart form, the text typed: the fact's own
    definition reads it (services), so "1,200" and "很多" reach the same check as on the page."""

    def get_value(self, dictionary: Any) -> Any:
        if html.is_html_input(dictionary):
            return dictionary.get(self.field_name, empty)
        return super().get_value(dictionary)


class CorrectionCreateSerializer(StrictInputSerializer):
    """Text fields of a request; evidence files come as multipart fields named `evidence` (repeat for several)."""

    extra_key_prefixes = ("evidence",)

    fact = serializers.CharField(max_length=40, help_text="信息项（事实登记表中的名称，如 employees、revenue）")
    kind = serializers.ChoiceField(
        choices=CorrectionRequest.Kind.choices,
        default=CorrectionRequest.Kind.CORRECTION,
        help_text="correction：此数据有误（填写正确的值并附证明材料）；verification：申请核验自行填报的值",
    )
    value = FactValueField(
        required=False, allow_null=True, default=None, help_text="您认为正确的值（纠错时必填；核验时不填）"
    )
    statement = serializers.CharField(required=False, allow_blank=True, default="", max_length=20000)


class CorrectionNoteSerializer(StrictInputSerializer):
    note = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")


class CorrectionReasonSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")


class CorrectionAssignSerializer(StrictInputSerializer):
    assignee = serializers.IntegerField(help_text="责任人（本部门数据专员）的用户 id")


def evidence_files(request: Any) -> list[Any]:
    return list(request.FILES.getlist("evidence"))


__all__ = ["evidence_files"]
