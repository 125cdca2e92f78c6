"""Notifications: the per-enterprise inbox, per-user read state and channel choices, and the delivery outbox."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class Notification(models.Model):
    """One inbox item for an enterprise; every user of the enterprise sees it.

    `dedupe_key` makes creation exactly-once: callers derive it from what the notification is about
    (e.g. ``f"pv{policy_version_id}:{kind}"``), and a second create with the same key is a no-op.
    """

    class Kind(models.TextChoices):
        EXEMPT_GRANTED = "exempt_granted", "免申即享已兑现/待确认"
        MAY_APPLY = "may_apply", "可申报"
        APPLY_DEADLINE = "apply_deadline", "申报即将截止"
        NEEDS_INFO = "needs_info", "需补充信息"
        CONFIRM_FACT = "confirm_fact", "请核验信息"
        QUALIFICATION_EXPIRING = "qualification_expiring", "资质即将到期"
        ENTITLEMENT_UPDATE = "entitlement_update", "兑现进度"
        APPLICATION_UPDATE = "application_update", "申报进度"
        FOLLOWED_POLICY = "followed_policy", "关注的政策"
        THRESHOLD_WARNING = "threshold_warning", "条件变化提醒"

    # The unique (enterprise, dedupe_key) index starts with enterprise: no separate FK index needed.
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name="企业",
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    kind = models.CharField("类型", max_length=40, choices=Kind.choices)
    dedupe_key = models.CharField("去重键", max_length=200)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("正文", blank=True, default="")
    link = models.CharField("链接", max_length=500, blank=True, default="")
    payload = models.JSONField("附加数据", default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = "通知"
        verbose_name_plural = "通知"
        constraints = [
            models.UniqueConstraint(fields=("enterprise", "dedupe_key"), name="notification_once_per_key"),
        ]

    def __str__(self) -> str:
        return self.title


class NotificationRead(models.Model):
    """That `user` has read `notification`. No row: unread for that user."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="reads")
    # The unique (user, notification) index starts with user: no separate FK index needed.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_reads", db_index=False
    )
    read_at = models.DateTimeField("阅读时间", default=timezone.now)

    class Meta:
        verbose_name = "已读记录"
        verbose_name_plural = "已读记录"
        constraints = [
            models.UniqueConstraint(fields=("user", "notification"), name="notification_read_once_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} 已读 {self.notification_id}"


class ChannelPreference(models.Model):
    """How one user wants to be told, besides the inbox (always on). No row means the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preference",
    )
    email_enabled = models.BooleanField("电子邮件通知", default=True)
    sms_enabled = models.BooleanField("短信通知", default=False)
    phone = models.CharField("手机号码", max_length=20, blank=True, default="")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "通知方式"
        verbose_name_plural = "通知方式"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sms_enabled=False) | ~models.Q(phone=""), name="preference_sms_needs_phone"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} 的通知方式"


def new_webhook_secret() -> str:
    return secrets.token_hex(32)


class WebhookEndpoint(models.Model):
    """A third-party platform's URL that receives this enterprise's notifications, signed with `secret`."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name="企业", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField("接收地址", max_length=500)
    secret = models.CharField("签名密钥", max_length=128, default=new_webhook_secret)
    description = models.CharField("说明", max_length=200, blank=True, default="")
    active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "Webhook 接收地址"
        verbose_name_plural = "Webhook 接收地址"

    def __str__(self) -> str:
        return self.url


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", "电子邮件"
    SMS = "sms", "短信"
    WEBHOOK = "webhook", "接口回调"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已发送"
    FAILED = "failed", "失败待重试"
    DEAD = "dead", "发送失败（已停止重试）"


class Delivery(models.Model):
    """Outbox row: one notification to one user on one channel (or to one webhook endpoint).

    Written in the same transaction as the notification; workers claim rows with a conditional
    UPDATE (pending/failed and due → sending), send outside any transaction, then mark them sent.
    """

    Channel = DeliveryChannel
    Status = DeliveryStatus

    # The unique (notification, user, channel) index starts with notification: no separate FK index needed.
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_deliveries",
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        null=True,
        blank=True,
        on_delete=models.PROTECT,  # keep the delivery history: deactivate endpoints instead
        related_name="deliveries",
        db_index=False,  # partial index below: most rows have no endpoint
    )
    channel = models.CharField("渠道", max_length=10, choices=DeliveryChannel.choices)
    # Where it goes (e-mail address, phone number, URL), fixed when the row is written.
    address = models.CharField("发送地址", max_length=500)
    status = models.CharField("状态", max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    last_error = models.TextField("最近错误", blank=True, default="")
    next_attempt_at = models.DateTimeField("下次尝试时间", default=timezone.now)
    # When the row was last handed to the broker; NULL after a failed hand-over, so the sweep
    # re-sends it at once instead of waiting for NOTIFICATIONS_REQUEUE_AFTER.
    enqueued_at = models.DateTimeField("入队时间", null=True, blank=True)
    # The claim's heartbeat and token: written by the claim, renewed while its worker sends; a row
    # "sending" with claimed_at older than NOTIFICATIONS_SENDING_TIMEOUT lost its worker (see delivery.py).
    claimed_at = models.DateTimeField("领取时间", null=True, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    provider_message_id = models.CharField("服务商消息编号", max_length=200, blank=True, default="")
    retried_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="人工重试人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    retried_at = models.DateTimeField("人工重试时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)

    class Meta:
        ordering = ("-id",)
        verbose_name = "推送记录"
        verbose_name_plural = "推送记录"
        constraints = [
            # Webhook rows have no user; NULLs never collide, so they are unique by the next constraint.
            models.UniqueConstraint(fields=("notification", "user", "channel"), name="delivery_once_per_user_channel"),
            models.UniqueConstraint(
                fields=("notification", "endpoint"),
                condition=models.Q(endpoint__isnull=False),
                name="delivery_once_per_endpoint",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(channel=DeliveryChannel.WEBHOOK, endpoint__isnull=False, user__isnull=True)
                    | (~models.Q(channel=DeliveryChannel.WEBHOOK) & models.Q(endpoint__isnull=True, user__isnull=False))
                ),
                name="delivery_recipient_matches_channel",
            ),
            models.CheckConstraint(condition=models.Q(status__in=DeliveryStatus.values), name="delivery_status_valid"),
            models.CheckConstraint(
                condition=models.Q(channel__in=DeliveryChannel.values), name="delivery_channel_valid"
            ),
        ]
        indexes = [
            # Every index costs on each status change (no HOT updates: status is in the predicates), so only
            # these. The sweep's scans only look at unfinished rows; sent rows are the bulk.
            models.Index(
                fields=("next_attempt_at",),
                condition=models.Q(status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED)),
                name="delivery_due_idx",
            ),
            models.Index(
                fields=("claimed_at",), condition=models.Q(status=DeliveryStatus.SENDING), name="delivery_sending_idx"
            ),
            # Staff look for the problems; listing everything else walks the primary key backwards.
            models.Index(
                fields=("-id",),
                condition=models.Q(status__in=(DeliveryStatus.FAILED, DeliveryStatus.DEAD)),
                name="delivery_problem_idx",
            ),
            models.Index(
                fields=("endpoint",), condition=models.Q(endpoint__isnull=False), name="delivery_endpoint_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.address}（{self.get_status_display()}）"


class SmsMessage(models.Model):
    """What the default SMS backend "sent": the gateway's own record, keyed by delivery for idempotency."""

    delivery_id = models.BigIntegerField("推送记录编号", unique=True)
    phone = models.CharField("手机号码", max_length=20)
    text = models.TextField("短信内容")
    created_at = models.DateTimeField("发送时间", auto_now_add=True)

    class Meta:
        ordering = ("-id",)
        verbose_name = "短信记录"
        verbose_name_plural = "短信记录"

    def __str__(self) -> str:
        return f"{self.phone}: {self.text[:30]}"
