"""Fault tests with real processes: a worker SIGKILLed mid-fan-out, and Redis down while notifications are created."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter

import pytest

from portal.accounts.models import User
from portal.notifications import services
from portal.notifications.models import Delivery, Notification
from portal.notifications.services import NotificationSpec
from tests.enterprises.factories import EnterpriseFactory
from tests.support.services import (
    ROOT,
    PrivateRedis,
    WorkerProcess,
    need,
    need_postgres,
    test_database_url,
    wait_for,
)

from . import backends

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

KIND = Notification.Kind.EXEMPT_GRANTED


def fan_out_population(enterprises: int, users_each: int) -> list[int]:
    ids = [EnterpriseFactory().pk for _ in range(enterprises)]
    User.objects.bulk_create(
        User(username=f"u{e}-{n}", email=f"u{n}@e{e}.example.com", enterprise_id=e)
        for e in ids
        for n in range(users_each)
    )
    return ids


def specs(enterprise_ids: list[int], key: str) -> list[NotificationSpec]:
    return [NotificationSpec(e, KIND, key, "示例政策已为贵企业免申兑现（示例）") for e in enterprise_ids]


def test_worker_killed_mid_fan_out_every_delivery_ends_sent(start_worker, send_log, settings) -> None:
    # given: 3,000 e-mail deliveries and a worker that takes ~2 ms per message
    env = {
        "NOTIFICATIONS_EMAIL_BACKEND": "tests.notifications.backends.RecordingEmailBackend",
        backends.LOG_ENV: str(send_log),
        backends.DELAY_ENV: "0.002",
    }
    worker = start_worker(extra_env=env)
    enterprise_ids = fan_out_population(30, 100)

    # when: the fan-out is under way and the worker is killed
    assert services.notifications_create_bulk(items=specs(enterprise_ids, "pv1:exempt_granted")) == 30
    wait_for(lambda: len(backends.read_log(send_log)) >= 800, timeout=60)
    worker.kill()
    time.sleep(0.2)
    sent_before = backends.counts(send_log, "sent")
    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert 0 < len(sent_before) < 3000, "the kill did not land mid-fan-out"
    # Sent by the far side but not yet marked: the only rows that may go out twice.
    window = {pk for pk in sent_before if statuses[pk] == Delivery.Status.SENDING}

    # ... the outbox sweep (beat) frees what the dead worker held, and a new worker carries on
    settings.NOTIFICATIONS_SENDING_TIMEOUT = 0
    settings.NOTIFICATIONS_REQUEUE_AFTER = 0
    services.outbox_sweep()
    start_worker(extra_env=env)
    wait_for(lambda: Delivery.objects.filter(status=Delivery.Status.SENT).count() == 3000, timeout=120)

    # then: every delivery went out; a second send happened only inside the unmarked window
    sent = backends.counts(send_log, "sent")
    assert Delivery.objects.count() == 3000
    assert set(sent) == set(statuses)
    duplicates = {pk for pk, n in sent.items() if n > 1}
    assert duplicates <= window
    assert max(sent.values()) <= 2
    assert len(window) <= settings.NOTIFICATIONS_MARK_FLUSH_MAX
    print(f"killed after {len(sent_before)} sends; unmarked window {len(window)}; sent twice {len(duplicates)}")


WEB_PROCESS = """
import json, sys, time
from pathlib import Path
import django
django.setup()
from portal.notifications.services import NotificationSpec, notification_create, notifications_create_bulk, outbox_sweep

ids, out = json.loads(sys.argv[1]), Path(sys.argv[2])
started = time.monotonic()
n = notifications_create_bulk(items=[NotificationSpec(e, "exempt_granted", "pv4:x", "示例") for e in ids])
one = notification_create(enterprise_id=ids[0], kind="may_apply", dedupe_key="pv5:y", title="示例")
(out / "created.json").write_text(json.dumps({"created": n + (one is not None), "seconds": time.monotonic() - started}))
# The same process then runs the sweep as beat would, every half second, until it could hand everything over.
handed, deadline = 0, time.monotonic() + 60
while handed < 63 and time.monotonic() < deadline:
    handed += outbox_sweep()["enqueued"]
    time.sleep(0.5)
(out / "swept.json").write_text(json.dumps({"enqueued": handed}))
"""


def _web_process(enterprise_ids: list[int], out, *, broker_url: str) -> subprocess.Popen:
    """A long-lived Django process (like a web worker) on the test database, with its own broker URL."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": broker_url,
        "NOTIFICATIONS_REQUEUE_AFTER": "0",
    }
    return subprocess.Popen(
        [sys.executable, "-c", WEB_PROCESS, json.dumps(enterprise_ids), str(out)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(out / "web.log", "wb"),
    )


def test_redis_down_creation_succeeds_and_everything_is_delivered_later(transactional_db, send_log, tmp_path) -> None:
    need_postgres()
    need(shutil.which("redis-server") is not None, "redis-server is not installed")
    redis_server = PrivateRedis()
    redis_server.start()
    worker = web = None
    try:
        # given: the broker goes away
        enterprise_ids = fan_out_population(20, 3)
        redis_server.stop()

        # when: a web process creates notifications (a publish) while it is down
        web = _web_process(enterprise_ids, tmp_path, broker_url=redis_server.url)
        created_file = tmp_path / "created.json"
        # "does not fail or hang": the creation returns while the broker is still down
        wait_for(lambda: created_file.exists() or web.poll() is not None, timeout=30)
        assert created_file.exists(), (tmp_path / "web.log").read_text()
        created = json.loads(created_file.read_text())

        # then: created and committed; nothing can go out yet
        assert created["created"] == 21
        rows = Delivery.objects.all()
        assert rows.count() == 63
        assert set(rows.values_list("status", flat=True)) == {Delivery.Status.PENDING}

        # when: Redis comes back (the same web process keeps sweeping) and a worker runs
        time.sleep(1)  # a sweep or two fails against the missing broker first
        redis_server.start()
        worker = WorkerProcess(
            broker_url=redis_server.url,
            extra_env={
                "NOTIFICATIONS_EMAIL_BACKEND": "tests.notifications.backends.RecordingEmailBackend",
                backends.LOG_ENV: str(send_log),
            },
        )
        worker.wait_ready()
        assert web.wait(timeout=90) == 0, (tmp_path / "web.log").read_text()

        # then: everything is delivered, once
        assert json.loads((tmp_path / "swept.json").read_text())["enqueued"] == 63
        wait_for(lambda: rows.filter(status=Delivery.Status.SENT).count() == 63, timeout=60)
        sent = backends.counts(send_log, "sent")
        assert sent == Counter(dict.fromkeys(rows.values_list("pk", flat=True), 1))
        print(f"creation with the broker down took {created['seconds']:.2f}s")
    finally:
        if web is not None and web.poll() is None:
            web.kill()
            web.wait(timeout=10)
        if worker is not None:
            worker.stop()
        redis_server.stop()
