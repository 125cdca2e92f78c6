"""Outbox claims carry a heartbeat and a token (claimed_at); lost messages are handed over again early
when no delivery batch waits in the broker's queue."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from portal.celery import app
from portal.notifications import channels, services, tasks
from portal.notifications.delivery import deliveries_send
from portal.notifications.models import Delivery, Notification
from tests.support.services import PrivateRedis, need

pytestmark = pytest.mark.django_db


@pytest.fixture
def handed(monkeypatch) -> list[list[int]]:
    """What the sweep hands to the broker (instead of a broker)."""
    batches: list[list[int]] = []
    monkeypatch.setattr(tasks.deliver_batch, "apply_async", lambda args, **kw: batches.append(args[0]))
    return batches


def notice(enterprise, key: str = "k") -> Notification:
    return services.notification_create(
        enterprise_id=enterprise.pk, kind=Notification.Kind.MAY_APPLY, dedupe_key=key, title="示例"
    )


def test_a_slow_worker_does_not_send_a_row_another_worker_claimed_since(enterprise, alice, bob, settings) -> None:
    # given: two claimed rows; this worker renews before every send (a third of a zero timeout has passed)
    settings.NOTIFICATIONS_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFICATIONS_SENDING_TIMEOUT = 0
    first, second = notice(enterprise).deliveries.order_by("pk")
    original = channels.EmailChannel.send

    def send_then_lose_the_second(self, item):
        result = original(self, item)
        # meanwhile the sweep took the second row back and another worker claimed it: "sending" again,
        # under that worker's claim time
        Delivery.objects.filter(pk=second.pk).update(claimed_at=timezone.now() + timedelta(seconds=1))
        return result

    channels.EmailChannel.send = send_then_lose_the_second
    try:
        stats = deliveries_send(delivery_ids=[first.pk, second.pk])
    finally:
        channels.EmailChannel.send = original

    # then: only the first went out from here; the second is the other worker's to send
    assert stats == {"claimed": 2, "sent": 1}
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    second.refresh_from_db()
    assert second.status == Delivery.Status.SENDING


def test_lost_messages_are_handed_over_after_the_staleness_when_no_delivery_batch_waits(
    enterprise, alice, handed, settings, monkeypatch
) -> None:
    # given: a pending row handed to the broker two minutes ago (its message lost: a worker killed before
    # its on-commit hand-over, or a broker restarted without its data)
    settings.JOB_STALE_AFTER_SECONDS = 60
    settings.NOTIFICATIONS_REQUEUE_AFTER = 600
    row = notice(enterprise).deliveries.get()
    Delivery.objects.filter(pk=row.pk).update(enqueued_at=timezone.now() - timedelta(seconds=120))

    # while delivery batches wait in the queue, the row waits its turn (no second message)
    monkeypatch.setattr(services, "_delivery_batch_may_wait", lambda: True)
    assert services.outbox_sweep()["due"] == 0
    # once nothing waits, its message is known to be gone: handed over again
    monkeypatch.setattr(services, "_delivery_batch_may_wait", lambda: False)
    assert services.outbox_sweep()["due"] == 1
    assert handed == [[row.pk]]
    # and not again right away
    assert services.outbox_sweep()["due"] == 0


def test_a_row_handed_over_within_the_staleness_is_left_alone_even_when_no_delivery_batch_waits(
    enterprise, alice, handed, settings, monkeypatch
) -> None:
    settings.JOB_STALE_AFTER_SECONDS = 60
    notice(enterprise)  # handed over just now (its message may still be on its way)
    monkeypatch.setattr(services, "_delivery_batch_may_wait", lambda: False)
    assert services.outbox_sweep()["due"] == 0
    assert handed == []


def test_a_sending_row_is_taken_back_once_its_heartbeat_is_stale_not_before(enterprise, alice, handed) -> None:
    # the default staleness: a minute without a renewed claim
    row = notice(enterprise).deliveries.get()
    Delivery.objects.filter(pk=row.pk).update(
        status=Delivery.Status.SENDING, attempts=1, claimed_at=timezone.now() - timedelta(seconds=45)
    )
    assert services.outbox_sweep()["reset"] == 0
    Delivery.objects.filter(pk=row.pk).update(claimed_at=timezone.now() - timedelta(seconds=61))
    assert services.outbox_sweep()["reset"] == 1
    row.refresh_from_db()
    assert row.status == Delivery.Status.PENDING


def test_only_a_waiting_delivery_batch_holds_lost_rows_back(settings) -> None:
    """Against a real Redis broker with no worker: the periodic tasks beat sends in the sweep's own tick wait
    in the queue while the sweep runs, and do not stand for any row; a delivery batch does; and a broker that
    cannot be read is taken to hold one (the rows then wait NOTIFICATIONS_REQUEUE_AFTER)."""
    need(shutil.which("redis-server") is not None, "redis-server is not installed")
    broker = PrivateRedis()
    broker.start()
    eager, url = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager, app.conf.broker_url = False, broker.url
    try:
        assert services._delivery_batch_may_wait() is False  # nothing waits
        with app.connection_for_write() as conn:
            for entry in settings.CELERY_BEAT_SCHEDULE.values():
                if entry["schedule"] == settings.JOB_SWEEP_INTERVAL_SECONDS:  # the sweeps of one tick
                    app.send_task(entry["task"], connection=conn)
        with app.connection_for_read() as conn:
            assert conn.default_channel.client.llen(app.conf.task_default_queue) >= 4
        assert services._delivery_batch_may_wait() is False
        with app.connection_for_write() as conn:
            tasks.deliver_batch.apply_async(args=[[1]], connection=conn)
        assert services._delivery_batch_may_wait() is True
        broker.stop()
        assert services._delivery_batch_may_wait() is True  # unknown
    finally:
        app.conf.task_always_eager, app.conf.broker_url = eager, url
        broker.stop()
