"""E-mail backends for `bench_fanout` only (selected by its --email-backend option, never by settings)."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend


class RenderingEmailBackend(BaseEmailBackend):
    """A local backend that does all an SMTP backend does short of the network: builds each message
    and serialises it to the bytes it would send (as_bytes, CRLF line ends), then drops them."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            data = message.message().as_bytes(linesep="\r\n")
            if data:
                sent += 1
        return sent


# Short names accepted by `bench_fanout --email-backend`; anything else is taken as a dotted path.
BACKENDS = {
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
    "rendering": f"{__name__}.RenderingEmailBackend",
}
