"""outbox_sweep: hands over rows nobody holds (broker outage, lost messages), frees rows lost with a worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from portal.notifications import services, tasks
from portal.notifications.models import Delivery, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def row(enterprise, alice) -> Delivery:
    notification = services.notification_create(
        enterprise_id=enterprise.pk, kind=Notification.Kind.MAY_APPLY, dedupe_key="k", title="示例"
    )
    return notification.deliveries.get()


@pytest.fixture
def handed(monkeypatch) -> list[list[int]]:
    """What the sweep hands to the broker (instead of a broker)."""
    batches: list[list[int]] = []
    monkeypatch.setattr(tasks.deliver_batch, "apply_async", lambda args, **kw: batches.append(args[0]))
    return batches


def set_row(row: Delivery, **fields) -> None:
    Delivery.objects.filter(pk=row.pk).update(**fields)


def test_a_pending_row_whose_enqueue_failed_is_handed_over_and_sent(row, celery_eager) -> None:
    set_row(row, enqueued_at=None)

    result = services.outbox_sweep()

    assert result == {"reset": 0, "dead": 0, "due": 1, "enqueued": 1}
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.status == Delivery.Status.SENT


def test_a_row_handed_over_recently_is_left_alone_until_requeue_after(row, handed, settings) -> None:
    settings.NOTIFICATIONS_REQUEUE_AFTER = 600
    assert services.outbox_sweep()["due"] == 0

    set_row(row, enqueued_at=timezone.now() - timedelta(seconds=601))
    assert services.outbox_sweep()["due"] == 1
    assert handed == [[row.pk]]
    assert services.outbox_sweep()["due"] == 0  # handed over again just now


def test_failed_rows_are_handed_over_when_due(row, handed) -> None:
    set_row(row, status=Delivery.Status.FAILED, enqueued_at=None, next_attempt_at=timezone.now() + timedelta(minutes=1))
    assert services.outbox_sweep()["due"] == 0
    set_row(row, next_attempt_at=timezone.now())
    assert services.outbox_sweep()["due"] == 1
    assert handed == [[row.pk]]


def test_a_row_stuck_in_sending_is_put_back(row, handed, settings) -> None:
    settings.NOTIFICATIONS_SENDING_TIMEOUT = 900
    set_row(row, status=Delivery.Status.SENDING, attempts=1, claimed_at=timezone.now() - timedelta(seconds=100))
    assert services.outbox_sweep()["reset"] == 0

    set_row(row, claimed_at=timezone.now() - timedelta(seconds=901))
    result = services.outbox_sweep()

    assert (result["reset"], result["due"]) == (1, 1)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Delivery.Status.PENDING, 1)
    assert handed == [[row.pk]]


def test_a_row_that_keeps_losing_its_worker_ends_dead(row, handed, settings) -> None:
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    set_row(row, status=Delivery.Status.SENDING, attempts=3, claimed_at=timezone.now() - timedelta(hours=1))

    assert services.outbox_sweep()["dead"] == 1

    row.refresh_from_db()
    assert row.status == Delivery.Status.DEAD
    assert handed == []


def test_broker_down_the_rows_stay_for_the_next_sweep(row, monkeypatch, settings) -> None:
    # given
    def broker_down(*args, **kwargs):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")

    monkeypatch.setattr(tasks.deliver_batch, "apply_async", broker_down)
    set_row(row, enqueued_at=None)

    # when
    result = services.outbox_sweep()

    # then: nothing raised; the row is still unhanded, so the next sweep tries again at once
    assert result["enqueued"] == 0
    row.refresh_from_db()
    assert (row.status, row.enqueued_at) == (Delivery.Status.PENDING, None)


def test_sweep_task_is_registered_in_beat() -> None:
    from django.conf import settings as django_settings

    entry = django_settings.CELERY_BEAT_SCHEDULE["notifications.sweep_outbox"]
    assert entry == {"task": tasks.sweep_outbox.name, "schedule": django_settings.JOB_SWEEP_INTERVAL_SECONDS}
    assert tasks.deliver_batch.name == "notifications.deliver_batch"
    assert tasks.deliver_batch.acks_late and tasks.deliver_batch.reject_on_worker_lost
