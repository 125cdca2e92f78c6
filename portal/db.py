"""Cursors and a lookup for PostgreSQL statements that Django's defaults make slow.

Django's psycopg cursors bind client-side: every value is quoted into the SQL text in Python, which
for a statement carrying 100,000 ids costs more than the statement. `bound_cursor` binds on the server,
the ids travelling as one array parameter each (`unnest(%s::bigint[])`, `= ANY(%s)`); `prepared_cursor`
also prepares its few fixed statements once per connection; the `any_of` lookup gives the ORM the same
one-array form. The cursors are on Django's connection, so they run in the caller's transaction, and are
wrapped like Django's own, so query logging and execute wrappers still see them. `ahead` runs a sequence of
reads one step ahead on a second connection, so the server works on the next while this thread handles one.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import ForeignKey, IntegerField, Lookup

logger = logging.getLogger(__name__)
_T = TypeVar("_T")


@contextmanager
def bound_cursor() -> Iterator[Any]:
    """A cursor whose parameters are bound server-side (PostgreSQL only)."""
    import psycopg

    with _wrapped(connection, psycopg.Cursor(_driver(connection))) as cursor:
        yield cursor


@contextmanager
def prepared_cursor(using: str = DEFAULT_DB_ALIAS) -> Iterator[Any]:
    """A server-binding cursor whose statements are prepared (PostgreSQL only): planned once per
    connection, then only executed. For a small statement run on every request or fact change (the
    incremental path's one-enterprise read), planning costs as much as running it. The statements are
    kept per connection by the driver (a few, each keyed by its text), so they must be few and fixed.
    """
    connection = connections[using]
    driver = _driver(connection)
    # Django opens its connections with prepare_threshold=None, which turns preparing off even when asked
    # for. While this cursor runs, a threshold no statement reaches lets the asked-for preparing happen and
    # keeps every other statement of the connection unprepared, as Django has it.
    saved = driver.prepare_threshold
    driver.prepare_threshold = saved if saved is not None else 2**31 - 1
    try:
        raw = _preparing_cursor_class()(driver)
        raw.logged = connection.queries_logged
        with _wrapped(connection, raw) as cursor:
            yield cursor
    finally:
        driver.prepare_threshold = saved


def _driver(connection: Any) -> Any:
    """The driver's connection under Django's, opened if need be. As Django's own cursors do, a connection
    kept between tasks is checked once before its first use."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    return connection.connection


@contextmanager
def _wrapped(connection: Any, raw: Any) -> Iterator[Any]:
    """A driver cursor wrapped as Django wraps its own, so query logging and execute wrappers see it."""
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    with wrap(raw) as cursor:
        yield cursor


@functools.cache
def _preparing_cursor_class() -> type:
    import psycopg

    class PreparingCursor(psycopg.Cursor):
        logged = False  # whether Django logs this connection's queries (DEBUG, tests)

        # Django's cursor wrapper calls execute(sql, params): every statement of this cursor is prepared.
        def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: Any = None) -> Any:
            done = super().execute(query, params, prepare=True, binary=binary)
            if self.logged and self._query is None:
                # The driver keeps the statement's text only when it sends it, not when it runs a prepared
                # one; Django's query log reads it from there.
                self._query = self._convert_query(query, params)
            return done

    return PreparingCursor


class IdsAnyOf(Lookup):
    """`field__any_of=ids`: the rows whose integer key is one of `ids`, as `= ANY(%s::bigint[])` with the
    ids as ONE parameter on PostgreSQL (an IN list elsewhere).

    `__in` turns each id into its own placeholder: for the thousands of ids of a bulk read (the nightly
    run's crossings) Django prepares every value, and the driver then parses the SQL text for thousands
    of placeholders and quotes each value into it, which costs more than the query.
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def get_db_prep_lookup(self, value: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        return "%s", (value,)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        ids = [int(i) for i in self.rhs]
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", (*lhs_params, ids)
        if not ids:
            raise EmptyResultSet
        return f"{lhs} IN ({', '.join(['%s'] * len(ids))})", (*lhs_params, *ids)


def register_lookups() -> None:
    """Make `any_of` available on integer columns and foreign keys (called once, from PortalConfig.ready)."""
    IntegerField.register_lookup(IdsAnyOf)
    ForeignKey.register_lookup(IdsAnyOf)


@contextmanager
def ahead(count: int, step: Callable[[int], _T], *, name: str) -> Iterator[Iterator[_T]]:
    """`step(0)`, `step(1)`, … `step(count - 1)`, in order, each one computed while the caller handles the one
    before: by one helper thread on its own database connection, so that the server's share of the next step
    (a chunk's read) overlaps this thread's work (deciding, or waiting on a write).

    Only on PostgreSQL, outside a transaction and for more than one step: a second connection would not see
    what the caller's open transaction wrote (tests, or a caller's atomic block); then each step runs in turn
    here. A step sees the database as of when it ran, one step earlier than it would in turn: callers read
    disjoint parts. The helper's connection is closed however the block ends (named `name` for thread dumps).
    """
    if count < 2 or connection.vendor != "postgresql" or connection.in_atomic_block:
        yield (step(at) for at in range(count))
        return
    helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
    running: list[Future[_T]] = []

    def each() -> Iterator[_T]:
        running.append(helper.submit(step, 0))
        for at in range(count):
            done = running.pop().result()
            if at + 1 < count:
                running.append(helper.submit(step, at + 1))
            yield done

    try:
        yield each()
    finally:
        for future in running:
            future.cancel()
        try:
            # On the helper's own thread: Django's connections are per thread (`connection` is looked up there).
            helper.submit(lambda: connection.close()).result()
        except Exception:  # cleanup: never hide what ended the block
            logger.exception("%s: closing the helper's database connection failed", name)
        finally:
            helper.shutdown(wait=True)
