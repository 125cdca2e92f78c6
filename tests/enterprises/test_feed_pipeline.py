"""The bulk path behind the feeds: batches larger than a chunk, repeated codes, and failures mid-batch."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.enterprises import feeds
from portal.enterprises.feeds import feed_apply
from portal.enterprises.models import Enterprise, EnterpriseChange, FeedImport
from tests.enterprises.factories import EnterpriseFactory
from tests.support.services import need_postgres

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_chunks(monkeypatch) -> None:
    monkeypatch.setattr(feeds, "CHUNK", 3)


def test_a_batch_spanning_many_chunks_with_a_code_repeated_across_them(small_chunks) -> None:
    enterprises = EnterpriseFactory.create_batch(7)
    first = enterprises[0]
    records = [
        {"credit_code": e.credit_code, "as_of": "2026-01-31", "employees": 30 + i} for i, e in enumerate(enterprises)
    ]
    # The first enterprise again, in the third chunk, with a later value: the later record wins.
    records.insert(7, {"credit_code": first.credit_code, "as_of": "2026-01-31", "employees": 999})

    result = feed_apply(source="statistics", records=records)

    assert [a["status"] for a in result.accepted] == ["updated"] * 8
    first.refresh_from_db()
    assert first.employees == 999 and first.size == "medium"  # 999 persons, 8000 万元: both medium
    assert [e.changes for e in EnterpriseChange.objects.filter(enterprise=first).order_by("pk")] == [
        [{"field": "employees", "old": 150, "new": 30}],
        [{"field": "employees", "old": 30, "new": 999}, {"field": "size", "old": "small", "new": "medium"}],
    ]
    for i, e in enumerate(enterprises[1:], start=1):
        e.refresh_from_db()
        assert e.employees == 30 + i

    # The first seven records again: same date, so the later batch wins, and only the first enterprise differs.
    again = feed_apply(source="statistics", records=records[:7])
    assert again.feed_import.changed == 1
    first.refresh_from_db()
    assert first.employees == 30


def test_every_value_type_round_trips(small_chunks) -> None:
    enterprise = EnterpriseFactory(provenance={})
    records = [
        {"credit_code": enterprise.credit_code, "employees": "12", "revenue": "1234.5", "total_assets": 99},
        {"credit_code": enterprise.credit_code, "above_designated_size": "否"},
    ]
    feed_apply(source="statistics", records=records)
    enterprise.refresh_from_db()
    assert (enterprise.employees, enterprise.revenue, enterprise.total_assets) == (
        12,
        Decimal("1234.50"),
        Decimal("99.00"),
    )
    assert enterprise.above_designated_size is False
    assert set(enterprise.provenance) == {"employees", "revenue", "total_assets", "above_designated_size"}
    # Facts the feed does not own keep their (absent) provenance; the size was recomputed.
    assert enterprise.size == "micro" and "营业收入1234.5万元" in enterprise.size_basis
    changes = [c for e in EnterpriseChange.objects.filter(enterprise=enterprise) for c in e.changes]
    assert {"field": "revenue", "old": "8000.00", "new": "1234.50"} in changes


def test_a_database_error_mid_batch_rolls_everything_back(monkeypatch, small_chunks) -> None:
    need_postgres()
    enterprises = EnterpriseFactory.create_batch(7)
    calls = []

    def failing_write(self, update, history):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return original(self, update, history)

    original = feeds._PgDatabase._write
    monkeypatch.setattr(feeds._PgDatabase, "_write", failing_write)
    records = [{"credit_code": e.credit_code, "employees": 1} for e in enterprises]
    with pytest.raises(RuntimeError):
        feed_apply(source="statistics", records=records)

    assert not FeedImport.objects.exists()
    assert not EnterpriseChange.objects.exists()
    assert set(Enterprise.objects.values_list("employees", flat=True)) == {150}
