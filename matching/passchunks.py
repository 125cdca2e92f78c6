"""The nightly one pass spread over workers: a run cut into enterprise-id ranges, each its own job.

`fullpass.full_pass` reads each chunk of the district once and decides every live version over it, in
one process. Here the same chunks are rows (`MatchRunChunk`, a `portal.jobs.Job`) that any number of
workers take, with no coordinator that must stay alive:

1. the run's task (`services.match_run_execute`) probes the first enterprises as the one pass does
   (most versions changing: the per-policy path, as before), then writes one row per range with the
   versions and the day every chunk decides, and sends one task per row; its own work ends there;
2. a worker claims a chunk with one conditional UPDATE (`job_claim`: queued, or running with a stale
   heartbeat), reads it, decides every version over it and writes the changed decisions through the
   per-version write path (`fullpass.chunk_write`: the same events, MATCH_RECORDS_CHANGED in the
   transaction) — and, in that same transaction, marks its chunk done under its claim (a worker that
   lost the chunk rolls everything back) and adds its range to the run's progress, which locks the
   run's row until the commit: the chunks of a run commit one after another, so exactly one of them
   sees no other chunk left;
3. that one finishes the run: CATALOGUE_DECIDED for the run's versions (once every chunk committed,
   as the one pass announces it), then the run done with the chunks' counts added up.

A killed worker stops beating its chunk; the beat's sweep (`services.match_runs_sweep`, portal.jobs)
puts it back in the queue and sends it again, and another worker decides it from scratch (nothing
of it committed). A worker killed between its last chunk's commit and the run's finish leaves the run
unfinished: the run stops beating, the sweep sends the run again, and its task finishes it. A
message delivered twice, or for a chunk that is done, held by a live worker or unknown, claims
nothing and does nothing. PostgreSQL is the only shared state.
"""

from __future__ import annotations

import logging
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, Min, QuerySet
from django.utils import timezone

from policies.models import PolicyVersion
from portal import events
from portal.enterprises.models import Enterprise
from portal.jobs import JobLost, JobStatus, Keepalive, job_claim, job_fail, job_finish, job_progress, job_sweep

from . import fullpass, services, tasks
from .bulk import ChangedRecord
from .models import MatchProfile, MatchRun, MatchRunChunk
from .models import change_kind as kind_of_change
from .selectors import published_versions_any_period, today

logger = logging.getLogger(__name__)

_UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING)
PROBE_SIZE = 2_000  # the one pass's probe (fullpass.full_pass's probe_size)


def spread_enabled() -> bool:
    """Whether a nightly run is cut into chunks for the workers (MATCH_PASS_SPREAD, PostgreSQL only)."""
    return bool(settings.MATCH_PASS_SPREAD) and connection.vendor == "postgresql"


def match_run_spread(*, run: MatchRun, on: date | None = None, chunk_size: int | None = None) -> bool:
    """Cut a claimed nightly run into chunks and send one task each; True when the chunks now own it.

    False (nothing written): the district is empty, or most versions change in the probe (no records yet),
    and the caller runs `services.match_everything` as before. A run that already has chunks (revived
    by the sweep, since no chunk moved its heartbeat) sends its queued chunks again and is finished here
    if they are all done.
    """
    if run.chunks.exists():
        waiting = list(run.chunks.filter(status=JobStatus.QUEUED).values_list("pk", flat=True))
        for chunk_id in waiting:
            _send_chunk(chunk_id)
        match_run_spread_finish(run_id=run.pk)
        return True
    on = on or today()
    missing = Enterprise.objects.filter(match_profile__isnull=True).values_list("pk", flat=True)
    services.match_profiles_refresh(enterprise_ids=list(missing))  # as match_everything does first
    bounds = MatchProfile.objects.aggregate(lo=Min("enterprise_id"), hi=Max("enterprise_id"))
    if bounds["lo"] is None:
        return False
    lo, hi = int(bounds["lo"]), int(bounds["hi"]) + 1
    versions = list(published_versions_any_period())
    plan = fullpass.pass_plan(on=on, versions=versions)
    # The one pass's probe: when most versions change in the first enterprises (no records yet), writing
    # each of them over every chunk is the per-policy path's work, which that path does in parallel.
    probe_hi = min(lo + PROBE_SIZE, hi)
    vocabulary = fullpass.Vocabulary.for_rules(plan.trees, lo=lo, hi=probe_hi)
    probe = fullpass.chunk_changes(plan, vocabulary, lo=lo, hi=probe_hi)
    if fullpass.mostly_changed(probe, plan, services.full_pass_fallback_share()):
        return False
    size = chunk_size or settings.MATCH_PASS_CHUNK_SIZE
    version_ids = [v.id for v in plan.live]
    with transaction.atomic():
        job_progress(run, total=hi - lo, processed=0, cursor=None, changed={})  # still ours, or JobLost
        chunks = MatchRunChunk.objects.bulk_create(
            MatchRunChunk(
                run=run,
                lo=start,
                hi=min(start + size, hi),
                total=min(start + size, hi) - start,
                on=on,
                version_ids=version_ids,
            )
            for start in range(lo, hi, size)
        )
    logger.info("match run %s: %s chunks of %s enterprise ids sent to the workers", run.pk, len(chunks), size)
    for chunk in chunks:
        _send_chunk(chunk.pk)
    return True


def _send_chunk(chunk_id: int) -> None:
    from kombu.exceptions import OperationalError as BrokerError

    try:
        tasks.match_run_chunk_task.delay(chunk_id)
    except BrokerError:
        logger.warning("broker unavailable: match run chunk %s stays queued for the sweep", chunk_id)


def _chunks_of_unfinished_runs() -> QuerySet[MatchRunChunk]:
    # `run_id IN (SELECT …)`, not a join: Django would turn a joined UPDATE into `id IN (SELECT … all the
    # conditions)`, whose status test PostgreSQL would not re-check on a row another claim just updated.
    return MatchRunChunk.objects.filter(run__in=MatchRun.objects.filter(status__in=_UNFINISHED).values("pk"))


def match_run_chunk_claim(*, chunk_id: int) -> MatchRunChunk | None:
    """Take a queued chunk (or a running one whose heartbeat is stale) of an unfinished run, in one UPDATE.

    None when it is done, held by a live worker, unknown, or its run is finished or failed (a message
    delivered twice, late, or for someone else's chunk): nothing happens.
    """
    return job_claim(_chunks_of_unfinished_runs(), pk=chunk_id)


def _run_heartbeat(run_id: int) -> bool:
    return MatchRun.objects.filter(pk=run_id, status=JobStatus.RUNNING).update(heartbeat_at=timezone.now()) == 1


def match_run_chunk_execute(*, chunk: MatchRunChunk, keep_run_alive: bool = False) -> list[ChangedRecord]:
    """Decide a claimed chunk and commit its changes with its status done; the last chunk finishes the run.

    `keep_run_alive`: also move the run's heartbeat while deciding (a worker), so the sweep does not send
    the run again while its chunks are being worked on.
    """
    versions = list(PolicyVersion.objects.filter(pk__in=chunk.version_ids))
    plan = fullpass.pass_plan(on=chunk.on, versions=versions)
    alive: AbstractContextManager[Any] = (
        Keepalive(
            lambda: _run_heartbeat(chunk.run_id),
            every=settings.JOB_STALE_AFTER_SECONDS / 3,
            name=f"matchrun-{chunk.run_id}-chunk-{chunk.pk}",
        )
        if keep_run_alive
        else nullcontext()
    )
    with alive:
        vocabulary = fullpass.Vocabulary.for_rules(plan.trees, lo=chunk.lo, hi=chunk.hi)
        changed = fullpass.chunk_changes(plan, vocabulary, lo=chunk.lo, hi=chunk.hi)
        with transaction.atomic():
            changes = fullpass.chunk_write(plan, changed, run_id=chunk.run_id, shared=True)
            counted = Counter(
                kind_of_change(c.previous_outcome, c.previous_verified, c.outcome, c.verified) for c in changes
            )
            fields = {"changed": dict(counted), "changed_records": len(changes), "processed": chunk.total}
            if not job_finish(chunk, **fields):
                raise JobLost(chunk.pk)  # another worker holds it now: roll this chunk back
            # Locks the run's row until this commits: the chunks of a run commit one after another, and the
            # last to commit is the only one to find no other chunk left.
            now = timezone.now()
            MatchRun.objects.filter(pk=chunk.run_id).update(processed=F("processed") + chunk.total, heartbeat_at=now)
            last = not MatchRunChunk.objects.filter(run_id=chunk.run_id).exclude(status=JobStatus.DONE).exists()
    logger.info("match run %s: chunk [%s, %s) done: %s", chunk.run_id, chunk.lo, chunk.hi, dict(counted))
    if last:
        match_run_spread_finish(run_id=chunk.run_id)
    return changes


def match_run_spread_finish(*, run_id: int) -> bool:
    """Finish a run whose chunks are all done: CATALOGUE_DECIDED for its versions, then the run done with
    the chunks' counts. True when this call finished it; False when a chunk is not done yet, or the run
    is finished already (the event may then have been announced twice: settling is idempotent)."""
    if not MatchRun.objects.filter(pk=run_id, status__in=_UNFINISHED).exists():
        return False
    chunks = list(MatchRunChunk.objects.filter(run_id=run_id).values_list("status", "changed", "version_ids"))
    if not chunks or any(status != JobStatus.DONE for status, _, _ in chunks):
        return False
    counted: Counter[str] = Counter()
    for _, changed, _ in chunks:
        counted.update(changed or {})
    # Every version was decided for the whole district: one reconcile query for the catalogue (NOW: after
    # every chunk committed), then the run is done; a crash between the two sends the run again.
    events.emit(events.CATALOGUE_DECIDED, version_ids=chunks[0][2])
    now = timezone.now()
    finished = MatchRun.objects.filter(pk=run_id, status__in=_UNFINISHED).update(
        status=JobStatus.DONE,
        finished_at=now,
        heartbeat_at=now,
        changed=dict(counted),
        processed=F("total"),
        cursor=None,
    )
    if finished:
        logger.info("match run %s done (%s chunks): %s", run_id, len(chunks), dict(counted))
    return finished == 1


def match_run_chunk_fail(*, chunk: MatchRunChunk, error: BaseException) -> None:
    """Record a chunk as failed (while this worker still holds it), and its run with it: the run cannot
    finish without the chunk. The other chunks' decisions stand (each committed whole)."""
    job_fail(MatchRunChunk.objects.all(), pk=chunk.pk, error=error, claim=chunk.claim)
    if MatchRunChunk.objects.filter(pk=chunk.pk, status=JobStatus.FAILED, claim=chunk.claim).exists():
        message = f"chunk [{chunk.lo}, {chunk.hi}): {type(error).__name__}: {error}"
        job_fail(MatchRun.objects.all(), pk=chunk.run_id, error=message)


def match_run_chunks_sweep(
    *, pending_after_seconds: float | None = None, running_after_seconds: float | None = None
) -> int:
    """Send again the chunks of unfinished runs whose worker died (heartbeat stale) or whose message was lost."""
    return job_sweep(
        _chunks_of_unfinished_runs(),
        send=_send_chunk,
        queued_after_seconds=pending_after_seconds,
        running_after_seconds=running_after_seconds,
    )
