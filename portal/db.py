"""A server-side-binding cursor on Django's PostgreSQL connection, for set-based statements over many ids.

Django's psycopg cursors bind client-side: every value is quoted into the SQL text in Python, which
for a statement carrying 100,000 ids costs more than the statement. Here the ids travel as one array
parameter each (`unnest(%s::bigint[])`, `= ANY(%s)`), bound by the server. The cursor is on Django's
connection, so it runs in the caller's transaction, and it is wrapped like Django's own cursors so
query logging and execute wrappers still see it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection


@contextmanager
def bound_cursor() -> Iterator[Any]:
    """A cursor whose parameters are bound server-side (PostgreSQL only)."""
    import psycopg

    # As Django's own cursors do: a connection kept between tasks is checked once before its first use.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    # django-stubs types the argument as Django's CursorWrapper; Django passes the driver's cursor, as here
    with wrap(raw) as cursor:  # type: ignore[arg-type]
        yield cursor
