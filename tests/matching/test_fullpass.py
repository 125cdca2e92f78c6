"""The one-pass full re-match reads the next chunk beside deciding the current one, outside a transaction.

What the pass decides is held to the evaluator by tests/matching/test_bulk_matches_evaluator.py (inside a
transaction, so each chunk is read in turn); here, committed data: the pass that reads ahead writes what the
pass that reads in turn writes, every chunk is read by the helper thread, and the helper's connection is
closed however the pass ends.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import pytest
from django.db import transaction

from matching import fullpass
from matching.models import MatchProfile, MatchRecord
from matching.selectors import published_versions_any_period, today
from tests.matching.pass_support import flipped, records, settled_district, upset
from tests.support.services import (
    database_connections,
    database_connections_settled,
    need_postgres,
    threads_named,
)

pytestmark = pytest.mark.django_db(transaction=True)


class _Rollback(Exception):
    pass


@pytest.fixture
def reading_threads(monkeypatch) -> list[int]:
    """The thread each chunk was read on, in order (the real read, observed)."""
    seen: list[int] = []
    read = fullpass.read_chunk

    def observed(**kwargs: Any) -> fullpass.Chunk:
        seen.append(threading.get_ident())
        return read(**kwargs)

    monkeypatch.setattr(fullpass, "read_chunk", observed)
    return seen


def test_reading_ahead_writes_what_reading_in_turn_writes(reading_threads) -> None:
    need_postgres()  # the pass reads with PostgreSQL's binary COPY
    versions = settled_district(120)
    upset(versions, flipped(versions[1]))
    on = today()
    live = list(published_versions_any_period())
    ids = list(MatchProfile.objects.order_by("enterprise_id").values_list("enterprise_id", flat=True))
    chunks = math.ceil((ids[-1] + 1 - ids[0]) / 30)

    # Inside a transaction a second connection would not see its writes: each chunk is read in turn, here.
    try:
        with transaction.atomic():
            in_turn = fullpass.full_pass(on=on, versions=live, chunk_size=30)
            expected = records()
            raise _Rollback
    except _Rollback:
        pass
    assert reading_threads == [threading.get_ident()] * chunks
    assert in_turn.changed_records > 0 and records() != expected

    reading_threads.clear()
    before = database_connections()
    ahead = fullpass.full_pass(on=on, versions=live, chunk_size=30)

    assert (ahead.changed_records, dict(ahead.changes)) == (in_turn.changed_records, dict(in_turn.changes))
    assert records() == expected
    # Every chunk read on the one helper thread, none on this one; its connection is gone afterwards.
    assert len(reading_threads) == chunks and len(set(reading_threads)) == 1
    assert threading.get_ident() not in reading_threads
    assert database_connections_settled(before) == before
    assert not threads_named("pass-read")
    # Nothing left to do: a second pass reads again and writes nothing.
    assert fullpass.full_pass(on=on, versions=live, chunk_size=30).changed_records == 0


def test_a_pass_that_stops_early_closes_the_helper_and_its_connection(reading_threads) -> None:
    need_postgres()
    settled_district(60)
    MatchRecord.objects.all().delete()  # every version changes in the probe: the per-policy path's work
    live = list(published_versions_any_period())
    before = database_connections()

    with pytest.raises(fullpass.MostlyChanged):
        fullpass.full_pass(on=today(), versions=live, chunk_size=20, fallback_share=0.5, probe_size=10)

    assert not MatchRecord.objects.exists()  # the probe writes nothing
    assert reading_threads and threading.get_ident() not in reading_threads
    assert database_connections_settled(before) == before
    assert not threads_named("pass-read")
