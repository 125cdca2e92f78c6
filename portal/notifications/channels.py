"""The channels a delivery goes out on (e-mail, SMS, webhook) and how their errors are classified.

Each channel's `send` either returns the provider's message id, or raises TransientDeliveryError
(retry later: connection refused, timeout, 4xx SMTP reply, 5xx/429 HTTP) or PermanentDeliveryError
(never: invalid address, rejected content, other 4xx). Every send carries the delivery id so the
far side can recognise a repeat (Message-ID / X-Huiqi-Delivery, Idempotency-Key, the SMS gateway).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import smtplib
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import BadHeaderError, get_connection
from django.core.serializers.json import DjangoJSONEncoder

from . import sms, webhooks
from .mail import NotificationEmail


class TransientDeliveryError(Exception):
    """Try again later."""


class PermanentDeliveryError(Exception):
    """Will never succeed for this delivery."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """Everything a channel needs to send one delivery; built from one query per claimed chunk."""

    delivery_id: int
    channel: str
    address: str
    notification_id: int
    kind: str
    title: str
    body: str
    link: str
    created_at: datetime
    enterprise_credit_code: str
    enterprise_name: str
    payload: dict[str, Any] = field(default_factory=dict)
    endpoint_id: int | None = None
    endpoint_secret: str = ""

    @property
    def url(self) -> str:
        if not self.link or self.link.startswith(("http://", "https://")):
            return self.link
        return settings.NOTIFICATIONS_SITE_URL.rstrip("/") + "/" + self.link.lstrip("/")


def message_id(delivery_id: int) -> str:
    """The same Message-ID on every attempt, so a receiving system can drop a repeat."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "huiqi.local"
    return f"<huiqi.delivery.{delivery_id}@{domain}>"


class Channel(Protocol):
    """What the delivery loop needs of a channel: send one item (the provider's id back), then close."""

    def send(self, item: Outgoing) -> str: ...

    def close(self) -> None: ...


class EmailChannel:
    """One mail-backend connection per task, reopened after a connection error."""

    def __init__(self) -> None:
        self.backend = settings.NOTIFICATIONS_EMAIL_BACKEND or None  # None: settings.EMAIL_BACKEND
        self.connection: Any = None

    def _connection(self) -> Any:
        if self.connection is None:
            self.connection = get_connection(self.backend, fail_silently=False)
            self.connection.open()
        return self.connection

    def render(self, item: Outgoing) -> NotificationEmail:
        body = item.body.strip()
        lines = [body] if body else []
        url = item.url
        if url:
            lines.append(f"查看详情：{url}")
        lines.append("——\n苏州高新区惠企通（系统自动发送，请勿直接回复）。如需调整通知方式，请登录平台“消息设置”。")
        return NotificationEmail(
            subject=f"【惠企通】{item.title}",
            body="\n\n".join(lines),
            to=[item.address],
            headers={
                "Message-ID": message_id(item.delivery_id),
                webhooks.DELIVERY_HEADER: str(item.delivery_id),
                "X-Huiqi-Notification": str(item.notification_id),
            },
        )

    def send(self, item: Outgoing) -> str:
        message = self.render(item)
        try:
            sent = self._connection().send_messages([message])
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentDeliveryError(f"收件地址被拒收：{exc.recipients}") from exc
        except smtplib.SMTPAuthenticationError as exc:
            # A configuration problem, not this message's: retry until someone fixes it.
            self.close()
            raise TransientDeliveryError(f"邮件服务器认证失败：{exc.smtp_code}") from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            if 400 <= exc.smtp_code < 500:
                raise TransientDeliveryError(f"邮件服务器暂时拒绝：{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise PermanentDeliveryError(f"邮件服务器拒绝：{exc.smtp_code} {exc.smtp_error!r}") from exc
        except (smtplib.SMTPException, OSError) as exc:  # disconnects, refused connections, timeouts
            self.close()
            raise TransientDeliveryError(f"邮件服务器连接失败：{type(exc).__name__}: {exc}") from exc
        except (BadHeaderError, ValueError) as exc:  # malformed address or header
            raise PermanentDeliveryError(f"邮件无法生成：{exc}") from exc
        if not sent:
            raise TransientDeliveryError("邮件后端未发送该邮件")
        return message.extra_headers["Message-ID"]

    def close(self) -> None:
        if self.connection is not None:
            # Closing a broken connection may fail again; there is nothing more to do with it.
            with contextlib.suppress(Exception):
                self.connection.close()
            self.connection = None


class SmsChannel:
    def __init__(self) -> None:
        self.backend = sms.get_sms_backend()

    @staticmethod
    def render(item: Outgoing) -> str:
        text = f"【惠企通】{item.title}"
        return f"{text} 详情：{item.url}" if item.url else text

    def send(self, item: Outgoing) -> str:
        try:
            return self.backend.send(delivery_id=item.delivery_id, phone=item.address, text=self.render(item))
        except sms.PermanentError as exc:
            raise PermanentDeliveryError(str(exc)) from exc
        except sms.TransientError as exc:
            raise TransientDeliveryError(str(exc)) from exc

    def close(self) -> None:
        self.backend.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as an error: a signed POST is never re-sent to another URL."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class WebhookChannel:
    def __init__(self) -> None:
        self.timeout = settings.NOTIFICATIONS_WEBHOOK_TIMEOUT
        self.allow_private = settings.NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE

    def _opener(self, url: str) -> urllib.request.OpenerDirector:
        """An opener that reaches only the public address it checked (see webhooks.vetted_address)."""
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            pinned = webhooks.vetted_address(parts.hostname or "", port, allow_private=self.allow_private)
        except webhooks.UnsafeAddress as exc:
            raise PermanentDeliveryError(str(exc)) from exc
        except OSError as exc:  # DNS failure: may be temporary
            raise TransientDeliveryError(f"无法解析接收地址：{exc}") from exc
        return urllib.request.build_opener(_NoRedirect, *webhooks.pinned_handlers(pinned))

    @staticmethod
    def render(item: Outgoing, *, timestamp: int) -> bytes:
        document = {
            "event": "notification.created",
            "delivery_id": item.delivery_id,
            "timestamp": timestamp,
            "enterprise": {"credit_code": item.enterprise_credit_code, "name": item.enterprise_name},
            "notification": {
                "id": item.notification_id,
                "kind": item.kind,
                "title": item.title,
                "body": item.body,
                "link": item.url,
                "payload": item.payload,
                "created_at": item.created_at,
            },
        }
        return json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()

    def send(self, item: Outgoing) -> str:
        if not webhooks.url_is_allowed(item.address):
            raise PermanentDeliveryError(f"不支持的接收地址：{item.address}")
        opener = self._opener(item.address)
        timestamp = int(time.time())
        body = self.render(item, timestamp=timestamp)
        request = urllib.request.Request(  # noqa: S310 — scheme checked above (http/https only)
            item.address,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Huiqi-Webhook/1.0",
                webhooks.IDEMPOTENCY_HEADER: str(item.delivery_id),
                webhooks.DELIVERY_HEADER: str(item.delivery_id),
                webhooks.EVENT_HEADER: "notification.created",
                webhooks.TIMESTAMP_HEADER: str(timestamp),
                webhooks.SIGNATURE_HEADER: webhooks.sign(item.endpoint_secret, body),
            },
        )
        try:
            with opener.open(request, timeout=self.timeout) as response:
                response.read(65536)
                return response.headers.get("X-Request-Id") or f"http-{response.status}"
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code in (408, 425, 429) or exc.code >= 500:
                raise TransientDeliveryError(f"接收方暂时不可用：HTTP {exc.code}") from exc
            raise PermanentDeliveryError(f"接收方拒绝：HTTP {exc.code}") from exc
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:  # refused, DNS, timeout, reset
            raise TransientDeliveryError(f"无法连接接收方：{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        pass


CHANNELS: dict[str, type[Channel]] = {"email": EmailChannel, "sms": SmsChannel, "webhook": WebhookChannel}
