"""Cursors and a lookup for PostgreSQL statements that Django's defaults make slow.

Django's psycopg cursors bind client-side: every value is quoted into the SQL text in Python, which
for a statement carrying 100,000 ids costs more than the statement. `bound_cursor` binds on the server,
the ids travelling as one array parameter each (`unnest(%s::bigint[])`, `= ANY(%s)`); `prepared_cursor`
also prepares its few fixed statements once per connection; the `any_of` lookup gives the ORM the same
one-array form. The cursors are on Django's connection, so they run in the caller's transaction, and are
wrapped like Django's own, so query logging and execute wrappers still see them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import ForeignKey, IntegerField, Lookup


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
