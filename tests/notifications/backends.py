"""E-mail backends for tests, selectable by dotted path (NOTIFICATIONS_EMAIL_BACKEND), also in worker processes.

Each records what it was asked to do as one line per message in $HUIQI_TEST_SEND_LOG, written with
a single unbuffered append, so a line survives a SIGKILL of the process that wrote it:

    <event>\t<delivery id>\t<pid>     event: sent | fail | reject
"""

from __future__ import annotations

import os
import smtplib
import time
from collections import Counter
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend

LOG_ENV = "HUIQI_TEST_SEND_LOG"
DELAY_ENV = "HUIQI_TEST_SEND_DELAY"
FAIL_TIMES_ENV = "HUIQI_TEST_FAIL_TIMES"


def _delivery_id(message) -> int:
    return int(message.extra_headers["X-Huiqi-Delivery"])


def record(event: str, delivery_id: int) -> None:
    path = os.environ.get(LOG_ENV)
    if not path:
        raise RuntimeError(f"{LOG_ENV} is not set")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{event}\t{delivery_id}\t{os.getpid()}\n".encode())
    finally:
        os.close(fd)


def read_log(path: Path) -> list[tuple[str, int]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        event, delivery_id, _pid = line.split("\t")
        rows.append((event, int(delivery_id)))
    return rows


def counts(path: Path, event: str) -> Counter[int]:
    return Counter(delivery_id for e, delivery_id in read_log(path) if e == event)


class RecordingEmailBackend(BaseEmailBackend):
    """Accepts every message (after $HUIQI_TEST_SEND_DELAY seconds) and records it as sent."""

    def send_messages(self, email_messages) -> int:
        delay = float(os.environ.get(DELAY_ENV, "0"))
        for message in email_messages:
            if delay:
                time.sleep(delay)
            record("sent", _delivery_id(message))
        return len(email_messages)


class FailingEmailBackend(BaseEmailBackend):
    """Every send fails as if the SMTP server dropped the connection (a transient error)."""

    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            record("fail", _delivery_id(message))
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed (test backend)")


class FlakyEmailBackend(BaseEmailBackend):
    """The first $HUIQI_TEST_FAIL_TIMES attempts of each delivery fail (transient); then it is sent."""

    def send_messages(self, email_messages) -> int:
        fail_times = int(os.environ.get(FAIL_TIMES_ENV, "2"))
        log = Path(os.environ[LOG_ENV])
        for message in email_messages:
            delivery_id = _delivery_id(message)
            if counts(log, "fail")[delivery_id] < fail_times:
                record("fail", delivery_id)
                raise smtplib.SMTPConnectError(421, b"Service not available (test backend)")
            record("sent", delivery_id)
        return len(email_messages)


class RejectingEmailBackend(BaseEmailBackend):
    """The server refuses the recipient (a permanent error)."""

    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            record("reject", _delivery_id(message))
            raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"5.1.1 No such user (test backend)")})
        return 0


def use_backend(settings, name: str) -> str:
    """Select one of these backends for notification e-mail (pytest-django `settings` fixture)."""
    path = f"{__name__}.{name}"
    settings.NOTIFICATIONS_EMAIL_BACKEND = path
    return path
