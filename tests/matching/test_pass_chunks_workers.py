"""The nightly one pass spread over two real worker processes (Redis broker, PostgreSQL): one killed with
SIGKILL in the middle of a chunk, the sweep sends its chunk again, the run completes with the records the
one pass writes in one process; chunk messages delivered twice, or for no chunk, change nothing."""

from __future__ import annotations

import threading

import pytest
from django.db import connections, transaction

from matching.models import MatchRecord, MatchRun, MatchRunChunk
from matching.selectors import today
from matching.services import match_everything, match_run_request, match_runs_sweep
from matching.tasks import match_run_chunk_task
from policies.models import PolicyVersion
from tests.matching.pass_support import flipped, records, settled_district, upset
from tests.support.services import need_postgres, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

STALE_AFTER = 3  # seconds without a heartbeat before the sweep takes a chunk back (60 in production)
WORKER_ENV = {"MATCH_PASS_CHUNK_SIZE": "100", "JOB_STALE_AFTER_SECONDS": str(STALE_AFTER)}
SKIPPED = b"matching.run_chunk already claimed or finished"


class VersionLock(threading.Thread):
    """Holds a policy version's row lock from its own connection: every chunk writing that version waits
    for it in the middle of its transaction (its chunk read and decided, nothing committed)."""

    def __init__(self, version_id: int) -> None:
        super().__init__(daemon=True)
        self.version_id = version_id
        self.held = threading.Event()
        self.release = threading.Event()

    def run(self) -> None:
        try:
            with transaction.atomic():
                PolicyVersion.objects.select_for_update().get(pk=self.version_id)
                self.held.set()
                self.release.wait(timeout=180)
        finally:
            connections.close_all()


def test_a_worker_killed_mid_chunk_loses_nothing_and_redelivered_messages_change_nothing(start_worker) -> None:
    need_postgres()
    # given: a settled district of 600 whose records were then upset (two versions of six, in every chunk),
    # and what the one pass in one process writes over it
    versions = settled_district(600)
    flip = flipped(versions[1])
    upset(versions, flip)
    single = match_everything(on=today())
    expected = records()
    assert single.changed_records > 600
    upset(versions, flip)  # the same upset again, for the workers
    assert records() != expected
    killed, survivor = start_worker(extra_env=WORKER_ENV), start_worker(extra_env=WORKER_ENV)

    # when: the run is cut into chunks; both workers are in the middle of one (waiting on a version's lock)
    lock = VersionLock(versions[0])
    lock.start()
    assert lock.held.wait(timeout=30)
    try:
        run = match_run_request(kind=MatchRun.Kind.NIGHTLY)
        chunks = MatchRunChunk.objects.filter(run=run)
        wait_for(lambda: chunks.filter(status="running").count() == 2, timeout=90)
        held = dict(chunks.filter(status="running").values_list("pk", "claim"))
        assert chunks.count() >= 6
        # messages delivered twice while the chunks are held, and one for no chunk at all
        ids = sorted(chunks.values_list("pk", flat=True))
        for chunk_id in [*ids, ids[-1] + 1000]:
            match_run_chunk_task.delay(chunk_id)
        killed.kill()  # SIGKILL: its chunk's transaction dies with it
    finally:
        lock.release.set()
        lock.join(timeout=30)

    # then: the beat's sweep (called here) takes the dead worker's chunk back once it stops beating,
    # the survivor decides it, and whoever commits the last chunk finishes the run
    def finished() -> bool:
        match_runs_sweep(running_after_seconds=STALE_AFTER)
        return MatchRun.objects.filter(pk=run.pk, status="done").exists()

    wait_for(finished, timeout=240, interval=1)
    run.refresh_from_db()
    assert records() == expected
    assert run.changed == dict(single.changes)
    assert set(chunks.values_list("status", flat=True)) == {"done"}
    assert sum(chunks.values_list("changed_records", flat=True)) == single.changed_records
    taken_back = [pk for pk, claim in held.items() if chunks.get(pk=pk).claim != claim]
    assert len(taken_back) == 1, "exactly the killed worker's chunk is claimed again"
    assert MatchRecord.objects.filter(run=run).count() == single.changed_records

    # and: every chunk's message delivered once more, and one for no chunk, after the run finished
    before_run = MatchRun.objects.filter(pk=run.pk).values().get()
    before_chunks = list(chunks.order_by("pk").values())
    skipped = survivor.log_path.read_bytes().count(SKIPPED)
    for chunk_id in [*ids, ids[-1] + 1000]:
        match_run_chunk_task.delay(chunk_id)
    wait_for(lambda: survivor.log_path.read_bytes().count(SKIPPED) >= skipped + len(ids) + 1, timeout=60)
    assert records() == expected
    assert MatchRun.objects.filter(pk=run.pk).values().get() == before_run
    assert list(chunks.order_by("pk").values()) == before_chunks
