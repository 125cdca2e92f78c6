"""Delivery through a real Redis broker and a real worker process: exactly once, retries, dead letter."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

from portal.accounts.models import User
from portal.notifications import services
from portal.notifications.models import Delivery, Notification
from portal.notifications.tasks import deliver_batch
from tests.support.services import wait_for

from . import backends

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def add_users(enterprise, count: int, prefix: str = "u") -> None:
    User.objects.bulk_create(
        User(username=f"{prefix}{n}-{enterprise.pk}", email=f"{prefix}{n}@example.com", enterprise=enterprise)
        for n in range(count)
    )


def create(enterprise, key: str) -> Notification | None:
    return services.notification_create(
        enterprise_id=enterprise.pk, kind=Notification.Kind.MAY_APPLY, dedupe_key=key, title="可申报示例政策（示例）"
    )


def all_sent(ids) -> bool:
    return Delivery.objects.filter(pk__in=ids, status=Delivery.Status.SENT).count() == len(ids)


def delivery_headers(mail_dir: Path) -> Counter[int]:
    text = "".join(p.read_text() for p in mail_dir.glob("*.log"))
    return Counter(int(n) for n in re.findall(r"^X-Huiqi-Delivery: (\d+)$", text, flags=re.M))


def test_each_email_goes_out_exactly_once_through_the_worker(start_worker, enterprise, tmp_path) -> None:
    # given: a worker writing e-mail to files
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    worker = start_worker(
        extra_env={
            "NOTIFICATIONS_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "DJANGO_EMAIL_FILE_PATH": str(mail_dir),
        }
    )
    add_users(enterprise, 12)

    # when: matching decides twice, and the task is delivered twice more
    notification = create(enterprise, "pv1:may_apply")
    assert create(enterprise, "pv1:may_apply") is None
    ids = list(notification.deliveries.values_list("pk", flat=True))
    wait_for(lambda: all_sent(ids))
    deliver_batch.delay(ids)
    deliver_batch.delay(ids)
    marker = create(enterprise, "marker")  # one worker process runs tasks in order: after the duplicates
    marker_ids = list(marker.deliveries.values_list("pk", flat=True))
    wait_for(lambda: all_sent(marker_ids))
    worker.stop()

    # then
    sent = delivery_headers(mail_dir)
    assert len(ids) == 12
    assert {pk: sent[pk] for pk in ids} == dict.fromkeys(ids, 1)
    assert Delivery.objects.filter(pk__in=ids, attempts=1).count() == 12


def _sweep_until(predicate, settings, timeout: float = 60.0) -> None:
    """Run the outbox sweep (as beat would) until `predicate` holds."""
    settings.NOTIFICATIONS_REQUEUE_AFTER = 0
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "sweep did not get there in time"
        services.outbox_sweep()
        time.sleep(0.3)


def test_failing_email_backend_retries_then_dead_letter(start_worker, enterprise, alice, send_log, settings) -> None:
    # given: an SMTP server that always drops the connection
    start_worker(
        extra_env={
            "NOTIFICATIONS_EMAIL_BACKEND": "tests.notifications.backends.FailingEmailBackend",
            backends.LOG_ENV: str(send_log),
            "NOTIFICATIONS_MAX_ATTEMPTS": "3",
            "NOTIFICATIONS_RETRY_BASE_DELAY": "0.2",
        }
    )

    # when
    row = create(enterprise, "pv2:may_apply").deliveries.get()
    _sweep_until(lambda: Delivery.objects.get(pk=row.pk).status == Delivery.Status.DEAD, settings)

    # then: exactly three attempts, none of them a send
    row.refresh_from_db()
    assert row.attempts == 3
    assert "SMTPServerDisconnected" in row.last_error
    assert backends.counts(send_log, "fail")[row.pk] == 3
    assert backends.counts(send_log, "sent")[row.pk] == 0


def test_flaky_email_backend_is_sent_once_after_retries(start_worker, enterprise, send_log, settings) -> None:
    # given: each message fails twice, then goes through
    start_worker(
        extra_env={
            "NOTIFICATIONS_EMAIL_BACKEND": "tests.notifications.backends.FlakyEmailBackend",
            backends.LOG_ENV: str(send_log),
            backends.FAIL_TIMES_ENV: "2",
            "NOTIFICATIONS_RETRY_BASE_DELAY": "0.2",
        }
    )
    add_users(enterprise, 4)

    # when
    ids = list(create(enterprise, "pv3:may_apply").deliveries.values_list("pk", flat=True))
    _sweep_until(lambda: all_sent(ids), settings)

    # then
    assert {pk: backends.counts(send_log, "sent")[pk] for pk in ids} == dict.fromkeys(ids, 1)
    assert {pk: backends.counts(send_log, "fail")[pk] for pk in ids} == dict.fromkeys(ids, 2)
    assert set(Delivery.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {3}
