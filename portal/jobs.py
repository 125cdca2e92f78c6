"""Background jobs: one row shape, one status set and one claim → progress → finish / fail / release cycle.

Every job a worker runs for a page or a beat (a match run, a pre-publication preview, a console feed
upload) is a row of a model built on `Job`. The page polls the row; the worker moves it:

    queued ──job_claim──▶ running ──job_finish──▶ done
       ▲                    │ └──────job_fail───▶ failed
       └────job_release─────┘ (a transient error: the retry, or the sweep, claims it again)

- `job_claim` takes a queued row, or a running one whose heartbeat went stale (its worker died), with one
  conditional UPDATE that writes a new claim token. Only one worker can win it.
- `job_progress` writes progress and the heartbeat under that token; once another worker has claimed the
  row it raises `JobLost`, so a worker that lost its job stops at its next step instead of racing on.
- `job_keepalive` moves the heartbeat from a thread between steps, so a slow step is not mistaken for a
  dead worker; a killed worker stops beating at once.
- `job_sweep` (from beat) puts stale running rows back in the queue and sends again whatever has waited
  in the queue too long (its message may be lost); sending twice is harmless since one claim wins.
- `job_task_run` is the body every job task shares: claim, keep alive, execute, and release on a
  transient database error (then retry) or fail on any other.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

from django.conf import settings
from django.db import OperationalError, connection, models
from django.db.models import Q, QuerySet
from django.utils import timezone

logger = logging.getLogger(__name__)


class JobStatus(models.TextChoices):
    """The one status set of every background job. The stored values are what APIs and tests see."""

    QUEUED = "queued", "排队中"
    RUNNING = "running", "进行中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class Job(models.Model):
    """Fields and progress shared by every background job row. Subclasses add what the work needs.

    `RUNNING_LABEL` lets a page say what "running" means for this job (试算中, 导入中) while the stored
    value stays the one status set; pages show `status_label`. `QUEUED_SINCE` names the field the sweep
    measures a queued row's wait from.
    """

    Status = JobStatus
    RUNNING_LABEL: ClassVar[str] = JobStatus.RUNNING.label
    QUEUED_SINCE: ClassVar[str] = "created_at"

    status = models.CharField("状态", max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    total = models.PositiveIntegerField("总量", default=0)
    processed = models.PositiveIntegerField("已处理", default=0)
    error = models.TextField("错误", blank=True, default="")
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    # Heartbeat: written with every progress step (and by the worker's keep-alive between steps). A job
    # "running" whose heartbeat is older than JOB_STALE_AFTER_SECONDS lost its worker: the sweep revives it.
    heartbeat_at = models.DateTimeField("最近进度时间", null=True, blank=True)
    # Who holds the job: set by each claim. Progress is written only under the holder's token, so a worker
    # that lost its job (revived and claimed by another) stops at its next step instead of racing on.
    claim = models.UUIDField("领取标记", null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def status_label(self) -> str:
        """The status in words for pages: the running state named for this kind of job."""
        return self.RUNNING_LABEL if self.status == JobStatus.RUNNING else JobStatus(self.status).label

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def progress(self) -> float:
        """Done share in [0, 1]: 1 once done, else processed / total."""
        if self.status == JobStatus.DONE:
            return 1.0
        return self.processed / self.total if self.total else 0.0

    @property
    def percent(self) -> int:
        """Done share in whole percent (integer arithmetic: 29 of 100 is 29, not 28.99…)."""
        if self.status == JobStatus.DONE:
            return 100
        return self.processed * 100 // self.total if self.total else 0


J = TypeVar("J", bound=Job)


class JobLost(Exception):
    """The job was taken over by another worker (revived after its heartbeat went stale): stop writing."""


def stale_running(*, now: datetime, seconds: float | None = None) -> Q:
    """Q for job rows running whose heartbeat (or, for rows without one, start) is older than `seconds`
    (JOB_STALE_AFTER_SECONDS by default): their worker is gone."""
    before = now - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS if seconds is None else seconds)
    return Q(status=JobStatus.RUNNING) & (
        Q(heartbeat_at__lt=before) | Q(heartbeat_at__isnull=True, started_at__lt=before)
    )


def _held(rows: QuerySet[J], job: Job) -> QuerySet[J]:
    """The job's row while this worker holds it; a job nobody claimed (a direct call from a test or a
    shell) is its row unconditionally."""
    rows = rows.filter(pk=job.pk)
    return rows if job.claim is None else rows.filter(claim=job.claim, status=JobStatus.RUNNING)


def job_claim(rows: QuerySet[J], *, pk: int, **fields: Any) -> J | None:
    """Take job `pk` (queued, or running with a stale heartbeat) under a new claim token, in one UPDATE.

    `rows` is the model's queryset (narrowed or with select_related as the caller needs); `fields` are
    written with the claim (e.g. progress reset for a job that restarts from the beginning). None when
    the job is finished or held by a live worker (a message redelivered early).
    """
    now = timezone.now()
    claimed = (
        rows.filter(pk=pk)
        .filter(Q(status=JobStatus.QUEUED) | stale_running(now=now))
        .update(status=JobStatus.RUNNING, claim=uuid.uuid4(), started_at=now, heartbeat_at=now, **fields)
    )
    return rows.get(pk=pk) if claimed == 1 else None


def job_heartbeat(rows: QuerySet[Any], *, pk: int, claim: uuid.UUID | None) -> bool:
    """Move the heartbeat of a job this worker still holds; False once it is no longer ours (or finished)."""
    return rows.filter(pk=pk, claim=claim, status=JobStatus.RUNNING).update(heartbeat_at=timezone.now()) == 1


def job_progress(job: J, **fields: Any) -> None:
    """Write `fields` (progress counts and the like) and the heartbeat under the job's claim.

    Raises JobLost when another worker holds the job; called inside a step's transaction, that rolls
    the step back. The in-memory `job` gets the written values.
    """
    if _held(type(job)._default_manager.all(), job).update(heartbeat_at=timezone.now(), **fields) != 1:
        raise JobLost(job.pk)
    for name, value in fields.items():
        if not hasattr(value, "resolve_expression"):
            setattr(job, name, value)


def job_finish(job: J, **fields: Any) -> bool:
    """Mark a held job done with its results (`fields`); False when it was no longer this worker's."""
    now = timezone.now()
    rows = _held(type(job)._default_manager.all(), job)
    return rows.update(status=JobStatus.DONE, finished_at=now, heartbeat_at=now, **fields) == 1


def job_release(job: Job) -> None:
    """Give a claimed job back (a transient error): the retry, or the sweep, claims it again."""
    type(job)._default_manager.filter(pk=job.pk, claim=job.claim, status=JobStatus.RUNNING).update(
        status=JobStatus.QUEUED, claim=None
    )


def job_fail(rows: QuerySet[Any], *, pk: int, error: BaseException | str, claim: uuid.UUID | None = None) -> None:
    """Record a job as failed, with the error in words, unless it is done; with `claim`, only while that
    claim still holds it (a worker that lost its job to another must not fail the other's work)."""
    message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    rows = rows.filter(pk=pk).exclude(status=JobStatus.DONE)
    if claim is not None:
        rows = rows.filter(claim=claim)
    rows.update(status=JobStatus.FAILED, error=message[:2000], finished_at=timezone.now())


def job_sweep(
    rows: QuerySet[Any],
    *,
    send: Callable[[int], None],
    queued_after_seconds: float | None = None,
    running_after_seconds: float | None = None,
) -> int:
    """Send again the jobs among `rows` whose task was lost; returns how many were sent.

    A job running whose heartbeat has not moved for `running_after_seconds` (JOB_STALE_AFTER_SECONDS)
    lost its worker: it goes back to the queue (its claim cleared) and is sent at once. A job queued for
    `queued_after_seconds` (JOB_STALE_AFTER_SECONDS) is sent again too: its message may be gone (broker
    down when asked, or restarted without its data); a second message is harmless, one claim wins.
    """
    now = timezone.now()
    stale_after = settings.JOB_STALE_AFTER_SECONDS if running_after_seconds is None else running_after_seconds
    queued_after = settings.JOB_STALE_AFTER_SECONDS if queued_after_seconds is None else queued_after_seconds
    stale = stale_running(now=now, seconds=stale_after)
    revived = list(rows.filter(stale).values_list("pk", flat=True))
    if revived:
        rows.filter(stale, pk__in=revived).update(status=JobStatus.QUEUED, claim=None)
        logger.warning(
            "%s %s lost their worker (no heartbeat for %ss): sent again", rows.model.__name__, revived, stale_after
        )
    since = {f"{rows.model.QUEUED_SINCE}__lt": now - timedelta(seconds=queued_after)}
    waiting = rows.filter(status=JobStatus.QUEUED, **since).values_list("pk", flat=True)
    resend = sorted({*revived, *waiting})
    for pk in resend:
        send(pk)
    return len(resend)


class Keepalive:
    """Calls `beat()` every `every` seconds from a thread while a job runs, so its heartbeat moves between steps.

    A step (one chunk of a district-wide run) may take longer than the staleness after which a sweep takes
    a job back; the keep-alive keeps a live worker's job its own, while a killed worker's stops beating at
    once. `beat()` returns False when the job is no longer ours (or finished): the thread stops. The thread
    uses its own database connection and closes it.
    """

    def __init__(self, beat: Callable[[], bool], *, every: float, name: str = "keepalive") -> None:
        self._beat = beat
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._every):
                try:
                    if not self._beat():
                        return
                except Exception:  # a database hiccup: try again at the next beat
                    logger.warning("keep-alive beat failed", exc_info=True)
                    connection.close()
        finally:
            connection.close()

    def __enter__(self) -> Keepalive:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def job_keepalive(job: Job, *, eager: bool) -> AbstractContextManager[Any]:
    """A Keepalive moving the heartbeat of a claimed `job` while this worker holds it (nothing when tasks
    run inline: no worker to lose, and no second connection to beat from)."""
    if eager:
        return nullcontext()
    rows = type(job)._default_manager.all()
    return Keepalive(
        lambda: job_heartbeat(rows, pk=job.pk, claim=job.claim),
        every=settings.JOB_STALE_AFTER_SECONDS / 3,
        name=f"{type(job)._meta.label_lower}-{job.pk}",
    )


def job_task_run(
    task: Any,
    *,
    claim: Callable[[], J | None],
    execute: Callable[[J], object],
    fail: Callable[[J, BaseException], None],
    max_countdown: float,
) -> None:
    """The body of a job's Celery task (`task` bound): claim, keep alive, execute; release and retry on a
    transient database error (deadlock, lost connection), fail on any other error.

    A redelivered message finds the job claimed or finished and does nothing; a worker whose job was
    taken over (JobLost) stops quietly, the new holder finishes it.
    """
    job = claim()
    if job is None:
        logger.info("%s already claimed or finished", task.name)
        return
    try:
        with job_keepalive(job, eager=bool(task.request.is_eager)):
            execute(job)
    except JobLost:
        logger.warning("%s %s was taken over by another worker; this one stops", type(job).__name__, job.pk)
    except OperationalError as exc:
        job_release(job)
        raise task.retry(exc=exc, countdown=min(2**task.request.retries * 5, max_countdown)) from exc
    except Exception as exc:
        fail(job, exc)
        raise
