"""Removing notices, for the development tools only (benchmarks clean up the synthetic decisions they made).

Notices are legal records: no production code path deletes one, and the database refuses it unless the
transaction says `SET LOCAL huiqi.purge_notices = 'on'` (migration 0002). tests/notices/test_purge.py holds
this module to devtools.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import QuerySet

from .models import DecisionNotice


def notices_purge(queryset: QuerySet[DecisionNotice]) -> int:
    """Delete these notices (devtools only); returns how many."""
    if connection.vendor != "postgresql":
        return queryset._raw_delete(queryset.db)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL huiqi.purge_notices = 'on'")
        try:
            return queryset._raw_delete(queryset.db)
        finally:
            # Off again at once: an enclosing transaction that goes on must not keep the permission.
            cursor.execute("SET LOCAL huiqi.purge_notices = 'off'")
