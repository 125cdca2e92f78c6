"""Department data feeds (部门信息共享): validate each record on its own, then upsert in bulk.

A rejected record changes nothing; the same batch sent twice changes nothing the second time; every
accepted change becomes an EnterpriseChange row. The batch is compared with what is held in Python
and only differences are written. On PostgreSQL the rows are read with one query, the new states go
through COPY into a temporary table and one UPDATE … FROM, and history rows (one per changed
enterprise) are COPYed.
"""

from __future__ import annotations

import contextlib
import gc
import json
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from matching.core.vocabulary import DEPARTMENT_SOURCES, SOURCES
from portal import events
from portal.accounts.models import DepartmentApiKey, User

from . import credit_code as cc
from . import sizing
from .facts import (
    DEPARTMENT_FACTS,
    DEPARTMENT_QUALIFICATIONS,
    PARSERS,
    QUALIFICATION_FIELDS,
    Decision,
    FieldError,
    decide,
    decide_department,
    has_control_characters,
    is_blank,
    parse_certificate_no,
    parse_date,
    parse_qualification_kind,
    printable_code,
)
from .models import (
    MARKET_REGULATION,
    SIZE_INPUTS,
    TRACKED_FIELDS,
    Enterprise,
    EnterpriseChange,
    FeedImport,
    Qualification,
    json_value,
)

KEPT_REJECTIONS = 200  # rejected records kept on the FeedImport row for the admin page
_GENERIC_CHUNK = 500  # SQLite's limit on query parameters

STATUS_CREATED = "created"
STATUS_UPDATED = "updated"  # at least one value changed
STATUS_CONFIRMED = "confirmed"  # same values, with a newer date or now vouched for by a department
STATUS_UNCHANGED = "unchanged"


def feed_fields(source: str) -> tuple[str, ...]:
    """Columns a record from `source` may carry (besides credit_code and as_of)."""
    fields = DEPARTMENT_FACTS.get(source, ())
    if source in DEPARTMENT_QUALIFICATIONS:
        fields = (*fields, *QUALIFICATION_FIELDS)
    return fields


@dataclass(slots=True)
class _Record:
    index: int
    credit_code: str
    as_of: str  # ISO date: compared as text, like the provenance map stores it
    facts: dict[str, Any]
    qualification: dict[str, Any] | None


@dataclass(slots=True)
class _Row:
    """One enterprise while a batch is applied: the columns this source needs, and what changes."""

    id: int | None
    credit_code: str
    values: dict[str, Any]
    provenance: dict[str, Any]  # fact → {"source", "as_of"} for the facts this source owns (or all, if new)
    size: str
    size_basis: str | None  # None: not recomputed, keep what is stored
    patch: dict[str, Any] = field(default_factory=dict)  # provenance entries to merge in
    dirty: bool = False
    size_inputs_changed: bool = False
    last_as_of: str = ""

    @property
    def saved_id(self) -> int:
        """The primary key, once the row is in the database (new rows get theirs from bulk_create)."""
        if self.id is None:
            raise RuntimeError(f"enterprise {self.credit_code} has not been saved")
        return self.id


@dataclass
class FeedResult:
    feed_import: FeedImport
    accepted: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    history_rows: int = 0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase, for the benchmark
    created: int = 0  # enterprises created by this batch
    # Records that repeat an earlier record's facts for the same enterprise: applied (the later one
    # wins, as dates being equal a later statement does), and reported so the sender can check.
    duplicates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changed(self) -> int:
        """Accepted records that changed at least one value (new enterprises included)."""
        return sum(1 for e in self.accepted if e["status"] in (STATUS_CREATED, STATUS_UPDATED))

    def as_dict(self) -> dict[str, Any]:
        fi = self.feed_import
        return {
            "import_id": fi.pk,
            "source": fi.source,
            "total": fi.total,
            "accepted_count": fi.accepted,
            "rejected_count": fi.rejected,
            "changed_count": fi.changed,
            "created_count": fi.created,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
        }


class FeedError(ValueError):
    """The batch as a whole cannot be taken (not the records in it)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- Validation -----------------------------------------------------------------------------------


@dataclass
class _Checker:
    """Validates the records of one batch (holds what is the same for all of them)."""

    source: str
    owned: frozenset[str]
    kinds: tuple[str, ...]
    today: date
    default_as_of: str
    # The same few dates recur across a batch: parse each once.
    _dates: dict[Any, str | FieldError] = field(default_factory=dict)

    def as_of(self, raw: Any) -> str | FieldError:
        try:
            return self._dates[raw]
        except (KeyError, TypeError):
            pass
        try:
            value: str | FieldError = parse_date(raw, "as_of", not_future=True, today=self.today).isoformat()
        except FieldError as exc:
            value = exc
        with contextlib.suppress(TypeError):  # unhashable input: not cached
            self._dates[raw] = value
        return value

    def __call__(self, index: int, raw: Any) -> _Record | list[dict[str, str]]:
        if not isinstance(raw, Mapping):
            return [{"field": "", "code": "invalid_record", "message": "每条记录应为一个对象"}]
        errors: list[FieldError] = []
        raw_code = raw.get("credit_code")
        code, error = cc.check(raw_code if isinstance(raw_code, str) else None)
        if error:
            errors.append(FieldError("credit_code", error, cc.MESSAGES[error]))
        as_of = self.default_as_of
        raw_as_of = raw.get("as_of")
        if not is_blank(raw_as_of):
            checked = self.as_of(raw_as_of)
            if isinstance(checked, FieldError):
                errors.append(checked)
            else:
                as_of = checked
        facts: dict[str, Any] = {}
        qual_raw: dict[str, Any] = {}
        owned, kinds = self.owned, self.kinds
        for key, value in raw.items():
            if key == "credit_code" or key == "as_of":
                continue
            if value is None or (value.__class__ is str and not value.strip()):
                continue  # not given: left as it is
            if key in owned:
                try:
                    facts[key] = PARSERS[key](value)
                except FieldError as exc:
                    errors.append(exc)
            elif kinds and key in QUALIFICATION_FIELDS:
                qual_raw[key] = value
            elif key in PARSERS or key in QUALIFICATION_FIELDS:
                errors.append(FieldError(key, "not_owned", f"该字段不由{SOURCES[self.source]}提供"))
            elif isinstance(key, str) and not has_control_characters(key) and len(key) <= 64:
                errors.append(FieldError(key, "unknown_field", "未知字段"))
            else:  # not echoed: the report must stay printable and storable
                errors.append(FieldError("", "invalid_field_name", "字段名无效"))
        qualification = _validate_qualification(qual_raw, kinds, self.source, errors) if qual_raw else None
        if not errors and not facts and qualification is None:
            errors.append(FieldError("", "empty_record", "记录中没有可更新的数据"))
        if errors:
            return [e.as_dict() for e in errors]
        return _Record(index, code, as_of, facts, qualification)


def _validate_qualification(
    raw: dict[str, Any], kinds: tuple[str, ...], source: str, errors: list[FieldError]
) -> dict[str, Any] | None:
    before = len(errors)
    out: dict[str, Any] = {}
    for key, message in (
        ("qualification_kind", "请填写资质类型"),
        ("certificate_no", "请填写证书编号"),
        ("valid_from", "请填写有效期起"),
    ):
        if key not in raw:
            errors.append(FieldError(key, "required", message))
    if "qualification_kind" in raw:
        try:
            kind = parse_qualification_kind(raw["qualification_kind"])
            if kind not in kinds:
                errors.append(FieldError("qualification_kind", "not_owned", f"该资质不由{SOURCES[source]}认定"))
            out["kind"] = kind
        except FieldError as exc:
            errors.append(exc)
    if "certificate_no" in raw:
        try:
            out["certificate_no"] = parse_certificate_no(raw["certificate_no"])
        except FieldError as exc:
            errors.append(exc)
    for key in ("valid_from", "valid_to"):
        if key in raw:
            try:
                out[key] = parse_date(raw[key], key)
            except FieldError as exc:
                errors.append(exc)
    out.setdefault("valid_to", None)
    if out.get("valid_from") and out.get("valid_to") and out["valid_to"] < out["valid_from"]:
        errors.append(FieldError("valid_to", "before_valid_from", "有效期止不能早于有效期起"))
    return out if len(errors) == before else None


# --- The database side ----------------------------------------------------------------------------

_UPDATE_TEMP = "feed_enterprise_update"
_HISTORY_COLUMNS = ("enterprise_id", "changes", "source", "as_of", "changed_by_id", "feed_import_id", "changed_at")
# Serialises feed batches: each locks its rows chunk by chunk, so two at once could deadlock.
_FEED_LOCK = 7_305_050_001


@dataclass(slots=True)
class _RowState:
    """What one write sends for an enterprise: its owned columns, derived size and provenance patch."""

    id: int
    values: dict[str, Any]
    size: str
    size_basis: str | None
    patch: dict[str, Any]


@dataclass
class _Batch:
    """What is the same for every statement of one feed batch."""

    source: str
    columns: list[str]  # columns read: owned facts and the size inputs
    owned: tuple[str, ...]  # facts this source writes (and whose provenance it reads)
    feed_import: FeedImport
    by_id: int | None
    now: datetime


class _OrmDatabase:
    """Reads and writes through the ORM, in the calling thread (SQLite, and any non-PostgreSQL database)."""

    def __init__(self, batch: _Batch) -> None:
        self.batch = batch

    def read(self, codes: Sequence[str]) -> Future[Any]:
        return _done(self._read, codes)

    def rows(self, fetched: dict[str, _Row]) -> dict[str, _Row]:
        return fetched

    def write(self, rows: list[_RowState], history: list[tuple[int, list[tuple[str, Any, Any]], str]]) -> Future[None]:
        return _done(self._write, rows, history)

    def drain(self) -> None:
        return None

    def close(self) -> None:
        return None

    busy: dict[str, float] = {}  # nothing runs in the background here

    def _read(self, codes: Sequence[str]) -> dict[str, _Row]:
        b = self.batch
        rows: dict[str, _Row] = {}
        for start in range(0, len(codes), _GENERIC_CHUNK):
            qs = (
                Enterprise.objects.select_for_update()
                .filter(credit_code__in=codes[start : start + _GENERIC_CHUNK])
                .order_by("pk")
                .values_list("id", "credit_code", "size", "provenance", *b.columns)
            )
            for values in qs:
                provenance = values[3] or {}
                rows[values[1]] = _Row(
                    id=values[0],
                    credit_code=values[1],
                    size=values[2],
                    size_basis=None,
                    provenance={k: provenance[k] for k in b.owned if k in provenance},
                    values=dict(zip(b.columns, values[4:], strict=True)),
                )
        return rows

    def _write(self, rows: list[_RowState], history: list[tuple[int, list[tuple[str, Any, Any]], str]]) -> None:
        b = self.batch
        by_id = {r.id: r for r in rows}
        objs = []
        for start in range(0, len(rows), _GENERIC_CHUNK):
            chunk = [r.id for r in rows[start : start + _GENERIC_CHUNK]]
            stored = Enterprise.objects.filter(pk__in=chunk).values_list("pk", "provenance", "size_basis")
            for pk, provenance, size_basis in stored:
                r = by_id[pk]
                basis = size_basis if r.size_basis is None else r.size_basis
                obj = Enterprise(id=pk, provenance={**(provenance or {}), **r.patch}, size=r.size, size_basis=basis)
                obj.updated_at = b.now
                for k in b.owned:
                    setattr(obj, k, r.values[k])
                objs.append(obj)
        Enterprise.objects.bulk_update(
            objs, [*b.owned, "provenance", "size", "size_basis", "updated_at"], batch_size=200
        )
        EnterpriseChange.objects.bulk_create(
            [
                EnterpriseChange(
                    enterprise_id=eid,
                    changes=[{"field": f, "old": json_value(o), "new": json_value(n)} for f, o, n in items],
                    source=b.source,
                    as_of=as_of,
                    changed_by_id=b.by_id,
                    feed_import=b.feed_import,
                    changed_at=b.now,
                )
                for eid, items, as_of in history
            ],
            batch_size=500,
        )


def _done(fn: Any, *args: Any) -> Future:
    future: Future = Future()
    try:
        future.set_result(fn(*args))
    except BaseException as exc:  # handed to the caller through the future, like a thread would
        future.set_exception(exc)
    return future


class _PgDatabase:
    """PostgreSQL: statements run in one worker thread on the request's own connection (same transaction),
    so the server reads, updates and inserts while this thread validates and compares the next chunk.

    The calling thread must not use the connection until drain() has returned.
    """

    def __init__(self, batch: _Batch) -> None:
        self.batch = batch
        connection.ensure_connection()
        self.raw = connection.connection  # the psycopg connection inside the current transaction
        self.qn = connection.ops.quote_name
        meta = Enterprise._meta
        self.types = {c: meta.get_field(c).db_type(connection) for c in (*batch.owned, "size", "size_basis")}
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feed-db")
        self.pending: list[Future] = []
        self.temp_ready = False
        self.busy: dict[str, float] = {}  # seconds the worker spent per kind of job (for the benchmark)

    def read(self, codes: Sequence[str]) -> Future[Any]:
        return self._submit(self._read, list(codes))

    def write(self, rows: list[_RowState], history: list[tuple[int, list[tuple[str, Any, Any]], str]]) -> Future[None]:
        # Rows built and their JSON encoded here, in the calling thread: the database thread's time is the
        # critical path, and psycopg's COPY row writer there only escapes and sends (Jsonb would dump there).
        update = self._update_rows(rows) if rows else None
        return self._submit(self._write, update, self._history_rows(history) if history else None)

    def drain(self) -> None:
        pending, self.pending = self.pending, []
        for future in pending:
            future.result()  # re-raises a worker's error here, inside the caller's transaction

    def close(self) -> None:
        # On an error the transaction is rolled back: let nothing run on the connection meanwhile.
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, fn: Any, *args: Any) -> Future:
        future = self.pool.submit(self._timed, fn, *args)
        self.pending.append(future)
        return future

    def _timed(self, fn: Any, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self._add(f"db{fn.__name__}", started)

    def _add(self, name: str, started: float) -> None:
        self.busy[name] = round(self.busy.get(name, 0.0) + time.perf_counter() - started, 4)

    def _read(self, codes: list[str]) -> list[tuple]:
        if not codes:
            return []
        b, qn = self.batch, self.qn
        prov_cols = "".join(
            f", e.provenance -> '{k}' ->> 'source', e.provenance -> '{k}' ->> 'as_of'"  # keys are field names
            for k in b.owned
        )
        sql = (
            f"SELECT e.id, e.credit_code, e.size{prov_cols}"  # noqa: S608 - identifiers from the model
            + "".join(f", e.{qn(c)}" for c in b.columns)
            + f" FROM {qn(Enterprise._meta.db_table)} AS e WHERE e.credit_code = ANY(%s::varchar[])"
            + " ORDER BY e.id FOR UPDATE"
        )
        # Codes were validated to [0-9A-Z]{18}: an array literal needs no escaping and is far cheaper to
        # send than thousands of separate parameters.
        with self.raw.cursor() as cursor:
            cursor.execute(sql, ["{" + ",".join(codes) + "}"])
            return cursor.fetchall()

    def rows(self, fetched: list[tuple]) -> dict[str, _Row]:
        owned, columns = self.batch.owned, self.batch.columns
        first_value = 3 + 2 * len(owned)
        rows: dict[str, _Row] = {}
        # Entries repeat (a department, a date) across rows: share one object each, they are never mutated.
        entries: dict[tuple[str, str | None], dict[str, Any]] = {}
        for values in fetched:
            provenance = {}
            for i, key in enumerate(owned):
                src = values[3 + 2 * i]
                if src is not None:
                    pair = (src, values[4 + 2 * i])
                    entry = entries.get(pair)
                    if entry is None:
                        entry = entries[pair] = {"source": pair[0], "as_of": pair[1]}
                    provenance[key] = entry
            rows[values[1]] = _Row(
                id=values[0],
                credit_code=values[1],
                size=values[2],
                size_basis=None,
                provenance=provenance,
                values=dict(zip(columns, values[first_value:], strict=True)),
            )
        return rows

    def _write(self, update: list[tuple[Any, ...]] | None, history: list[tuple[Any, ...]] | None) -> None:
        b, qn = self.batch, self.qn
        with self.raw.cursor() as cursor:
            if update is not None:
                cols = ["id", *b.owned, "size", "size_basis", "patch"]
                if not self.temp_ready:
                    # Column sets differ by source, and one transaction may apply several sources (load_demo).
                    cursor.execute(f"DROP TABLE IF EXISTS {_UPDATE_TEMP}")
                    types = {**self.types, "id": "bigint", "patch": "jsonb"}
                    cursor.execute(
                        f"CREATE TEMPORARY TABLE {_UPDATE_TEMP} ("
                        + ", ".join(f"{qn(c)} {types[c]}" for c in cols)
                        + ") ON COMMIT DROP"
                    )
                    self.temp_ready = True
                else:
                    cursor.execute(f"TRUNCATE {_UPDATE_TEMP}")
                started = time.perf_counter()
                with cursor.copy(f"COPY {_UPDATE_TEMP} ({', '.join(qn(c) for c in cols)}) FROM STDIN") as copy:
                    for row in update:
                        copy.write_row(row)
                self._add("db_write_copy_states", started)
                assignments = "".join(f"{qn(c)} = t.{qn(c)}, " for c in (*b.owned, "size"))
                cursor.execute(
                    f"UPDATE {qn(Enterprise._meta.db_table)} AS e SET {assignments}"  # noqa: S608 - model identifiers
                    "size_basis = COALESCE(t.size_basis, e.size_basis), provenance = e.provenance || t.patch, "
                    f"updated_at = %s FROM {_UPDATE_TEMP} AS t WHERE e.id = t.id",
                    [b.now],
                )
                self._add("db_write_update", started)
            if history is not None:
                started = time.perf_counter()
                table = qn(EnterpriseChange._meta.db_table)
                with cursor.copy(f"COPY {table} ({', '.join(qn(c) for c in _HISTORY_COLUMNS)}) FROM STDIN") as copy:
                    for row in history:
                        copy.write_row(row)
                self._add("db_write_history", started)

    def _update_rows(self, rows: list[_RowState]) -> list[tuple[Any, ...]]:
        """New states as COPY rows: id, owned columns, size, size_basis, provenance patch."""
        owned = self.batch.owned
        return [(r.id, *(r.values[c] for c in owned), r.size, r.size_basis, json.dumps(r.patch)) for r in rows]

    def _history_rows(self, history: list[tuple[int, list[tuple[str, Any, Any]], str]]) -> list[tuple[Any, ...]]:
        """History as COPY rows in _HISTORY_COLUMNS order, each change as EnterpriseChange.changes holds it."""
        b = self.batch
        return [
            (
                eid,
                json.dumps(
                    [{"field": f, "old": json_value(o), "new": json_value(n)} for f, o, n in items], ensure_ascii=False
                ),
                b.source,
                as_of,
                b.by_id,
                b.feed_import.pk,
                b.now,
            )
            for eid, items, as_of in history
        ]


def _empty_row(code: str) -> _Row:
    values: dict[str, Any] = dict.fromkeys(TRACKED_FIELDS)
    values.update(industry_code="", foreign_investor_country="", tax_credit_rating="")
    return _Row(id=None, credit_code=code, values=values, provenance={}, size="unclassified", size_basis="")


# --- Applying -------------------------------------------------------------------------------------

CHUNK = 5_000  # records compared and written per round trip of the pipeline


@contextlib.contextmanager
def batch_process_settings() -> Iterator[None]:
    """Interpreter settings for a large batch, for a worker task or a management command ONLY.

    Both are process-wide, so a web process must never enter this (the department API applies its
    bounded batches without it). A batch builds a few objects per record and frees none of them
    until the end: the cyclic garbage collector would rescan the growing heap again and again for
    nothing (about a third of the CPU at 100,000 records). The database thread (PostgreSQL) needs
    the GIL briefly between socket writes; with the default 5 ms switch interval it waits for the
    validating thread at every one of them.
    """
    collecting = gc.isenabled()
    interval = sys.getswitchinterval()
    gc.disable()
    sys.setswitchinterval(min(interval, 0.0005))
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        if collecting:
            gc.enable()


def feed_apply(
    *,
    source: str,
    records: Iterable[Any],
    channel: str = FeedImport.Channel.API,
    api_key: DepartmentApiKey | None = None,
    by: User | None = None,
    filename: str = "",
    default_as_of: date | None = None,
    feed_import: FeedImport | None = None,
) -> FeedResult:
    """Upsert a batch of records from one department, each validated on its own.

    `feed_import`: apply the batch as part of this existing import (a console upload processed in
    chunks); its counts are then the caller's to keep, and no new FeedImport row is written.
    """
    if source not in DEPARTMENT_SOURCES:
        raise FeedError("invalid_source", "未知的数据来源部门")
    if api_key is not None and api_key.source != source:
        raise FeedError("source_mismatch", "接口密钥不属于该部门")
    with transaction.atomic():
        return _feed_apply(
            source=source,
            records=list(records),
            channel=channel,
            api_key=api_key,
            by=by if by is not None and by.is_authenticated else None,
            filename=filename,
            default_as_of=default_as_of,
            feed_import=feed_import,
        )


def _feed_apply(
    *,
    source: str,
    records: list[Any],
    channel: str,
    api_key: DepartmentApiKey | None,
    by: User | None,
    filename: str,
    default_as_of: date | None,
    feed_import: FeedImport | None,
) -> FeedResult:
    clock = _Clock()
    now = timezone.now()
    today = timezone.localdate(now)
    owned = DEPARTMENT_FACTS[source]
    keep_counts = feed_import is None
    if feed_import is None:
        feed_import = FeedImport.objects.create(
            source=source, channel=channel, filename=filename[:255], api_key=api_key, submitted_by=by, received_at=now
        )
    result = FeedResult(feed_import=feed_import)
    batch = _Batch(
        source=source,
        columns=[f for f in TRACKED_FIELDS if f in owned or f in SIZE_INPUTS],
        owned=owned,
        feed_import=feed_import,
        by_id=by.pk if by is not None else None,
        now=now,
    )
    check = _Checker(
        source=source,
        owned=frozenset(owned),
        kinds=DEPARTMENT_QUALIFICATIONS.get(source, ()),
        today=today,
        default_as_of=(default_as_of or today).isoformat(),
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_FEED_LOCK])
        db: _OrmDatabase | _PgDatabase = _PgDatabase(batch)
    else:
        db = _OrmDatabase(batch)
    try:
        # 1. Validate; each validated chunk's rows are read (and locked) while the next chunk is validated.
        valid: list[_Record] = []
        reads: list[Future[Any]] = []
        requested: set[str] = set()
        seen: dict[tuple[str, Any], int] = {}
        for start in range(0, len(records), CHUNK):
            codes: set[str] = set()
            for index in range(start, min(start + CHUNK, len(records))):
                raw = records[index]
                checked = check(index, raw)
                if isinstance(checked, list):
                    code = printable_code(raw.get("credit_code")) if isinstance(raw, Mapping) else None
                    result.rejected.append({"index": index, "credit_code": code, "errors": checked})
                    continue
                # The same enterprise's same fact twice in one batch: reported (the later record wins).
                for fact in checked.facts:
                    earlier = seen.get((checked.credit_code, fact))
                    if earlier is not None:
                        result.duplicates.append(
                            {
                                "index": index,
                                "credit_code": checked.credit_code,
                                "field": fact,
                                "code": "duplicate_record",
                                "message": f"同一批次第{earlier + 1}条记录也提供了该项，以本条为准",
                            }
                        )
                    seen[(checked.credit_code, fact)] = index
                valid.append(checked)
                codes.add(checked.credit_code)
            codes -= requested
            requested |= codes
            reads.append(db.read(sorted(codes)))
        rows: dict[str, _Row] = {}
        for future in reads:
            rows.update(db.rows(future.result()))
        clock.lap("validate_and_read", result)

        # 2. Compare chunk by chunk; each chunk's writes run while the next chunk is compared.
        accepted: list[tuple[_Record, str, list[str], list[str]]] = []
        changed_ids: set[int] = set()
        created = 0
        for start in range(0, len(valid), CHUNK):
            created += _compare_and_write(valid[start : start + CHUNK], rows, source, db, result, accepted, changed_ids)
        db.drain()
        clock.lap("compare_and_write", result)
    finally:
        db.close()
    result.timings.update(db.busy)

    for record, status, changed, stale in accepted:
        entry: dict[str, Any] = {"index": record.index, "credit_code": record.credit_code, "status": status}
        if changed:
            entry["changed"] = changed
        if stale:
            entry["stale"] = stale
        result.accepted.append(entry)
    result.accepted.sort(key=lambda e: e["index"])
    result.rejected.sort(key=lambda e: e["index"])
    result.created = created
    if keep_counts:
        feed_import.total = len(records)
        feed_import.accepted = len(result.accepted)
        feed_import.rejected = len(result.rejected)
        feed_import.changed = result.changed
        feed_import.created = created
        feed_import.rejections = result.rejected[:KEPT_REJECTIONS]
        feed_import.save(update_fields=["total", "accepted", "rejected", "changed", "created", "rejections"])
    events.emit(events.FACTS_CHANGED, enterprise_ids=changed_ids)
    clock.lap("finish", result)
    return result


def _compare_and_write(
    records: list[_Record],
    rows: dict[str, _Row],
    source: str,
    db: _OrmDatabase | _PgDatabase,
    result: FeedResult,
    accepted: list[tuple[_Record, str, list[str], list[str]]],
    changed_ids: set[int],
) -> int:
    """Apply one chunk of valid records to the rows in memory and queue its writes; returns rows created."""
    history: list[tuple[_Row, str, Any, Any, str]] = []
    touched: dict[int, _Row] = {}
    new_rows: list[_Row] = []
    chunk_accepted: list[tuple[_Record, _Row, str, list[str], list[str]]] = []
    for record in records:
        row = rows.get(record.credit_code)
        created = False
        if row is None:
            if source != MARKET_REGULATION:
                result.rejected.append(_reject(record, "credit_code", "enterprise_not_found", "企业库中没有该企业"))
                continue
            if "name" not in record.facts:
                result.rejected.append(_reject(record, "name", "required", "新登记企业须提供企业名称"))
                continue
            row = rows[record.credit_code] = _empty_row(record.credit_code)
            new_rows.append(row)
            created = True
        changed, stale, confirmed = _apply_record(row, record, source, history)
        touched[id(row)] = row
        if created:
            status = STATUS_CREATED
        elif changed:
            status = STATUS_UPDATED
        else:
            status = STATUS_CONFIRMED if confirmed else STATUS_UNCHANGED
        chunk_accepted.append((record, row, status, changed, stale))

    # Rare paths (new enterprises, certificates) use the ORM: wait until the connection is free.
    if new_rows or any(rec.qualification is not None for rec, *_ in chunk_accepted):
        db.drain()
    for row in touched.values():
        if row.size_inputs_changed:
            v = row.values
            res = sizing.classify(
                industry_code=v["industry_code"] or None,
                employees=v["employees"],
                revenue=v["revenue"],
                total_assets=v["total_assets"],
            )
            if res.size != row.size:
                history.append((row, "size", row.size, res.size, row.last_as_of))
            row.size, row.size_basis = res.size, res.basis
            row.size_inputs_changed = False
    if new_rows:
        objs = [
            Enterprise(
                credit_code=r.credit_code,
                provenance=r.patch,
                size=r.size,
                size_basis=r.size_basis or "",
                created_at=result.feed_import.received_at,
                updated_at=result.feed_import.received_at,
                **r.values,
            )
            for r in new_rows
        ]
        Enterprise.objects.bulk_create(objs, batch_size=1000)
        for row, obj in zip(new_rows, objs, strict=True):
            row.id, row.patch, row.dirty = obj.pk, {}, False
    qual_history: list[tuple[int, str, Any, Any, str]] = []
    qual_changed: set[int] = set()
    qual_pairs = [(rec, row) for rec, row, *_ in chunk_accepted if rec.qualification is not None]
    if qual_pairs:
        qual_history, qual_changed = _apply_qualifications(qual_pairs, source)

    states: list[_RowState] = []
    for row in touched.values():
        if row.dirty:
            states.append(_RowState(row.saved_id, row.values.copy(), row.size, row.size_basis, row.patch))
            row.patch, row.dirty, row.size_basis = {}, False, None

    # One history row per changed enterprise, listing its field changes.
    events: dict[int, tuple[list[tuple[str, Any, Any]], list[str]]] = {}
    for row, fld, old, new, as_of in history:
        items, dates = events.setdefault(row.saved_id, ([], []))
        items.append((fld, old, new))
        dates.append(as_of)
    for eid, fld, old, new, as_of in qual_history:
        items, dates = events.setdefault(eid, ([], []))
        items.append((fld, old, new))
        dates.append(as_of)
    db.write(states, [(eid, items, max(dates)) for eid, (items, dates) in events.items()])
    result.history_rows += len(events)
    changed_ids.update(events)
    # Confirmed (same values, a newer date or now a department's): no outcome moves, but the dates and
    # sources that explanations show do, so these enterprises are re-matched too (explanations only).
    changed_ids.update(row.saved_id for _, row, status, _, _ in chunk_accepted if status == STATUS_CONFIRMED)

    for record, _row, status, changed, stale in chunk_accepted:
        if record.index in qual_changed:
            status = STATUS_CREATED if status == STATUS_CREATED else STATUS_UPDATED
            changed = [*changed, "qualification"]
        accepted.append((record, status, changed, stale))
    return len(new_rows)


class _Clock:
    def __init__(self) -> None:
        self.last = time.perf_counter()

    def lap(self, name: str, result: FeedResult) -> None:
        now = time.perf_counter()
        result.timings[name] = round(now - self.last, 4)
        self.last = now


def _reject(record: _Record, fld: str, code: str, message: str) -> dict[str, Any]:
    return {
        "index": record.index,
        "credit_code": record.credit_code,
        "errors": [{"field": fld, "code": code, "message": message}],
    }


_SIZE_INPUTS = frozenset(SIZE_INPUTS)


def _apply_record(
    row: _Row, record: _Record, source: str, history: list[tuple[_Row, str, Any, Any, str]]
) -> tuple[list[str], list[str], bool]:
    """Compare one record with the row held; returns (changed fields, stale fields, confirmed anything)."""
    changed: list[str] = []
    stale: list[str] = []
    confirmed = False
    as_of = record.as_of
    values = row.values
    provenance = row.provenance
    new_entry = None  # one provenance entry for every field this record sets (never mutated)
    for key, value in record.facts.items():
        old = values[key]
        entry = provenance.get(key)
        if entry is None:
            decision = Decision.APPLY
        else:
            decision = decide_department(old, entry["source"], entry["as_of"], value, source, as_of)
            if decision is Decision.SAME:
                continue  # the common case of a batch sent again
        if decision is Decision.APPLY:
            if old != value:
                changed.append(key)
                values[key] = value
                if key in _SIZE_INPUTS:
                    row.size_inputs_changed = True
            else:
                confirmed = True  # a department now vouches for a value the enterprise declared
            history.append((row, key, old, value, as_of))
        elif decision is Decision.CONFIRM:
            confirmed = True
        else:  # STALE
            stale.append(key)
            continue
        if new_entry is None:
            new_entry = {"source": source, "as_of": as_of}
        provenance[key] = row.patch[key] = new_entry
        row.dirty = True
        row.last_as_of = as_of
    return changed, stale, confirmed


def _apply_qualifications(
    pairs: list[tuple[_Record, _Row]], source: str
) -> tuple[list[tuple[int, str, Any, Any, str]], set[int]]:
    """Upsert certificates keyed by (enterprise, kind, certificate_no); adopt a matching self-declared one."""
    ids = sorted({row.id for _, row in pairs if row.id is not None})
    existing: dict[tuple[int, str], list[Qualification]] = {}
    for q in (
        Qualification.objects.select_for_update()
        .filter(enterprise_id__in=ids, kind__in=DEPARTMENT_QUALIFICATIONS[source])
        .order_by("pk")
    ):
        existing.setdefault((q.enterprise_id, q.kind), []).append(q)
    history: list[tuple[int, str, Any, Any, str]] = []
    changed_records: set[int] = set()
    to_create: list[Qualification] = []
    to_update: dict[int, Qualification] = {}
    for record, row in pairs:
        qd = record.qualification
        assert qd is not None and row.id is not None
        as_of = date.fromisoformat(record.as_of)
        candidates = existing.setdefault((row.id, qd["kind"]), [])
        match = next((q for q in candidates if q.certificate_no == qd["certificate_no"]), None)
        if match is None:
            match = next((q for q in candidates if q.source not in DEPARTMENT_SOURCES and not q.certificate_no), None)
        new_value = {
            "certificate_no": qd["certificate_no"],
            "valid_from": json_value(qd["valid_from"]),
            "valid_to": json_value(qd["valid_to"]),
        }
        fld = f"qualification:{qd['kind']}"
        if match is None:
            q = Qualification(
                enterprise_id=row.id,
                kind=qd["kind"],
                certificate_no=qd["certificate_no"],
                valid_from=qd["valid_from"],
                valid_to=qd["valid_to"],
                source=source,
                as_of=as_of,
            )
            candidates.append(q)
            to_create.append(q)
            history.append((row.id, fld, None, new_value, record.as_of))
            changed_records.add(record.index)
            continue
        old_value = {
            "certificate_no": match.certificate_no,
            "valid_from": json_value(match.valid_from),
            "valid_to": json_value(match.valid_to),
        }
        decision = decide(
            old_value=old_value,
            old_source=match.source,
            old_as_of=match.as_of,
            new_value=new_value,
            new_source=source,
            new_as_of=as_of,
        )
        if decision not in (Decision.APPLY, Decision.CONFIRM):
            continue
        if decision is Decision.APPLY:
            history.append((row.id, fld, old_value, new_value, record.as_of))
            changed_records.add(record.index)
        match.certificate_no = qd["certificate_no"]
        match.valid_from, match.valid_to = qd["valid_from"], qd["valid_to"]
        match.source, match.as_of = source, as_of
        if match.pk:
            to_update[match.pk] = match
    Qualification.objects.bulk_create(to_create, batch_size=1000)
    if to_update:
        now = timezone.now()
        for q in to_update.values():
            q.updated_at = now
        Qualification.objects.bulk_update(
            list(to_update.values()), ["certificate_no", "valid_from", "valid_to", "source", "as_of", "updated_at"]
        )
    return history, changed_records
