"""Writes for notifications: create exactly once (in the caller's transaction), read state, preferences, retries.

Creation is meant to be called from inside the transaction that decides *why* to notify (a match
decision): the notification and its outbox rows commit or roll back with that decision, and delivery
is handed to the broker only after the commit. Creating the same (enterprise, dedupe_key) again is a
no-op, however often matching runs or a task is redelivered.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from portal.accounts.roles import Role, has_any_role
from portal.api.exceptions import ApplicationError
from portal.celery import app
from portal.db import bound_cursor

from . import tasks
from .delivery import chunked
from .models import ChannelPreference, Delivery, Notification, NotificationRead, WebhookEndpoint
from .sms import PHONE_RE
from .webhooks import internal_address_of, url_is_allowed

if TYPE_CHECKING:
    from portal.accounts.models import User


logger = logging.getLogger(__name__)

Status = Delivery.Status
Channel = Delivery.Channel

# Notifications per chunk in the bulk path: one statement per chunk on PostgreSQL, four elsewhere.
CREATE_CHUNK = 5000
_INSERT_FIELDS = ("enterprise", "kind", "dedupe_key", "title", "body", "link", "payload", "created_at")


@dataclass(frozen=True, slots=True)
class NotificationSpec:
    """One notification to create (the input of notifications_create_bulk)."""

    enterprise_id: int
    kind: str
    dedupe_key: str
    title: str
    body: str = ""
    link: str = ""
    payload: dict[str, Any] | None = field(default=None)


_KINDS = frozenset(Notification.Kind.values)


def _check(spec: NotificationSpec) -> NotificationSpec:
    """Caller mistakes are programming errors, reported before anything is written."""
    if spec.kind not in _KINDS:
        raise ValueError(f"unknown notification kind {spec.kind!r}: add it to Notification.Kind")
    if not spec.dedupe_key or len(spec.dedupe_key) > 200:
        raise ValueError("dedupe_key must be 1–200 characters")
    if not spec.title or len(spec.title) > 200:
        raise ValueError("title must be 1–200 characters")
    if len(spec.link) > 500:
        raise ValueError("link must be at most 500 characters")
    return spec


def _build(spec: NotificationSpec, now: Any, pk: int | None = None) -> Notification:
    notification = Notification(
        pk=pk,
        enterprise_id=spec.enterprise_id,
        kind=spec.kind,
        dedupe_key=spec.dedupe_key,
        title=spec.title,
        body=spec.body,
        link=spec.link,
        payload=spec.payload or {},
        created_at=now,
    )
    if pk is not None:
        notification._state.adding = False
        notification._state.db = connection.alias
    return notification


def _insert_new(objs: list[Notification]) -> list[Notification]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: the rows that were new, with their ids set.

    (bulk_create(ignore_conflicts=True) cannot tell which rows were inserted; we need exactly those,
    so that a repeat creates no outbox rows either.) The portable path, used on SQLite (≥ 3.35).
    """
    meta = Notification._meta
    concrete = {f.name: f for f in meta.concrete_fields}
    fields = [concrete[name] for name in _INSERT_FIELDS]
    columns = [f.column for f in fields if f.column is not None]  # every concrete field has one
    qn = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    by_key = {(obj.enterprise_id, obj.dedupe_key): obj for obj in objs}
    created: list[Notification] = []
    batch = max(1, min(len(objs), connection.ops.bulk_batch_size(fields, objs)))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch):
            part = objs[start : start + batch]
            # Identifiers come from model metadata; every value is a parameter.
            sql = (
                f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(c) for c in columns)}) "  # noqa: S608
                f"VALUES {', '.join([row] * len(part))} "
                f"ON CONFLICT ({qn('enterprise_id')}, {qn('dedupe_key')}) DO NOTHING "
                f"RETURNING {qn('id')}, {qn('enterprise_id')}, {qn('dedupe_key')}"
            )
            params = [f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in part for f in fields]
            cursor.execute(sql, params)
            for pk, enterprise_id, dedupe_key in cursor.fetchall():
                obj = by_key[(enterprise_id, dedupe_key)]
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = connection.alias
                created.append(obj)
    return created


def _outbox_rows(created: list[Notification], now: Any, skip_user_id: int | None = None) -> list[Delivery]:
    """One Delivery per (notification, user, channel the user chose) and per active webhook endpoint.

    `skip_user_id`: the user whose own action the notification reports gets no e-mail or SMS about it.
    """
    enterprise_ids = {n.enterprise_id for n in created}
    recipients: dict[int, list[tuple[int, str, bool, bool, str]]] = {}
    users = (
        get_user_model()
        .objects.filter(enterprise_id__in=enterprise_ids, is_active=True)
        .exclude(pk__in=[skip_user_id] if skip_user_id else [])
        .order_by("pk")
        .values_list(
            "pk",
            "enterprise_id",
            "email",
            "notification_preference__email_enabled",
            "notification_preference__sms_enabled",
            "notification_preference__phone",
        )
    )
    for pk, enterprise_id, email, email_on, sms_on, phone in users:
        # No preference row: the defaults (e-mail on, SMS off).
        recipients.setdefault(enterprise_id, []).append((pk, email, email_on is not False, bool(sms_on), phone or ""))
    endpoints: dict[int, list[tuple[int, str]]] = {}
    active = WebhookEndpoint.objects.filter(enterprise_id__in=enterprise_ids, active=True).order_by("pk")
    for pk, enterprise_id, url in active.values_list("pk", "enterprise_id", "url"):
        endpoints.setdefault(enterprise_id, []).append((pk, url))

    rows: list[Delivery] = []
    common = {
        "status": Status.PENDING,
        "next_attempt_at": now,
        "enqueued_at": now,
        "created_at": now,
        "updated_at": now,
    }
    for notification in created:
        for user_id, email, email_on, sms_on, phone in recipients.get(notification.enterprise_id, ()):
            if email_on and email:
                rows.append(
                    Delivery(notification=notification, user_id=user_id, channel=Channel.EMAIL, address=email, **common)
                )
            if sms_on and phone:
                rows.append(
                    Delivery(notification=notification, user_id=user_id, channel=Channel.SMS, address=phone, **common)
                )
        for endpoint_id, url in endpoints.get(notification.enterprise_id, ()):
            rows.append(
                Delivery(
                    notification=notification, endpoint_id=endpoint_id, channel=Channel.WEBHOOK, address=url, **common
                )
            )
    return rows


def _create(
    specs: list[NotificationSpec], skip_user_id: int | None = None
) -> tuple[list[tuple[int, NotificationSpec]], Any]:
    """Insert what is new; returns ((id, spec) per new notification, the creation time)."""
    now = timezone.now()
    unique: dict[tuple[int, str], NotificationSpec] = {}
    for spec in specs:
        unique.setdefault((spec.enterprise_id, spec.dedupe_key), _check(spec))
    todo = list(unique.values())
    created: list[tuple[int, NotificationSpec]] = []
    delivery_ids: list[int] = []
    for start in range(0, len(todo), CREATE_CHUNK):
        chunk = todo[start : start + CREATE_CHUNK]
        if connection.vendor == "postgresql":
            new, ids = _create_chunk_postgresql(chunk, now, skip_user_id)
        else:
            objs = _insert_new([_build(spec, now) for spec in chunk])
            rows = _outbox_rows(objs, now, skip_user_id) if objs else []
            ids = [row.pk for row in Delivery.objects.bulk_create(rows)] if rows else []
            new = [(obj.pk, unique[(obj.enterprise_id, obj.dedupe_key)]) for obj in objs]
        created.extend(new)
        delivery_ids.extend(ids)
    if delivery_ids:
        transaction.on_commit(partial(deliveries_enqueue, delivery_ids))
    return created, now


def _create_chunk_postgresql(
    specs: list[NotificationSpec], now: Any, skip_user_id: int | None = None
) -> tuple[list[tuple[int, NotificationSpec]], list[int]]:
    """The same as _insert_new + _outbox_rows, as one set-based statement (the fan-out path on PostgreSQL).

    The notifications go in as arrays (bound server-side, no per-value SQL text); the outbox rows are
    chosen in SQL by the same rules as _outbox_rows, which SQLite uses: e-mail unless switched off and
    the address is not empty, SMS when switched on with a phone number, every active webhook endpoint.
    """
    qn = connection.ops.quote_name
    tables = {
        "notification": qn(Notification._meta.db_table),
        "delivery": qn(Delivery._meta.db_table),
        "user": qn(get_user_model()._meta.db_table),
        "preference": qn(ChannelPreference._meta.db_table),
        "endpoint": qn(WebhookEndpoint._meta.db_table),
    }
    sql = """
        WITH content AS (
            SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[])
                WITH ORDINALITY AS c(kind, dedupe_key, title, body, link, payload, n)
        ), input AS (
            SELECT i.enterprise_id, c.kind, c.dedupe_key, c.title, c.body, c.link, c.payload, i.k
            FROM unnest(%s::bigint[], %s::bigint[]) WITH ORDINALITY AS i(enterprise_id, content, k)
            JOIN content c ON c.n = i.content
        ), new AS (
            INSERT INTO {notification} (enterprise_id, kind, dedupe_key, title, body, link, payload, created_at)
            SELECT enterprise_id, kind, dedupe_key, title, body, link, payload::jsonb, %s FROM input ORDER BY k
            ON CONFLICT (enterprise_id, dedupe_key) DO NOTHING
            RETURNING id, enterprise_id, dedupe_key
        ), recipients AS (
            SELECT n.id AS notification_id, u.id AS user_id, NULL::bigint AS endpoint_id,
                   %s::text AS channel, u.email::text AS address
            FROM new n JOIN {user} u ON u.enterprise_id = n.enterprise_id
            LEFT JOIN {preference} p ON p.user_id = u.id
            WHERE u.is_active AND u.email <> '' AND COALESCE(p.email_enabled, TRUE) AND u.id IS DISTINCT FROM %s::bigint
            UNION ALL
            SELECT n.id, u.id, NULL, %s, p.phone
            FROM new n JOIN {user} u ON u.enterprise_id = n.enterprise_id JOIN {preference} p ON p.user_id = u.id
            WHERE u.is_active AND p.sms_enabled AND p.phone <> '' AND u.id IS DISTINCT FROM %s::bigint
            UNION ALL
            SELECT n.id, NULL, w.id, %s, w.url
            FROM new n JOIN {endpoint} w ON w.enterprise_id = n.enterprise_id
            WHERE w.active
        ), outbox AS (
            INSERT INTO {delivery} (notification_id, user_id, endpoint_id, channel, address, status, attempts,
                                    last_error, next_attempt_at, enqueued_at, provider_message_id, created_at,
                                    updated_at)
            SELECT notification_id, user_id, endpoint_id, channel, address, %s, 0, '', %s, %s, '', %s, %s
            FROM recipients ORDER BY notification_id, user_id, endpoint_id
            RETURNING id
        )
        SELECT id, enterprise_id, dedupe_key FROM new
        UNION ALL
        SELECT id, NULL, NULL FROM outbox
    """.format(**tables)  # noqa: S608 — table names from model metadata; every value is a parameter
    # A fan-out repeats one text to many enterprises: each distinct content travels once, and every
    # row refers to its content by number (1-based, as WITH ORDINALITY counts).
    encoder = Notification._meta.get_field("payload").encoder
    contents: dict[tuple[str, ...], int] = {}
    enterprise_ids: list[int] = []
    content_numbers: list[int] = []
    for spec in specs:
        payload = json.dumps(spec.payload or {}, cls=encoder)
        content = (spec.kind, spec.dedupe_key, spec.title, spec.body, spec.link, payload)
        content_numbers.append(contents.setdefault(content, len(contents) + 1))
        enterprise_ids.append(spec.enterprise_id)
    columns = [list(column) for column in zip(*contents, strict=True)] or [[] for _ in range(6)]
    params: list[Any] = [
        *columns,
        enterprise_ids,
        content_numbers,
        now,
        Channel.EMAIL,
        skip_user_id,
        Channel.SMS,
        skip_user_id,
        Channel.WEBHOOK,
        Status.PENDING,
        now,
        now,
        now,
        now,
    ]
    # Server-side binding, in the caller's transaction: the arrays travel as parameters, not SQL text.
    with bound_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    by_key = {(spec.enterprise_id, spec.dedupe_key): spec for spec in specs}
    created: list[tuple[int, NotificationSpec]] = []
    delivery_ids: list[int] = []
    for pk, enterprise_id, dedupe_key in rows:
        if enterprise_id is None:
            delivery_ids.append(pk)
        else:
            created.append((pk, by_key[(enterprise_id, dedupe_key)]))
    return created, delivery_ids


# Joins the caller's transaction without a savepoint: if anything here fails, the caller's decision
# must not commit either.
@transaction.atomic(savepoint=False)
def notification_create(
    *,
    enterprise_id: int,
    kind: str,
    dedupe_key: str,
    title: str,
    body: str = "",
    link: str = "",
    payload: dict[str, Any] | None = None,
    actor: User | None = None,
) -> Notification | None:
    """Create the notification and its outbox rows; None if (enterprise_id, dedupe_key) already exists.

    `actor`: the user whose own action this reports (a confirmation, a submission, a withdrawal). The
    notice stays one per enterprise, so colleagues see it unread, but for the actor it is created read
    and sends no e-mail or SMS: the page that took the action has already told them. (The inbox stays
    the enterprise's shared history; only the read state is per user.) Staff actors belong to no
    enterprise and change nothing here.

    Delivery is enqueued when the surrounding transaction commits (nothing if it rolls back).
    """
    spec = NotificationSpec(enterprise_id, kind, dedupe_key, title, body, link, payload)
    actor_id = actor.pk if actor is not None and getattr(actor, "enterprise_id", None) == enterprise_id else None
    created, now = _create([spec], skip_user_id=actor_id)
    if not created:
        return None
    notification = _build(spec, now, pk=created[0][0])
    if actor_id is not None:
        NotificationRead.objects.create(notification=notification, user_id=actor_id, read_at=now)
    return notification


@transaction.atomic(savepoint=False)
def notifications_create_bulk(*, items: list[NotificationSpec]) -> int:
    """The same for a fan-out, in chunks of CREATE_CHUNK: one statement per chunk on PostgreSQL, four
    elsewhere. Returns how many notifications were new."""
    created, _ = _create(items)
    return len(created)


def deliveries_enqueue(delivery_ids: list[int]) -> int:
    """Hand delivery ids to the broker in tasks of NOTIFICATIONS_BATCH_SIZE; returns how many were handed over.

    Runs after commit, in the caller's request: a broker outage must not fail or hang it. On the first
    error we stop, log, and clear `enqueued_at` on the rest so the next sweep hands them over.
    """
    ids = list(delivery_ids)
    handed = 0
    for batch in chunked(ids, settings.NOTIFICATIONS_BATCH_SIZE):
        try:
            # retry=False: one quick attempt (the broker transport options bound the connect); the sweep retries.
            tasks.deliver_batch.apply_async(args=[batch], retry=False)
        except Exception:
            logger.warning(
                "Could not hand %s deliveries to the broker; the outbox sweep will", len(ids) - handed, exc_info=True
            )
            try:
                for rest in chunked(ids[handed:], 5000):
                    Delivery.objects.filter(pk__in=rest, status__in=(Status.PENDING, Status.FAILED)).update(
                        enqueued_at=None
                    )
            except DatabaseError:
                logger.exception("Could not clear enqueued_at; the sweep will pick the rows up later")
            return handed
        handed += len(batch)
    return handed


# How many waiting messages the sweep reads to tell whether a delivery batch is among them; a longer queue
# is a backlog, and the rows wait their turn in it.
_QUEUE_PEEK = 100


def _delivery_batch_may_wait() -> bool:
    """Whether a delivery batch may wait in the broker's default queue (True when unknown: tasks inline,
    broker down or not Redis, a backlog longer than _QUEUE_PEEK).

    Only a delivery batch stands for outbox rows. The periodic tasks beat sends in the same tick as this
    sweep wait in the queue while it runs, so "the queue is empty" was rarely true when asked from inside
    the sweep: after a broker restarted without its data, lost rows waited NOTIFICATIONS_REQUEUE_AFTER
    instead of JOB_STALE_AFTER_SECONDS (tests/entitlements/test_fanout_recovery.py failed on it)."""
    if app.conf.task_always_eager:
        return True
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1)
            channel: Any = conn.default_channel  # kombu's Redis transport: the queue is a list
            waiting = channel.client.lrange(app.conf.task_default_queue, 0, _QUEUE_PEEK)
    except Exception:
        logger.warning("Outbox sweep: could not read the broker's queue", exc_info=True)
        return True
    return len(waiting) > _QUEUE_PEEK or any(_is_delivery_batch(message) for message in waiting)


def _is_delivery_batch(message: bytes | str) -> bool:
    """Whether a raw message of kombu's Redis transport is a delivery batch (True when it cannot be read)."""
    try:
        return json.loads(message)["headers"]["task"] == tasks.deliver_batch.name
    except (ValueError, KeyError, TypeError):
        return True


def outbox_sweep(*, now: Any = None) -> dict[str, int]:
    """Put rows lost with their worker back, and hand due rows nobody holds to the broker.

    - "sending" for longer than NOTIFICATIONS_SENDING_TIMEOUT: the worker died; back to pending
      (dead if it has used all its attempts, so a message that kills workers cannot loop forever);
    - pending or failed, due, and not handed over in the last NOTIFICATIONS_REQUEUE_AFTER seconds
      (or never, after a broker error): enqueued again, at most NOTIFICATIONS_SWEEP_LIMIT per run.
      When no delivery batch waits in the broker's queue, after JOB_STALE_AFTER_SECONDS already: their
      message is gone (a worker killed between commit and hand-over, a broker restarted without its data).
      While delivery batches wait, rows wait their turn rather than being queued twice.
    Enqueueing a row twice is harmless: only one claim can move it to "sending".
    """
    now = now or timezone.now()
    requeue_before = now - timedelta(seconds=settings.NOTIFICATIONS_REQUEUE_AFTER)
    if settings.JOB_STALE_AFTER_SECONDS < settings.NOTIFICATIONS_REQUEUE_AFTER and not _delivery_batch_may_wait():
        requeue_before = now - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    stuck = Delivery.objects.filter(
        status=Status.SENDING, claimed_at__lt=now - timedelta(seconds=settings.NOTIFICATIONS_SENDING_TIMEOUT)
    )
    dead = stuck.filter(attempts__gte=settings.NOTIFICATIONS_MAX_ATTEMPTS).update(
        status=Status.DEAD, last_error="多次发送中断（工作进程丢失），已停止重试", enqueued_at=None, updated_at=now
    )
    reset = stuck.update(
        status=Status.PENDING,
        next_attempt_at=now,
        enqueued_at=None,
        claimed_at=None,
        last_error="发送中断（工作进程丢失），已重新排队",
        updated_at=now,
    )
    due = list(
        Delivery.objects.filter(status__in=(Status.PENDING, Status.FAILED), next_attempt_at__lte=now)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=requeue_before))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[: settings.NOTIFICATIONS_SWEEP_LIMIT]
    )
    for batch in chunked(due, 5000):
        Delivery.objects.filter(pk__in=batch).update(enqueued_at=now)
    enqueued = deliveries_enqueue(due) if due else 0
    if reset or dead or due:
        logger.info("Outbox sweep: %s reset, %s dead, %s due, %s enqueued", reset, dead, len(due), enqueued)
    return {"reset": reset, "dead": dead, "due": len(due), "enqueued": enqueued}


@transaction.atomic
def notification_mark_read(*, notification: Notification, user: User) -> NotificationRead:
    """Mark read for this user only; marking twice keeps the first time."""
    if user.enterprise_id is None or user.enterprise_id != notification.enterprise_id:
        raise ApplicationError("未找到该通知", code="not_found", http_status=404)
    read, _ = NotificationRead.objects.get_or_create(notification=notification, user=user)
    return read


@transaction.atomic
def notifications_mark_all_read(*, user: User) -> int:
    """Mark every notification of the user's enterprise read for this user; returns how many were unread."""
    if user.enterprise_id is None:
        return 0
    unread = (
        Notification.objects.filter(enterprise_id=user.enterprise_id)
        .exclude(reads__user=user)
        .values_list("pk", flat=True)
    )
    now = timezone.now()
    rows = [NotificationRead(notification_id=pk, user=user, read_at=now) for pk in unread]
    NotificationRead.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(rows)


@transaction.atomic
def channel_preference_update(
    *,
    user: User,
    email_enabled: bool | None = None,
    sms_enabled: bool | None = None,
    phone: str | None = None,
) -> ChannelPreference:
    """Change how `user` is told (applies to notifications created from now on)."""
    preference, _ = ChannelPreference.objects.select_for_update().get_or_create(user=user)
    if phone is not None:
        phone = phone.strip().replace(" ", "").replace("-", "")
        if phone and not PHONE_RE.match(phone):
            raise ApplicationError("手机号码格式不正确（应为11位大陆手机号）", code="invalid_phone", field="phone")
        preference.phone = phone
    if email_enabled is not None:
        preference.email_enabled = email_enabled
    if sms_enabled is not None:
        preference.sms_enabled = sms_enabled
    if preference.sms_enabled and not preference.phone:
        raise ApplicationError("开启短信通知需要填写手机号码", code="phone_required", field="phone")
    preference.save()
    return preference


RETRY_ROLES = (Role.DATA_OFFICER, Role.POLICY_EDITOR, Role.REVIEWER)


@transaction.atomic
def delivery_retry(*, delivery: Delivery, by: User) -> Delivery:
    """Staff send a dead (or failed) delivery again, with a fresh attempt budget."""
    if not has_any_role(by, *RETRY_ROLES):
        raise ApplicationError("没有权限重试推送", code="permission_denied", http_status=403)
    now = timezone.now()
    changed = Delivery.objects.filter(pk=delivery.pk, status__in=(Status.DEAD, Status.FAILED)).update(
        status=Status.PENDING,
        attempts=0,
        next_attempt_at=now,
        enqueued_at=now,
        claimed_at=None,
        retried_by=by,
        retried_at=now,
        updated_at=now,
    )
    if changed != 1:
        raise ApplicationError("只有发送失败的推送可以重试", code="delivery_not_retryable", http_status=409)
    transaction.on_commit(partial(deliveries_enqueue, [delivery.pk]))
    delivery.refresh_from_db()
    return delivery


def webhook_url_validate(url: str) -> str:
    """The cleaned URL, or ApplicationError: the one check used by the API, the pages and the admin."""
    url = (url or "").strip()
    if len(url) > 500 or not url.isprintable():
        raise ApplicationError("接收地址格式不正确", code="invalid_url", field="url")
    if not url_is_allowed(url):
        raise ApplicationError("接收地址须为 http 或 https 网址", code="invalid_url", field="url")
    if not settings.NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE and internal_address_of(url) is not None:
        raise ApplicationError("接收地址不能是本机或内网地址", code="internal_address", field="url")
    return url


@transaction.atomic
def webhook_endpoint_create(*, enterprise_id: int, url: str, description: str = "") -> WebhookEndpoint:
    """Register a third-party URL for an enterprise's notifications; the secret is generated here."""
    url = webhook_url_validate(url)
    return WebhookEndpoint.objects.create(enterprise_id=enterprise_id, url=url, description=description)
