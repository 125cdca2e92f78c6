"""A dead worker, or a broker restarted without its data, delays a 免申即享 fan-out by about a minute.

Real processes only: a private redis-server, `celery worker` subprocesses and the single `celery beat`
(the project's schedule, with a short sweep interval). The test never calls a sweep itself: after the
fault it only starts what an operator would start again (a worker), then waits. Within two minutes every
verified-eligible enterprise has exactly one entitlement, one inbox notice and one e-mail (a file-based
mail backend the test reads across processes); nobody else has any.

The staleness after which a run or an outbox claim counts as lost is the production default
(JOB_STALE_AFTER_SECONDS, 60 s); only the sweep interval is shortened (production: 30 s).
"""

from __future__ import annotations

import email
import shutil
import time
from collections import Counter
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from devtools.bench import district as synthetic_district
from matching.core.evaluator import compile_rule
from matching.models import MatchRecord, MatchRun
from matching.selectors import today
from matching.services import match_profiles_refresh
from portal.enterprises.selectors import enterprise_profiles_by_id
from portal.entitlements.models import Entitlement
from portal.notifications.models import Delivery, Notification
from tests.policies.factories import PolicyVersionFactory
from tests.support.services import (
    BeatProcess,
    PrivateRedis,
    WorkerProcess,
    manage_shell,
    need,
    need_postgres,
    wait_for,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

RECOVERY_BOUND = 120.0  # seconds from the fault to a complete fan-out
SWEEP_INTERVAL = "5"  # beat interval of the sweeps for the test (production: 30 s)
# Broad on purpose: about half the district is verified-eligible (an entitlement, a notice and an e-mail
# each), a fifth more are told they are eligible or need to supply information, the rest get nothing.
FANOUT_RULE = {"fact": "tax_credit_rating", "op": "in", "value": ["A", "B"]}


def expected_verified_eligible() -> set[int]:
    """Decided independently of both matching paths: the pure evaluator over every profile."""
    compiled = compile_rule(FANOUT_RULE)
    on = today()
    return {
        pk
        for pk, profile in enterprise_profiles_by_id()
        if (o := compiled.evaluate(profile, on=on)).status == "eligible" and o.verified
    }


@pytest.fixture
def district() -> dict[int, str]:
    """3,000 enterprises (one e-mail user each); returns enterprise id → its user's address."""
    need_postgres()
    need(shutil.which("redis-server") is not None, "redis-server is not installed")
    synthetic_district.build_district(3000, seed=11)
    match_profiles_refresh()
    from portal.enterprises.models import Enterprise

    users = [
        get_user_model()(username=f"user{pk}", email=f"user{pk}@example.com", enterprise_id=pk)
        for pk in Enterprise.objects.values_list("pk", flat=True)
    ]
    get_user_model().objects.bulk_create(users, batch_size=1000)
    return {u.enterprise_id: u.email for u in users}


@pytest.fixture
def processes(tmp_path: Path):
    """Starts the broker, workers and beat on demand; stops every one of them, whatever happens."""
    started: list = []
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = {
        "NOTIFICATIONS_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "DJANGO_EMAIL_FILE_PATH": str(mail_dir),
        "JOB_SWEEP_INTERVAL_SECONDS": SWEEP_INTERVAL,
    }

    class Processes:
        mail = mail_dir
        broker = PrivateRedis()

        def worker(self, **extra: str) -> WorkerProcess:
            worker = WorkerProcess(broker_url=self.broker.url, extra_env={**env, **extra})
            started.append(worker)
            worker.wait_ready(timeout=60)
            return worker

        def beat(self) -> BeatProcess:
            beat = BeatProcess(broker_url=self.broker.url, extra_env=env)
            started.append(beat)
            beat.wait_ready(timeout=60)
            return beat

    procs = Processes()
    procs.broker.start()
    try:
        yield procs
    finally:
        for process in reversed(started):
            try:
                process.stop()
            except Exception:  # stop the others whatever this one did
                if process.process.poll() is None:
                    process.process.kill()
        procs.broker.stop()


def publish(version_pk: int, reviewer_pk: int, broker_url: str) -> None:
    """Publish from a separate web-like process, as the console would."""
    done = manage_shell(
        "from policies.models import PolicyVersion; from policies.services import policy_publish; "
        "from django.contrib.auth import get_user_model; "
        f"policy_publish(version=PolicyVersion.objects.get(pk={version_pk}), "
        f"by=get_user_model().objects.get(pk={reviewer_pk}))",
        broker_url,
    )
    assert done.returncode == 0, done.stderr


def mails(mail_dir: Path) -> list[tuple[str, int]]:
    """(recipient, notification id) of every e-mail the workers wrote, across all their files."""
    sent = []
    for path in sorted(mail_dir.iterdir()):
        for part in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if not part.strip():
                continue
            message = email.message_from_bytes(part)
            sent.append((message["To"], int(message["X-Huiqi-Notification"])))
    return sent


def complete(version_pk: int, expected: set[int], mail_dir: Path) -> bool:
    return (
        MatchRun.objects.filter(policy_version_id=version_pk, status=MatchRun.Status.DONE).exists()
        and Entitlement.objects.count() >= len(expected)
        and Notification.objects.filter(kind=Notification.Kind.EXEMPT_GRANTED).count() >= len(expected)
        and not Delivery.objects.exclude(status=Delivery.Status.SENT).exists()
        and len(mails(mail_dir)) >= len(expected)
    )


def assert_exactly_once(version_pk: int, expected: set[int], addresses: dict[int, str], mail_dir: Path) -> None:
    entitlements = list(Entitlement.objects.values_list("enterprise_id", flat=True))
    assert len(entitlements) == len(expected) and set(entitlements) == expected
    assert not Entitlement.objects.filter(explanation__isnull=True).exists()
    notices = dict(
        Notification.objects.filter(kind=Notification.Kind.EXEMPT_GRANTED).values_list("pk", "enterprise_id")
    )
    assert sorted(notices.values()) == sorted(expected)
    # One e-mail per notice of any kind (the publish also tells eligible-but-unverified enterprises, and
    # those that need to supply information): every enterprise has one user, so one delivery each.
    sent = mails(mail_dir)
    per_notice = Counter(notification for _, notification in sent)
    every_notice = set(Notification.objects.values_list("pk", flat=True))
    assert set(per_notice) == every_notice and set(per_notice.values()) == {1}, "an e-mail lost or sent twice"
    assert sorted(to for to, pk in sent if pk in notices) == sorted(addresses[pk] for pk in expected)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM notifications_notification "
            "GROUP BY enterprise_id, dedupe_key HAVING count(*) > 1) d"
        )
        assert cursor.fetchone()[0] == 0
    # Counted chunk by chunk across both holders of the run: every record it wrote, once.
    run = MatchRun.objects.get(policy_version_id=version_pk)
    assert sum(run.changed.values()) == MatchRecord.objects.filter(policy_version_id=version_pk).count()
    assert run.processed == run.total
    # And the data's own rules hold after the fault: every decision explained, no benefit on no
    # decision, nothing payable twice (manage.py check_invariants, as the nightly beat runs it).
    from portal.ops.invariants import invariant_counts

    assert set(invariant_counts().values()) == {0}, invariant_counts()


def exempt_version(reviewer) -> int:
    return PolicyVersionFactory(rule=FANOUT_RULE, mode="exempt", status="in_review", approved_by=reviewer).pk


def test_a_worker_killed_mid_fanout_is_replaced_and_everything_arrives_once(
    district, processes, staff_reviewer
) -> None:
    expected = expected_verified_eligible()
    assert 1000 < len(expected) < 2500  # thousands of enterprises, a real share of them, not everyone
    version_pk = exempt_version(staff_reviewer)
    # One process, small chunks: the run is long enough to be killed in its middle, and no e-mail is in
    # flight when it dies (the outbox batches wait behind the run), so "exactly once" is exact.
    worker = processes.worker(MATCH_CHUNK_SIZE="50")
    processes.beat()
    publish(version_pk, staff_reviewer.pk, processes.broker.url)

    def midway() -> bool:
        run = MatchRun.objects.filter(policy_version_id=version_pk).first()
        return bool(run and run.total and run.processed >= run.total // 3)

    wait_for(midway, timeout=90, interval=0.05)
    worker.kill()
    killed_at = time.monotonic()
    run = MatchRun.objects.get(policy_version_id=version_pk)
    assert run.status == MatchRun.Status.RUNNING and run.processed < run.total
    assert Entitlement.objects.count() < len(expected), "the run finished before the kill: make chunks smaller"
    resumed_from = run.cursor

    second = processes.worker(MATCH_CHUNK_SIZE="50")  # what an operator (or the orchestrator) does
    wait_for(lambda: complete(version_pk, expected, processes.mail), timeout=RECOVERY_BOUND, interval=0.5)
    elapsed = time.monotonic() - killed_at
    print(f"\nkill → complete fan-out: {elapsed:.1f} s ({len(expected)} enterprises)")
    time.sleep(2)  # anything late (a duplicate send) would show now

    assert_exactly_once(version_pk, expected, district, processes.mail)
    assert elapsed < RECOVERY_BOUND
    # The second holder resumed after the committed chunks instead of starting from zero.
    assert resumed_from is not None and resumed_from > min(district)
    assert f"resumes at enterprise {resumed_from}" in second.log()


def test_redis_restarted_without_its_data_mid_fanout_and_everything_arrives_once(
    district, processes, staff_reviewer
) -> None:
    expected = expected_verified_eligible()
    version_pk = exempt_version(staff_reviewer)
    processes.worker(MATCH_CHUNK_SIZE="50")
    processes.beat()
    publish(version_pk, staff_reviewer.pk, processes.broker.url)

    def midway() -> bool:
        run = MatchRun.objects.filter(policy_version_id=version_pk).first()
        return bool(run and run.total and run.processed >= run.total // 3)

    wait_for(midway, timeout=90, interval=0.05)
    # Queued outbox batches, the run's own unacknowledged message: all gone with the broker's memory.
    processes.broker.stop()
    stopped_at = time.monotonic()
    assert Entitlement.objects.count() < len(expected), "the run finished before the outage: make chunks smaller"
    time.sleep(5)
    processes.broker.start()  # the same port, empty

    wait_for(lambda: complete(version_pk, expected, processes.mail), timeout=RECOVERY_BOUND, interval=0.5)
    elapsed = time.monotonic() - stopped_at
    print(f"\nbroker stop → complete fan-out: {elapsed:.1f} s ({len(expected)} enterprises)")
    time.sleep(2)

    assert_exactly_once(version_pk, expected, district, processes.mail)
    assert elapsed < RECOVERY_BOUND
