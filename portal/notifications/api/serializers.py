"""Serializers of the notification API: validate input and render output; they never write."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from portal.api.serializers import StrictInputSerializer

from ..models import Delivery, Notification


class NotificationFilterSerializer(serializers.Serializer):
    unread = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="只看未读（true）或已读（false）"
    )


class NotificationSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    is_read = serializers.SerializerMethodField()
    read_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="当前用户阅读时间，未读为空")

    class Meta:
        model = Notification
        fields = ("id", "kind", "kind_display", "title", "body", "link", "payload", "created_at", "is_read", "read_at")

    def get_is_read(self, obj: Notification) -> bool:
        return getattr(obj, "read_at", None) is not None


class NotificationPageSerializer(serializers.Serializer):
    """Documents the list response: the usual page plus the caller's unread count."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    unread_count = serializers.IntegerField(help_text="当前用户的未读通知数")
    results = NotificationSerializer(many=True)


class ReadAllResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="本次标记为已读的通知数")
    unread_count = serializers.IntegerField()


class PreferenceSerializer(StrictInputSerializer):
    email_enabled = serializers.BooleanField(required=False, help_text="电子邮件通知")
    # Accounts may have no e-mail: allow_blank makes the schema say "" is a valid value.
    email = serializers.EmailField(
        source="user.email", read_only=True, allow_blank=True, help_text="通知邮箱（账号邮箱；未填写时为空）"
    )
    sms_enabled = serializers.BooleanField(required=False, help_text="短信通知（需填写手机号码）")
    phone = serializers.CharField(required=False, allow_blank=True, max_length=20, help_text="手机号码")
    inbox_enabled = serializers.SerializerMethodField(help_text="站内消息始终开启")

    def get_inbox_enabled(self, obj: Any) -> bool:
        return True


class EnterpriseRefSerializer(serializers.Serializer):
    credit_code = serializers.CharField()
    name = serializers.CharField()


class DeliveryFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Delivery.Status.choices, required=False, help_text="推送状态")
    channel = serializers.ChoiceField(choices=Delivery.Channel.choices, required=False, help_text="渠道")


class DeliverySerializer(serializers.ModelSerializer):
    notification_title = serializers.CharField(source="notification.title", read_only=True)
    kind = serializers.CharField(source="notification.kind", read_only=True)
    enterprise = EnterpriseRefSerializer(source="notification.enterprise", read_only=True)
    channel_display = serializers.CharField(source="get_channel_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    address = serializers.SerializerMethodField(help_text="发送地址（手机号码中间四位隐去）")
    username = serializers.CharField(source="user.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Delivery
        fields = (
            "id",
            "notification_id",
            "notification_title",
            "kind",
            "enterprise",
            "username",
            "channel",
            "channel_display",
            "address",
            "status",
            "status_display",
            "attempts",
            "last_error",
            "next_attempt_at",
            "sent_at",
            "provider_message_id",
            "created_at",
            "retried_at",
        )

    def get_address(self, obj: Delivery) -> str:
        if obj.channel == Delivery.Channel.SMS and len(obj.address) >= 7:
            return obj.address[:3] + "****" + obj.address[-4:]
        return obj.address
