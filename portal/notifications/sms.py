"""SMS gateways: the base class, the errors a gateway raises, and the default backend that records to the database.

The backend in use is NOTIFICATIONS_SMS_BACKEND (a dotted path). A real gateway subclasses SmsBackend,
raises TransientError for "try again later" (busy, timeout, 5xx) and PermanentError for "never"
(invalid number, content rejected), and passes `delivery_id` on as its idempotency key where the
gateway has one, so that a retry after a lost reply is not a second text message.
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.utils.module_loading import import_string

from .models import SmsMessage

logger = logging.getLogger(__name__)

# Mainland mobile numbers: 11 digits starting 13–19.
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


class SmsError(Exception):
    """A gateway refused or failed to take the message."""


class TransientError(SmsError):
    """Worth trying again later."""


class PermanentError(SmsError):
    """Will never succeed for this message."""


class SmsBackend:
    """Base class of SMS gateways."""

    def send(self, *, delivery_id: int, phone: str, text: str) -> str:
        """Send one message; return the gateway's message id."""
        raise NotImplementedError

    def close(self) -> None:
        """Release connections; called once per task."""


class DatabaseSmsBackend(SmsBackend):
    """Records each message in SmsMessage and the log: runs anywhere, sends nothing.

    Idempotent per delivery: a second call with the same `delivery_id` records nothing new.
    """

    def send(self, *, delivery_id: int, phone: str, text: str) -> str:
        if not PHONE_RE.match(phone):
            raise PermanentError(f"手机号码格式不正确：{phone}")
        message, created = SmsMessage.objects.get_or_create(
            delivery_id=delivery_id, defaults={"phone": phone, "text": text}
        )
        if created:
            logger.info("SMS to %s (delivery %s): %s", phone, delivery_id, text)
        return f"db-{message.pk}"


def get_sms_backend(path: str | None = None) -> SmsBackend:
    return import_string(path or settings.NOTIFICATIONS_SMS_BACKEND)()
