"""The nightly one pass spread over workers (matching.passchunks), its tasks run inline: the same records,
events and counts as the one pass in one process; chunks claimed once, revived by the sweep, failed with
their run; messages delivered twice, late or for unknown chunks change nothing (real PostgreSQL)."""

from __future__ import annotations

import math
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from matching import fullpass, passchunks, services
from matching.models import MatchProfile, MatchRecord, MatchRun, MatchRunChunk
from matching.selectors import published_versions_any_period, today
from matching.tasks import match_run_chunk_task, match_run_task
from portal import events
from portal.jobs import JobLost
from tests.matching.pass_support import flipped, records, settled_district, upset
from tests.support.services import need_postgres

pytestmark = pytest.mark.django_db


class _Rollback(Exception):
    pass


@pytest.fixture
def heard(monkeypatch) -> dict[str, list[dict[str, Any]]]:
    """What CATALOGUE_DECIDED and MATCH_RECORDS_CHANGED announced (their handlers still run)."""
    heard: dict[str, list[dict[str, Any]]] = {"catalogue": [], "changes": []}
    if not events.HANDLERS:
        events.wire()
    for event, key in ((events.CATALOGUE_DECIDED, "catalogue"), (events.MATCH_RECORDS_CHANGED, "changes")):
        monkeypatch.setitem(
            events.HANDLERS, event.name, [*events.HANDLERS[event.name], lambda key=key, **p: heard[key].append(p)]
        )
    return heard


def forget(heard: dict[str, list[dict[str, Any]]]) -> None:
    heard["catalogue"].clear()
    heard["changes"].clear()


def changes_heard(heard: dict[str, list[dict[str, Any]]]) -> Counter:
    return Counter(
        (p["version_id"], c.enterprise_id, c.outcome, c.verified, c.previous_outcome, c.previous_verified)
        for p in heard["changes"]
        for c in p["changes"]
    )


def span() -> tuple[int, int]:
    ids = list(MatchProfile.objects.order_by("enterprise_id").values_list("enterprise_id", flat=True))
    return ids[0], ids[-1] + 1


def claimed_nightly_run() -> MatchRun:
    run = services.match_run_claim(run_id=MatchRun.objects.create(kind=MatchRun.Kind.NIGHTLY).pk)
    assert run is not None
    return run


def test_a_spread_run_writes_announces_and_counts_what_the_one_pass_does(celery_eager, heard) -> None:
    need_postgres()  # the one pass reads with PostgreSQL's binary COPY
    versions = settled_district(200)
    upset(versions, flipped(versions[1]))
    forget(heard)
    on = today()

    # The one pass in one process, on the upset district (rolled back afterwards).
    try:
        with transaction.atomic():
            single = services.match_everything(on=on)
            expected = records()
            expected_changes = changes_heard(heard)
            assert [p["version_ids"] for p in heard["catalogue"]] == [sorted(versions)]
            raise _Rollback
    except _Rollback:
        pass
    forget(heard)
    assert single.changed_records > 0 and records() != expected

    # The same pass cut into chunks of 30 enterprise ids, each task run inline as a worker would.
    run = claimed_nightly_run()
    assert passchunks.match_run_spread(run=run, on=on, chunk_size=30)

    run.refresh_from_db()
    lo, hi = span()
    chunks = list(run.chunks.order_by("lo"))
    assert len(chunks) == math.ceil((hi - lo) / 30) > 5
    assert [(c.lo, c.hi) for c in chunks] == [(s, min(s + 30, hi)) for s in range(lo, hi, 30)]
    assert {c.status for c in chunks} == {"done"} and all(c.version_ids == sorted(versions) for c in chunks)
    assert records() == expected
    assert changes_heard(heard) == expected_changes  # every change announced once, in its chunk
    assert [p["version_ids"] for p in heard["catalogue"]] == [sorted(versions)]  # once, after the last chunk
    assert (run.status, run.cursor, run.processed, run.total) == ("done", None, hi - lo, hi - lo)
    assert run.changed == dict(single.changes)
    assert sum(c.changed_records for c in chunks) == single.changed_records
    assert sum((Counter(c.changed) for c in chunks), Counter()) == single.changes
    # Written with the run that made them, explained like every bulk decision.
    assert MatchRecord.objects.filter(run=run).count() == single.changed_records
    assert not MatchRecord.objects.filter(outcome__in=["eligible", "needs_info"], explanation__isnull=True).exists()


def test_the_nightly_task_spreads_the_pass_and_hands_a_district_without_records_to_the_per_policy_path(
    celery_eager, heard
) -> None:
    need_postgres()
    versions = settled_district(120)
    upset(versions, flipped(versions[1]))
    run = MatchRun.objects.create(kind=MatchRun.Kind.NIGHTLY)

    match_run_task.delay(run.pk)

    run.refresh_from_db()
    assert run.status == "done" and run.chunks.count() >= 1 and run.changed
    # The spread run was tonight's full pass: the next night's run starts from it, changed-only.
    assert run.nightly["mode"] == "full" and run.nightly.get("spread") is True
    tomorrow = MatchRun.objects.create(kind=MatchRun.Kind.NIGHTLY)
    match_run_task.delay(tomorrow.pk)
    tomorrow.refresh_from_db()
    assert (tomorrow.status, tomorrow.nightly["mode"], tomorrow.chunks.count()) == ("done", "changed", 0)
    assert tomorrow.nightly["previous_run"] == run.pk
    # From no records at all every version changes in the probe: no chunks, the per-policy path decides
    # (a full pass: with no earlier nightly run, the changed-only run has nothing to start from).
    MatchRecord.objects.all().delete()
    MatchRun.objects.filter(kind=MatchRun.Kind.NIGHTLY).delete()
    fresh = MatchRun.objects.create(kind=MatchRun.Kind.NIGHTLY)
    match_run_task.delay(fresh.pk)
    fresh.refresh_from_db()
    assert (fresh.status, fresh.chunks.count()) == ("done", 0)
    assert MatchRecord.objects.filter(policy_version_id=versions[0]).count() == MatchProfile.objects.count()


def test_chunk_messages_delivered_twice_late_or_for_chunks_not_theirs_change_nothing(celery_eager, heard) -> None:
    need_postgres()
    versions = settled_district(100)
    upset(versions, flipped(versions[1]))
    run = claimed_nightly_run()
    assert passchunks.match_run_spread(run=run, on=today(), chunk_size=30)
    run.refresh_from_db()
    assert run.status == "done"
    before = records()
    chunk_rows = list(MatchRunChunk.objects.order_by("pk").values())
    heard["catalogue"].clear()

    # The same messages again (acks_late redelivery), a message for no chunk at all, and for a chunk of a
    # run that failed: nobody claims, nothing is decided, written or announced.
    for chunk in chunk_rows:
        match_run_chunk_task.delay(chunk["id"])
    match_run_chunk_task.delay(chunk_rows[-1]["id"] + 1000)
    other = claimed_nightly_run()
    MatchRun.objects.filter(pk=other.pk).update(status="failed")
    stranger = MatchRunChunk.objects.create(run=other, lo=0, hi=10**9, total=10**9, on=today(), version_ids=versions)
    match_run_chunk_task.delay(stranger.pk)
    assert passchunks.match_run_chunk_claim(chunk_id=stranger.pk) is None

    assert records() == before
    assert list(MatchRunChunk.objects.filter(run=run).order_by("pk").values()) == chunk_rows
    assert MatchRunChunk.objects.get(pk=stranger.pk).status == "queued"
    assert heard["catalogue"] == [] and MatchRun.objects.get(pk=run.pk).status == "done"

    # A chunk held by a live worker is not taken by a second message; once its heartbeat is stale it is.
    run2 = claimed_nightly_run()
    held = MatchRunChunk.objects.create(run=run2, lo=0, hi=10**9, total=10**9, on=today(), version_ids=versions)
    first = passchunks.match_run_chunk_claim(chunk_id=held.pk)
    assert first is not None and passchunks.match_run_chunk_claim(chunk_id=held.pk) is None
    MatchRunChunk.objects.filter(pk=held.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))
    second = passchunks.match_run_chunk_claim(chunk_id=held.pk)
    assert second is not None and second.claim != first.claim


def test_a_dead_workers_chunk_is_sent_again_by_the_sweep_and_its_late_commit_is_refused(
    celery_eager, heard, monkeypatch
) -> None:
    need_postgres()
    versions = settled_district(100)
    upset(versions, flipped(versions[1]))
    forget(heard)
    lo, hi = span()
    run = claimed_nightly_run()
    # A worker cut the run and took the only chunk, then stopped beating (killed).
    chunk = MatchRunChunk.objects.create(run=run, lo=lo, hi=hi, total=hi - lo, on=today(), version_ids=versions)
    dead = passchunks.match_run_chunk_claim(chunk_id=chunk.pk)
    assert dead is not None
    sent: list[int] = []
    original_send = passchunks._send_chunk
    monkeypatch.setattr(passchunks, "_send_chunk", sent.append)
    assert services.match_runs_sweep() == 0  # its heartbeat is fresh: the worker may be alive
    MatchRunChunk.objects.filter(pk=chunk.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))
    assert services.match_runs_sweep() == 1 and sent == [chunk.pk]
    assert MatchRunChunk.objects.get(pk=chunk.pk).status == "queued"

    # The sweep's message reaches a live worker: it decides the chunk and, the last one, finishes the run.
    monkeypatch.setattr(passchunks, "_send_chunk", original_send)
    match_run_chunk_task.delay(chunk.pk)
    run.refresh_from_db()
    assert run.status == "done" and run.changed
    after = records()
    assert len(heard["catalogue"]) == 1

    # The dead worker was only slow: its commit finds the chunk no longer its own and rolls back.
    with pytest.raises(JobLost):
        passchunks.match_run_chunk_execute(chunk=dead)
    assert records() == after and len(heard["catalogue"]) == 1


def test_a_run_whose_last_chunk_committed_but_never_finished_it_is_finished_by_the_sweep(celery_eager, heard) -> None:
    need_postgres()
    versions = settled_district(60)
    forget(heard)
    lo, hi = span()
    run = claimed_nightly_run()
    MatchRun.objects.filter(pk=run.pk).update(total=hi - lo)
    mid = (lo + hi) // 2
    for a, b in ((lo, mid), (mid, hi)):
        MatchRunChunk.objects.create(
            run=run, lo=a, hi=b, total=b - a, on=today(), version_ids=versions, status="done", changed={"needs_info": 1}
        )
    # killed after the commit, before the finish: nobody beats the run any more
    MatchRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))

    assert services.match_runs_sweep() == 1  # the run is sent again; its task finds every chunk done

    run.refresh_from_db()
    assert (run.status, run.changed, run.processed) == ("done", {"needs_info": 2}, hi - lo)
    assert [p["version_ids"] for p in heard["catalogue"]] == [sorted(versions)]
    assert not passchunks.match_run_spread_finish(run_id=run.pk)  # finished once
    assert len(heard["catalogue"]) == 1


def test_a_chunk_that_fails_fails_its_run_and_the_other_chunks_keep_what_they_committed(
    celery_eager, heard, monkeypatch
) -> None:
    need_postgres()
    versions = settled_district(100)
    upset(versions, flipped(versions[1]))
    original = fullpass.chunk_write
    calls: list[int] = []

    def second_chunk_breaks(plan: fullpass.PassPlan, changed: dict, *, run_id: int | None, shared: bool) -> list:
        calls.append(1)
        if len(calls) == 2:
            raise ValueError("示例故障")
        return original(plan, changed, run_id=run_id, shared=shared)

    monkeypatch.setattr(fullpass, "chunk_write", second_chunk_breaks)
    forget(heard)
    run = claimed_nightly_run()
    with pytest.raises(ValueError, match="示例故障"):
        passchunks.match_run_spread(run=run, on=today(), chunk_size=40)

    run.refresh_from_db()
    statuses = list(run.chunks.order_by("lo").values_list("status", flat=True))
    assert statuses[:2] == ["done", "failed"] and set(statuses[2:]) <= {"queued"}
    assert run.status == "failed" and "ValueError: 示例故障" in run.error and "chunk [" in run.error
    assert heard["catalogue"] == []
    # The first chunk's decisions stand; a failed run's chunks are claimed by nobody, nor swept.
    first = run.chunks.order_by("lo").first()
    assert MatchRecord.objects.filter(run=run, enterprise_id__lt=first.hi).count() == first.changed_records > 0
    assert passchunks.match_run_chunk_claim(chunk_id=run.chunks.order_by("lo").last().pk) is None
    MatchRunChunk.objects.filter(run=run).update(created_at=timezone.now() - timedelta(hours=1))
    assert passchunks.match_run_chunks_sweep() == 0


def test_the_version_set_and_the_day_are_fixed_when_the_run_is_cut(celery_eager, monkeypatch) -> None:
    need_postgres()
    versions = settled_district(60)
    run = claimed_nightly_run()
    monkeypatch.setattr(passchunks, "_send_chunk", lambda chunk_id: None)  # no worker yet
    assert passchunks.match_run_spread(run=run, on=today(), chunk_size=1000)
    (chunk,) = run.chunks.all()
    # A version published after the cut is not decided by this run's chunks (the next run's).
    from tests.policies.factories import PolicyVersionFactory

    late = PolicyVersionFactory(published=True, rule={"fact": "employees", "op": "gte", "value": 0})
    assert late.pk not in chunk.version_ids and chunk.version_ids == sorted(versions)
    monkeypatch.undo()
    match_run_chunk_task.delay(chunk.pk)
    assert not MatchRecord.objects.filter(policy_version=late).exists()
    assert MatchRun.objects.get(pk=run.pk).status == "done"
    assert {v.pk for v in published_versions_any_period()} == {*versions, late.pk}


def test_a_chunk_lost_to_another_worker_mid_commit_writes_nothing(celery_eager) -> None:
    need_postgres()
    versions = settled_district(60)
    upset(versions, flipped(versions[1]))
    lo, hi = span()
    run = claimed_nightly_run()
    chunk = MatchRunChunk.objects.create(run=run, lo=lo, hi=hi, total=hi - lo, on=today(), version_ids=versions)
    mine = passchunks.match_run_chunk_claim(chunk_id=chunk.pk)
    assert mine is not None
    before = records()
    MatchRunChunk.objects.filter(pk=chunk.pk).update(claim=uuid.uuid4())  # revived and claimed by another

    with pytest.raises(JobLost):
        passchunks.match_run_chunk_execute(chunk=mine)

    assert records() == before
    assert MatchRun.objects.get(pk=run.pk).status == "running"


@pytest.mark.django_db(transaction=True)
def test_chunks_write_a_version_side_by_side_but_wait_for_its_own_run() -> None:
    import threading

    from django.db import OperationalError, connection, connections

    need_postgres()  # the other holder needs its own connection to the same committed data
    versions = settled_district(60)
    upset(versions, flipped(versions[1]))
    lo, hi = span()
    run = claimed_nightly_run()
    chunk = MatchRunChunk.objects.create(run=run, lo=lo, hi=hi, total=hi - lo, on=today(), version_ids=versions)

    def hold(lock: str, held: threading.Event, release: threading.Event) -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SELECT 1 FROM policies_policyversion WHERE id = %s FOR {lock}", [versions[0]])
                held.set()
                release.wait(timeout=60)
        finally:
            connections.close_all()

    def execute_while_held(lock: str) -> BaseException | None:
        held, release = threading.Event(), threading.Event()
        other = threading.Thread(target=hold, args=(lock, held, release))
        other.start()
        assert held.wait(timeout=20)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '3s'")
            mine = passchunks.match_run_chunk_claim(chunk_id=chunk.pk)
            assert mine is not None
            passchunks.match_run_chunk_execute(chunk=mine)
        except OperationalError as exc:
            return exc
        finally:
            release.set()
            other.join(timeout=20)
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = 0")
        return None

    # The version's own run (FOR UPDATE) holds it: the chunk waits (here: gives up after 3 s), writes nothing.
    before = records()
    assert execute_while_held("UPDATE") is not None
    assert records() == before
    MatchRunChunk.objects.filter(pk=chunk.pk).update(status="queued", claim=None)
    # Another chunk of the run is writing the same version (FOR SHARE): this one writes alongside it.
    assert execute_while_held("SHARE") is None
    assert MatchRun.objects.get(pk=run.pk).status == "done" and records() != before
