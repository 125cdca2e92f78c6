"""Match runs lost with their worker: heartbeat, claim token, resume at the cursor, and no duplicates
when two workers run the same policy at once (real PostgreSQL)."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from devtools.bench import district as synthetic_district
from matching import services
from matching.core.evaluator import compile_rule
from matching.models import MatchRecord, MatchRun
from matching.selectors import today
from portal.enterprises.selectors import enterprise_profiles_by_id
from portal.entitlements.models import Entitlement
from portal.jobs import Keepalive
from portal.notifications.models import Notification
from tests.enterprises.factories import EnterpriseFactory, QualificationFactory
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db

RULE = {
    "all": [
        {"fact": "industry", "op": "under", "value": ["39"]},
        {"fact": "qualification", "op": "has", "value": "high_tech"},
        {"fact": "employees", "op": "gte", "value": 100},
    ]
}


class Killed(BaseException):
    """Stands for SIGKILL: nothing catches it, nothing after it runs."""


def district() -> dict[str, object]:
    eligible = EnterpriseFactory(industry_code="3973", employees=150)
    QualificationFactory(enterprise=eligible)
    unknown = EnterpriseFactory(industry_code="3973", employees=None)  # needs_info
    QualificationFactory(enterprise=unknown)
    outside = EnterpriseFactory(industry_code="6511")
    services.match_profiles_refresh()
    version = PolicyVersionFactory(published=True, rule=RULE)
    return {"eligible": eligible, "unknown": unknown, "outside": outside, "version": version}


def stale(run: MatchRun) -> None:
    MatchRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))


def test_a_revived_run_resumes_after_the_committed_chunks_with_their_explanations(
    settings, monkeypatch, celery_eager
) -> None:
    # given: one enterprise per chunk; the worker dies right after the first chunk committed
    settings.MATCH_CHUNK_SIZE = 1
    d = district()
    run = MatchRun.objects.create(kind=MatchRun.Kind.POLICY, policy_version=d["version"])
    original_add = services.MatchSummary.add

    def die(self, changes):
        raise Killed

    monkeypatch.setattr(services.MatchSummary, "add", die)
    with pytest.raises(Killed):
        services.match_run_execute(run=services.match_run_claim(run_id=run.pk))
    monkeypatch.setattr(services.MatchSummary, "add", original_add)
    run.refresh_from_db()
    first = MatchRecord.objects.get(enterprise=d["eligible"])
    assert (run.status, run.cursor, run.processed) == ("running", d["eligible"].pk + 1, 1)
    # The explanation committed with the decision: a dead worker leaves no record without its reasons.
    assert first.explanation is not None

    # when: nobody beats for the staleness; the beat's sweep sends the run again (runs inline here)
    decided_from: list[int] = []
    original_decide = services.decide_and_write

    def spy(compiled, *, lo, **kwargs):
        decided_from.append(lo)
        return original_decide(compiled, lo=lo, **kwargs)

    monkeypatch.setattr(services, "decide_and_write", spy)
    assert services.match_runs_sweep() == 0  # the heartbeat is fresh: the worker may still be alive
    stale(run)
    assert services.match_runs_sweep() == 1

    # then: the chunk that committed is not decided again; everything is explained and counted once
    run.refresh_from_db()
    assert run.status == "done" and run.cursor is None
    assert decided_from[0] == d["eligible"].pk + 1
    assert (run.processed, run.total) == (run.total, d["outside"].pk - d["eligible"].pk + 1)
    assert run.changed == {"newly_eligible": 1, "needs_info": 1}
    assert not MatchRecord.objects.filter(explanation__isnull=True).exists()
    first.refresh_from_db()
    assert first.explanation["summary"] == "符合全部条件"


def test_a_worker_that_lost_its_run_stops_and_its_chunk_is_rolled_back(settings, monkeypatch) -> None:
    # given: a worker holds the run; after its first chunk, the run is revived and claimed by another
    settings.MATCH_CHUNK_SIZE = 1
    d = district()
    run = services.match_run_claim(run_id=MatchRun.objects.create(kind="policy", policy_version=d["version"]).pk)
    original_add = services.MatchSummary.add
    other = uuid.uuid4()

    def count_then_lose_the_run(self, changes):
        original_add(self, changes)  # after the first chunk committed
        MatchRun.objects.filter(pk=run.pk).update(claim=other)  # another worker's claim

    monkeypatch.setattr(services.MatchSummary, "add", count_then_lose_the_run)

    # when / then: its next progress write finds another claim: it stops, and that chunk is not kept
    with pytest.raises(services.MatchRunLost):
        services.match_run_execute(run=run)
    assert list(MatchRecord.objects.values_list("enterprise_id", flat=True)) == [d["eligible"].pk]
    current = MatchRun.objects.get(pk=run.pk)
    assert (current.status, current.claim, current.cursor) == ("running", other, d["eligible"].pk + 1)
    assert not services.match_run_heartbeat(run_id=run.pk, claim=run.claim)


def test_a_run_given_back_or_failed_by_a_former_holder_is_left_to_the_current_one() -> None:
    run = MatchRun.objects.create(kind=MatchRun.Kind.NIGHTLY)
    former = services.match_run_claim(run_id=run.pk)
    stale(run)
    current = services.match_run_claim(run_id=run.pk)

    services.match_run_release(run=former)
    services.match_run_fail(run_id=run.pk, error=RuntimeError("late"), claim=former.claim)

    run.refresh_from_db()
    assert (run.status, run.claim, run.error) == ("running", current.claim, "")
    assert services.match_run_heartbeat(run_id=run.pk, claim=current.claim)


def test_the_sweep_revives_by_heartbeat_not_by_start_time() -> None:
    run = MatchRun.objects.create(kind=MatchRun.Kind.NIGHTLY)
    services.match_run_claim(run_id=run.pk)
    MatchRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(hours=2))
    # hours running but still beating: alive
    assert MatchRun.objects.filter(pk=run.pk, status="running").exists()
    from unittest import mock

    with mock.patch.object(services, "_send") as send:
        assert services.match_runs_sweep() == 0
        stale(run)
        assert services.match_runs_sweep() == 1
    send.assert_called_once_with(run.pk)
    run.refresh_from_db()
    assert (run.status, run.claim) == ("queued", None)


def test_keepalive_beats_until_told_the_job_is_no_longer_ours() -> None:
    beats: list[float] = []

    def beat() -> bool:
        beats.append(time.monotonic())
        return len(beats) < 3

    with Keepalive(beat, every=0.02):
        time.sleep(0.3)
    assert len(beats) == 3  # stopped by its third answer, not by the end of the job


@pytest.mark.django_db(transaction=True)
def test_two_workers_deciding_the_same_policy_at_once_duplicate_nothing(settings) -> None:
    from tests.support.services import need_postgres

    need_postgres()  # each thread needs its own connection to the same committed data
    settings.MATCH_CHUNK_SIZE = 25
    synthetic_district.build_district(400, seed=5)
    services.match_profiles_refresh()
    rule = {"fact": "tax_credit_rating", "op": "in", "value": ["A", "B"]}
    version = PolicyVersionFactory(published=True, mode="exempt", rule=rule)
    compiled = compile_rule(rule)
    expected = {
        pk
        for pk, profile in enterprise_profiles_by_id()
        if (o := compiled.evaluate(profile, on=today())).status == "eligible" and o.verified
    }
    assert len(expected) > 50
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            services.policy_version_match(version_id=version.pk)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    entitlements = list(Entitlement.objects.filter(policy_version=version).values_list("enterprise_id", flat=True))
    assert len(entitlements) == len(expected) and set(entitlements) == expected
    granted = Notification.objects.filter(kind=Notification.Kind.EXEMPT_GRANTED)
    assert granted.count() == len(expected)
    assert granted.values("enterprise_id").distinct().count() == len(expected)


def test_the_settings_bound_recovery_to_about_two_minutes() -> None:
    from django.conf import settings

    from portal.celery import app

    stale, interval = settings.JOB_STALE_AFTER_SECONDS, settings.JOB_SWEEP_INTERVAL_SECONDS
    assert stale <= 60 and stale + interval <= 120
    for name in ("notifications.sweep_outbox", "matching.sweep_runs", "policies.sweep_previews"):
        assert settings.CELERY_BEAT_SCHEDULE[name]["schedule"] == interval
    assert settings.CELERY_BEAT_SCHEDULE["enterprises.sweep_feed_uploads"]["schedule"] == interval
    # A live worker's message is never redelivered early: the broker waits longer than any task may run.
    assert app.conf.broker_transport_options["visibility_timeout"] > settings.CELERY_TASK_TIME_LIMIT
    # An outbox claim is renewed a third of the staleness after the last renewal, between two sends.
    assert stale >= settings.NOTIFICATIONS_SENDING_TIMEOUT
    slowest_send = max(settings.EMAIL_TIMEOUT, settings.NOTIFICATIONS_WEBHOOK_TIMEOUT)
    assert settings.NOTIFICATIONS_SENDING_TIMEOUT / 3 + slowest_send < settings.NOTIFICATIONS_SENDING_TIMEOUT


@pytest.mark.django_db(transaction=True)
def test_the_keepalive_moves_the_heartbeat_of_a_run_while_its_holder_is_busy_and_stops_once_it_lost_it() -> None:
    from tests.support.services import need_postgres, wait_for

    need_postgres()  # the keep-alive beats from its own thread, on its own connection
    run = services.match_run_claim(run_id=MatchRun.objects.create(kind=MatchRun.Kind.NIGHTLY).pk)
    stale(run)
    beats: list[bool] = []

    def beat() -> bool:
        beats.append(services.match_run_heartbeat(run_id=run.pk, claim=run.claim))
        return beats[-1]

    with Keepalive(beat, every=0.05):
        # a long step: no progress written, yet the sweep sees a live worker
        wait_for(lambda: MatchRun.objects.get(pk=run.pk).heartbeat_at > timezone.now() - timedelta(seconds=5))
        assert services.match_runs_sweep() == 0
        MatchRun.objects.filter(pk=run.pk).update(claim=uuid.uuid4())  # taken over by another worker
        wait_for(lambda: beats and not beats[-1])
    assert beats.count(False) == 1  # it stopped beating at the first refusal
