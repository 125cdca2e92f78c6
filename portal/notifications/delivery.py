"""Sending outbox rows: claim with a conditional UPDATE, send outside any transaction, record the outcome.

Why a row is sent at most once, even when a task is delivered twice or two workers get the same ids:
only the statement that moves a row from pending/failed (and due) to "sending" may send it, and
the database lets exactly one such UPDATE change a given row. A redelivered task finds its rows
"sending" or "sent" and does nothing. Rows are claimed NOTIFICATIONS_CLAIM_CHUNK at a time; a worker
that is still busy with a chunk after a third of NOTIFICATIONS_SENDING_TIMEOUT renews its claim, so
the sweep only ever takes back rows whose worker is gone. claimed_at is the claim's heartbeat and its
token: a worker renews (and goes on sending) only rows still carrying the claimed_at it wrote.

The one window for a second send: a worker killed after the far side accepted a message but before
the "sent" mark reached the database. The sweep then puts the row (still "sending") back and it goes
out again. Marks are group-committed: written after a send once NOTIFICATIONS_MARK_FLUSH_SECONDS have
passed since the last write, and at least every NOTIFICATIONS_MARK_FLUSH_MAX sends, which bounds the
window to that many messages (a slow channel is marked after every send). Every send carries the
delivery id so the far side can drop such a repeat.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.utils import timezone

from portal.db import bound_cursor

from .channels import CHANNELS, Channel, Outgoing, PermanentDeliveryError, TransientDeliveryError
from .models import Delivery, Notification, WebhookEndpoint

logger = logging.getLogger(__name__)

Status = Delivery.Status
# After this many transient failures in a row on one channel (one endpoint for webhooks), a task stops
# trying that channel and hands its remaining rows back: an SMTP outage must not cost every row a timeout.
BREAKER_THRESHOLD = 3
_random = random.SystemRandom()


def retry_delay(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: exponential from the base delay, capped, with jitter."""
    ceiling = min(
        settings.NOTIFICATIONS_RETRY_MAX_DELAY,
        settings.NOTIFICATIONS_RETRY_BASE_DELAY * 2 ** min(max(attempts - 1, 0), 30),
    )
    # "Equal jitter": never sooner than half the step, so retries still back off.
    return _random.uniform(ceiling / 2, ceiling)


_T = TypeVar("_T")


def chunked(items: list[_T], size: int) -> Iterator[list[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_CLAIM_RETURNING = ("id", "notification_id", "channel", "address", "attempts", "endpoint_id")
# What a channel needs of the notification, in the order _outgoing reads it.
_NOTIFICATION_COLUMNS = ("enterprise_id", "kind", "title", "body", "link", "payload", "created_at")


def _claim_sql(count: int) -> str:
    """The claim UPDATE of `count` ids. Parameters: status, now, now, the ids (on PostgreSQL: one array, its
    lowest and highest id), the three taken statuses, now."""
    qn = connection.ops.quote_name
    table = qn(Delivery._meta.db_table)
    if connection.vendor == "postgresql":
        # The ids travel as one array bound by the server. The range (ids come sorted, and a fan-out's
        # rows are consecutive) lets the planner walk the primary key over just that stretch; on `= ANY`
        # alone it prefers to filter the whole table, as it costs 1,000 look-ups above one scan.
        among = (
            f"FROM unnest(%s::bigint[]) AS claim(id) "
            f"WHERE {table}.{qn('id')} BETWEEN %s AND %s AND {table}.{qn('id')} = claim.id"
        )
    else:
        among = f"WHERE {qn('id')} IN ({', '.join(['%s'] * count)})"
    # "Not sending, sent or dead" rather than "pending or failed": the same rows (a CHECK constraint
    # limits status), but it does not imply the predicate of the partial index delivery_due_idx, so the
    # planner cannot pick that index over the primary key. Right after a large fan-out the statistics
    # still say few rows are due; through that index every claim of a few ids would walk all of them.
    # Identifiers come from model metadata; every value is a parameter.
    return (
        f"UPDATE {table} "  # noqa: S608
        f"SET {qn('status')} = %s, {qn('attempts')} = {qn('attempts')} + 1, "
        f"{qn('claimed_at')} = %s, {qn('updated_at')} = %s "
        f"{among} AND {qn('status')} NOT IN (%s, %s, %s) AND {qn('next_attempt_at')} <= %s "
        f"RETURNING {', '.join(f'{table}.{qn(c)}' for c in _CLAIM_RETURNING)}"
    )


def _claim(ids: list[int], now: Any) -> list[tuple[Any, ...]]:
    """Move the due rows among `ids` to "sending" (attempts + 1) in one statement; return those moved.

    Returns (id, notification_id, channel, address, attempts, endpoint_id) per claimed row. `now` is
    written as claimed_at: the claim's token as well as its heartbeat (see _renew).
    """
    taken = (Status.SENDING, Status.SENT, Status.DEAD)
    if connection.vendor == "postgresql":
        with bound_cursor() as cursor:
            cursor.execute(_claim_sql(len(ids)), [Status.SENDING, now, now, list(ids), min(ids), max(ids), *taken, now])
            return sorted(cursor.fetchall())
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(len(ids)), [Status.SENDING, stamp, stamp, *ids, *taken, stamp])
        return sorted(cursor.fetchall())


def _claim_and_load(ids: list[int], now: Any) -> tuple[list[int], list[tuple[Outgoing, int]]]:
    """_claim, and what to send for the rows it claimed: (ids claimed, [(what to send, attempts so far)]).

    On PostgreSQL one statement: the claim's UPDATE, with each claimed row's notification read by primary
    key in the same round trip. The look-up is a LATERAL subquery that cannot be flattened into a join
    (LIMIT), so it stays one index probe per row even when the planner's statistics predate a large
    fan-out (a join planned on stale row counts can scan the whole table).
    """
    if connection.vendor != "postgresql":
        claimed = _claim(ids, now)
        return [row[0] for row in claimed], _load(claimed)
    qn = connection.ops.quote_name
    wanted = ", ".join(f"n.{qn(column)}" for column in ("id", *_NOTIFICATION_COLUMNS))
    sql = (
        f"WITH claimed AS ({_claim_sql(len(ids))}) "  # noqa: S608 — identifiers from model metadata
        f"SELECT claimed.*, {wanted} FROM claimed LEFT JOIN LATERAL ("
        f"SELECT * FROM {qn(Notification._meta.db_table)} AS n0 WHERE n0.{qn('id')} = claimed.{qn('notification_id')} "
        f"LIMIT 1) AS n ON TRUE ORDER BY claimed.{qn('id')}"
    )
    taken = (Status.SENDING, Status.SENT, Status.DEAD)
    with bound_cursor() as cursor:
        cursor.execute(sql, [Status.SENDING, now, now, list(ids), min(ids), max(ids), *taken, now])
        rows = cursor.fetchall()
    width = len(_CLAIM_RETURNING)
    claimed = [row[:width] for row in rows]
    # The driver hands jsonb over as text on Django's connection; decoded as the field would.
    decoder = Notification._meta.get_field("payload").decoder
    at = width + 1 + _NOTIFICATION_COLUMNS.index("payload")
    notifications = {
        row[width]: (
            *row[width:at],
            json.loads(row[at], cls=decoder) if isinstance(row[at], str) else row[at],
            *row[at + 1 :],
        )
        for row in rows
        if row[width] is not None  # None: the notification was deleted since (its rows go with it)
    }
    return [row[0] for row in claimed], _outgoing(claimed, notifications)


def _by_pk(queryset: Any, ids: list[int]) -> Any:
    """`queryset` narrowed to the sorted `ids`, planned as a primary-key look-up even on stale statistics.

    On PostgreSQL `pk IN (1,000 ids)` is costed as 1,000 index descents, so right after a fan-out the
    planner filters the whole table instead; a pk range (the ids of one chunk are close together)
    joined to the id array is walked in the index.
    """
    if connection.vendor != "postgresql" or not ids:
        return queryset.filter(pk__in=ids)
    return queryset.filter(pk__range=(ids[0], ids[-1]), pk__in=RawSQL("SELECT unnest(%s::bigint[])", (ids,)))


def _load(claimed: list[tuple[Any, ...]]) -> list[tuple[Outgoing, int]]:
    """(what to send, attempts so far) for claimed rows (where the claim did not read the notifications).

    Separate look-ups by primary key rather than one join: their plans stay right even when the
    planner's statistics predate a large fan-out (a join planned on stale row counts can scan the table).
    """
    notification_ids = sorted({row[1] for row in claimed})
    notifications = {
        row[0]: row
        for row in _by_pk(Notification.objects.order_by(), notification_ids).values_list("pk", *_NOTIFICATION_COLUMNS)
    }
    return _outgoing(claimed, notifications)


def _outgoing(claimed: list[tuple[Any, ...]], notifications: dict[int, tuple[Any, ...]]) -> list[tuple[Outgoing, int]]:
    """Build what to send from claimed rows and their notifications ((pk, *_NOTIFICATION_COLUMNS) by pk)."""
    endpoint_ids = sorted({row[5] for row in claimed if row[5] is not None})
    secrets: dict[int, str] = {}
    enterprises: dict[int, tuple[str, str]] = {}
    if endpoint_ids:  # only webhooks need the secret and the enterprise's identity
        secrets = dict(WebhookEndpoint.objects.filter(pk__in=endpoint_ids).order_by().values_list("pk", "secret"))
        enterprise_model = Notification._meta.get_field("enterprise").related_model
        enterprise_ids = sorted({notifications[row[1]][1] for row in claimed if row[1] in notifications})
        enterprises = {
            pk: (code, name)
            for pk, code, name in enterprise_model._default_manager.filter(pk__in=enterprise_ids)
            .order_by()
            .values_list("pk", "credit_code", "name")
        }
    loaded = []
    for pk, notification_id, channel, address, attempts, endpoint_id in claimed:
        if notification_id not in notifications:  # deleted since it was claimed
            continue
        _, enterprise_id, kind, title, body, link, payload, created_at = notifications[notification_id]
        credit_code, name = enterprises.get(enterprise_id, ("", ""))
        item = Outgoing(
            delivery_id=pk,
            channel=channel,
            address=address,
            notification_id=notification_id,
            kind=kind,
            title=title,
            body=body,
            link=link,
            created_at=created_at,
            enterprise_credit_code=credit_code,
            enterprise_name=name,
            payload=payload or {},
            endpoint_id=endpoint_id,
            endpoint_secret=secrets.get(endpoint_id, "") if endpoint_id else "",
        )
        loaded.append((item, attempts))
    return loaded


class _SentMarks:
    """Group-commits "sent" marks; see the module docstring for the bound this puts on the window."""

    def __init__(self) -> None:
        self.pending: dict[int, str] = {}
        self.last_flush = time.monotonic()
        self.written = 0
        # Read once: add() runs once per message.
        self.max_pending = settings.NOTIFICATIONS_MARK_FLUSH_MAX
        self.max_seconds = settings.NOTIFICATIONS_MARK_FLUSH_SECONDS

    def add(self, delivery_id: int, provider_id: str) -> None:
        self.pending[delivery_id] = provider_id
        if len(self.pending) >= self.max_pending or time.monotonic() - self.last_flush >= self.max_seconds:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.written += _mark_sent(self.pending)
            self.pending = {}
        self.last_flush = time.monotonic()


def _mark_sent(sent: dict[int, str]) -> int:
    """One UPDATE for many rows: status sent, each with its provider id (selected by primary key).

    A row a sweep already took back to "pending" was still sent, so any status but "sent" is overwritten.
    """
    qn = connection.ops.quote_name
    now = timezone.now()
    ids = list(sent)
    if connection.vendor == "postgresql":
        # One UPDATE joined to the (id, provider id) pairs passed as two arrays.
        sql = (
            f"UPDATE {qn(Delivery._meta.db_table)} AS d SET {qn('status')} = %s, {qn('sent_at')} = %s, "  # noqa: S608
            f"{qn('updated_at')} = %s, {qn('last_error')} = '', {qn('provider_message_id')} = s.provider_id "
            f"FROM unnest(%s::bigint[], %s::text[]) AS s(id, provider_id) "
            f"WHERE d.{qn('id')} = s.id AND d.{qn('status')} <> %s"
        )
        with bound_cursor() as cursor:
            cursor.execute(sql, [Status.SENT, now, now, ids, [sent[pk][:200] for pk in ids], Status.SENT])
            return cursor.rowcount
    stamp = connection.ops.adapt_datetimefield_value(now)
    cases = " ".join(["WHEN %s THEN %s"] * len(ids))
    marks = ", ".join(["%s"] * len(ids))
    sql = (
        f"UPDATE {qn(Delivery._meta.db_table)} SET {qn('status')} = %s, {qn('sent_at')} = %s, "  # noqa: S608
        f"{qn('updated_at')} = %s, {qn('last_error')} = '', "
        f"{qn('provider_message_id')} = CASE {qn('id')} {cases} ELSE {qn('provider_message_id')} END "
        f"WHERE {qn('id')} IN ({marks}) AND {qn('status')} <> %s"
    )
    params: list[Any] = [Status.SENT, stamp, stamp]
    for pk in ids:
        params += [pk, sent[pk][:200]]
    params += [*ids, Status.SENT]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _record_failure(item: Outgoing, attempts: int, error: str, *, permanent: bool) -> str:
    now = timezone.now()
    if permanent or attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        status, next_attempt_at = Status.DEAD, now
        logger.warning("Delivery %s dead after %s attempt(s): %s", item.delivery_id, attempts, error)
    else:
        status, next_attempt_at = Status.FAILED, now + timedelta(seconds=retry_delay(attempts))
    Delivery.objects.filter(pk=item.delivery_id, status=Status.SENDING).update(
        status=status, last_error=error[:2000], next_attempt_at=next_attempt_at, enqueued_at=None, updated_at=now
    )
    return str(status)


def _release(ids: Iterable[int], *, delay: float, reason: str) -> int:
    """Hand claimed-but-untried rows back without using up an attempt."""
    ids = list(ids)
    if not ids:
        return 0
    now = timezone.now()
    return Delivery.objects.filter(pk__in=ids, status=Status.SENDING).update(
        status=Status.PENDING,
        attempts=F("attempts") - 1,
        next_attempt_at=now + timedelta(seconds=delay),
        enqueued_at=None,
        claimed_at=None,
        last_error=reason,
        updated_at=now,
    )


def _renew(ids: set[int], stamp: Any) -> tuple[set[int], Any]:
    """Push claimed_at forward on the rows still held under our claim; returns those and the new stamp.

    Ours means "sending" with the claimed_at we wrote (`stamp`): a row the sweep took back and another
    worker claimed again is "sending" too, but under that worker's stamp, and must not be sent from here.
    The rows are locked while checked, so the sweep cannot take one back between the check and the renewal.
    """
    now = timezone.now()
    if not ids:
        return ids, now
    with transaction.atomic():
        still = set(
            Delivery.objects.select_for_update()
            .filter(pk__in=sorted(ids), status=Status.SENDING, claimed_at=stamp)
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=sorted(still)).update(claimed_at=now, updated_at=now)
    return still, now


def _breaker_key(item: Outgoing) -> str:
    return f"webhook:{item.endpoint_id}" if item.channel == Delivery.Channel.WEBHOOK else item.channel


def deliveries_send(*, delivery_ids: Iterable[int]) -> dict[str, int]:
    """Send the due rows among `delivery_ids`; rows not due or already taken are skipped.

    Call it outside any transaction (a Celery task): every claim and mark commits at once, and no
    transaction stays open while a channel waits on the network.
    """
    ids = sorted({int(pk) for pk in delivery_ids})
    stats: Counter[str] = Counter()
    channels: dict[str, Channel] = {}
    marks = _SentMarks()
    failures_in_a_row: Counter[str] = Counter()
    tripped: set[str] = set()
    untried: set[int] = set()  # claimed, neither sent nor failed yet: handed back if we stop early
    renew_after = settings.NOTIFICATIONS_SENDING_TIMEOUT / 3
    try:
        for chunk in chunked(ids, settings.NOTIFICATIONS_CLAIM_CHUNK):
            stamp = timezone.now()
            claimed, loaded = _claim_and_load(chunk, stamp)
            if not claimed:
                continue
            stats["claimed"] += len(claimed)
            untried = set(claimed)
            lease = time.monotonic()
            deferred: list[int] = []
            for item, attempts in loaded:
                if time.monotonic() - lease > renew_after:
                    # A slow chunk: renew the claim on what is left before the sweep takes it back.
                    untried, stamp = _renew(untried, stamp)
                    lease = time.monotonic()
                if item.delivery_id not in untried:  # the sweep took it back already: not ours now
                    continue
                key = _breaker_key(item)
                if key in tripped:
                    deferred.append(item.delivery_id)
                    continue
                channel = channels.get(item.channel)
                if channel is None:
                    channel = channels[item.channel] = CHANNELS[item.channel]()
                try:
                    provider_id = channel.send(item)
                except PermanentDeliveryError as exc:
                    stats[_record_failure(item, attempts, str(exc), permanent=True)] += 1
                except TransientDeliveryError as exc:
                    stats[_record_failure(item, attempts, str(exc), permanent=False)] += 1
                    failures_in_a_row[key] += 1
                    if failures_in_a_row[key] >= BREAKER_THRESHOLD:
                        tripped.add(key)
                except Exception as exc:
                    # Unknown: most likely nothing went out, so retry (bounded by the attempt limit).
                    logger.exception("Delivery %s: unexpected error from %s channel", item.delivery_id, item.channel)
                    stats[_record_failure(item, attempts, f"{type(exc).__name__}: {exc}", permanent=False)] += 1
                else:
                    marks.add(item.delivery_id, provider_id)
                    failures_in_a_row[key] = 0
                    stats["sent"] += 1
                untried.discard(item.delivery_id)
            marks.flush()
            if deferred:
                stats["deferred"] += _release(
                    deferred,
                    delay=settings.NOTIFICATIONS_RETRY_BASE_DELAY,
                    reason="本批次该渠道连续失败，稍后重试（未计入尝试次数）",
                )
            untried = set()
    finally:
        # Whatever stopped us (time limit, database error), keep what was sent and free what was not.
        try:
            marks.flush()
        finally:
            try:
                _release(untried, delay=0, reason="")
            finally:
                for channel in channels.values():
                    channel.close()
    return dict(stats)
