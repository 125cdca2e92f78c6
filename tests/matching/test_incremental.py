"""The incremental path's one-statement read gives exactly the registry's own profile.

`load_for_match` reads facts, qualifications, sites (with zones and parks), the stored projection
row and the match records in one round trip on PostgreSQL; `enterprise_profile` builds the profile
from model instances. Random enterprises stored in the database must read the same both ways.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.core.profile import EnterpriseProfile
from matching.core.projection import PROJECTION_COLUMNS, profile_row
from matching.incremental import StoredRecord, load_for_match
from matching.models import MatchRecord
from matching.services import match_profiles_refresh, policy_version_match
from portal.enterprises.models import Enterprise, Qualification
from portal.enterprises.selectors import PROFILE_PREFETCHES, enterprise_profile
from tests.enterprises.factories import EnterpriseFactory
from tests.matching.db_support import publish_version, store_profile
from tests.matching.strategies import profiles

pytestmark = pytest.mark.django_db


class _Rollback(Exception):
    pass


def _orm_profile(enterprise_id: int) -> EnterpriseProfile:
    enterprise = Enterprise.objects.prefetch_related(*PROFILE_PREFETCHES).get(pk=enterprise_id)
    return enterprise_profile(enterprise=enterprise)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(generated=st.lists(profiles(), min_size=1, max_size=6), refresh=st.booleans())
def test_one_statement_read_equals_registry_profile(generated: list[EnterpriseProfile], refresh: bool) -> None:
    try:
        with transaction.atomic():
            ids = [store_profile(profile).pk for profile in generated]
            if refresh:
                match_profiles_refresh()
            for enterprise_id in ids:
                loaded = load_for_match(enterprise_id=enterprise_id)
                assert loaded is not None
                assert loaded.profile == _orm_profile(enterprise_id)
                if refresh:
                    assert loaded.stored_row == profile_row(loaded.profile)
                    assert set(loaded.stored_row) == set(PROJECTION_COLUMNS)
                else:
                    assert loaded.stored_row is None
            raise _Rollback
    except _Rollback:
        pass


def test_read_carries_certificates_dates_and_match_records() -> None:
    from matching.core.profile import Fact

    profile = EnterpriseProfile(
        credit_code="X",
        name="X",
        facts={"industry_code": Fact("3911", "market_regulation", date(2026, 1, 1))},
    )
    enterprise = store_profile(profile)
    Qualification.objects.create(
        enterprise=enterprise,
        kind="high_tech",
        certificate_no="GR202432000123",
        valid_from=date(2024, 1, 1),
        valid_to=date(2026, 12, 31),
        source="science_tech",
        as_of=date(2025, 3, 1),
    )
    match_profiles_refresh()
    version = publish_version({"fact": "industry", "op": "under", "value": ["39"]})
    policy_version_match(version_id=version.pk, on=date(2026, 6, 1))
    record = MatchRecord.objects.get(enterprise=enterprise, policy_version=version)

    with transaction.atomic():
        loaded = load_for_match(enterprise_id=enterprise.pk)
    assert loaded is not None
    assert loaded.profile == _orm_profile(enterprise.pk)
    (qualification,) = loaded.profile.qualifications
    assert (qualification.certificate_no, qualification.as_of) == ("GR202432000123", date(2025, 3, 1))
    # The stored explanation too (written with the decision), for the explanation diff.
    assert record.explanation is not None
    assert loaded.records == {
        version.pk: StoredRecord(record.pk, version.pk, record.outcome, record.verified, record.explanation)
    }


def test_the_catalogue_stamp_is_read_from_its_index_alone() -> None:
    """Every one-enterprise read carries the published catalogue's stamp; on PostgreSQL it is an index-only
    scan of policy_published_stamp (published versions only, with the columns the stamp aggregates), not a
    visit to every published version's row."""
    if connection.vendor != "postgresql":
        pytest.skip("INCLUDE columns are PostgreSQL's")
    from matching.selectors import published_stamp_sql

    publish_version({"fact": "employees", "op": "gte", "value": 100})
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'policy_published_stamp'")
        (definition,) = cursor.fetchone()
        assert definition.endswith("(updated_at) INCLUDE (id) WHERE ((status)::text = 'published'::text)")
        # A tiny, never vacuumed test table: the planner would otherwise scan it.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {published_stamp_sql()}")
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using policy_published_stamp" in plan


def test_a_stored_explanation_beyond_what_orjson_reads_still_loads() -> None:
    """jsonb holds numbers a double cannot (1e400); the read falls back to json for them rather than fail
    the enterprise's every re-match."""
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement read (and jsonb) are PostgreSQL's")
    firm = EnterpriseFactory(employees=150)
    match_profiles_refresh()
    version = publish_version({"fact": "employees", "op": "gte", "value": 100})
    policy_version_match(version_id=version.pk)
    record = MatchRecord.objects.get(enterprise=firm, policy_version=version)
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE {MatchRecord._meta.db_table} SET explanation = \'{{"n": 1e400, "text": "示例"}}\'::jsonb'
            " WHERE id = %s",
            [record.pk],
        )

    loaded = load_for_match(enterprise_id=firm.pk, lock=False)

    assert loaded is not None
    assert loaded.records[version.pk].explanation["text"] == "示例"
    assert loaded.records[version.pk].explanation["n"] > 1e308  # json reads it as infinity


def test_unknown_enterprise_reads_nothing() -> None:
    with transaction.atomic():
        assert load_for_match(enterprise_id=987654321) is None


def test_read_carries_the_catalogue_stamp_and_a_publish_moves_it() -> None:
    """The one-enterprise read carries the published catalogue's stamp (one round trip, not two), equal to
    the stamp read alone; a publish in between moves it, so the next match sees the new version."""
    from matching.services import _published_stamp, enterprise_match
    from tests.enterprises.factories import EnterpriseFactory

    firm = EnterpriseFactory(employees=150)
    match_profiles_refresh()
    publish_version({"fact": "employees", "op": "gte", "value": 100})
    first = load_for_match(enterprise_id=firm.pk, lock=False)
    assert first is not None and first.catalogue_stamp == _published_stamp()
    assert first.catalogue_stamp[0] == 1
    enterprise_match(enterprise_id=firm.pk)

    later = publish_version({"fact": "employees", "op": "gte", "value": 120})
    second = load_for_match(enterprise_id=firm.pk, lock=False)
    assert second is not None and second.catalogue_stamp == _published_stamp() != first.catalogue_stamp
    enterprise_match(enterprise_id=firm.pk)
    assert MatchRecord.objects.get(enterprise=firm, policy_version=later).outcome == "eligible"
