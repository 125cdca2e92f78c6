"""Property test: the SQL bulk path decides exactly as the pure evaluator does.

Random rules (every fact and operator, nested all/any/not) over random enterprises stored in the
database (missing facts, self-declared and department sources, expired and future qualifications,
several sites, sites with no zone), on random dates. For every enterprise the stored record (or
its absence, meaning ineligible) must equal the evaluator's outcome on the enterprise's profile,
including `verified` and the per-condition states; the portable SQL (SQLite's) and the incremental
path then find nothing to change.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import passchunks
from matching.bulk import _changed_sql, tables
from matching.core.evaluator import compile_rule
from matching.core.profile import EnterpriseProfile
from matching.core.sql import compile_rule_sql
from matching.fullpass import Vocabulary, decide_chunk, full_pass, read_chunk
from matching.models import MatchProfile, MatchRecord, MatchRun, MatchRunChunk
from matching.services import enterprise_match, match_profiles_refresh, policy_version_match
from portal.enterprises.models import Enterprise
from portal.enterprises.selectors import enterprise_profiles_by_id
from tests.matching.db_support import publish_version, store_profile
from tests.matching.pass_support import records as stored_decisions
from tests.matching.strategies import ON, RULES, profiles

pytestmark = pytest.mark.django_db

_STATUS = {0: "ineligible", 1: "needs_info", 2: "eligible"}


class _Rollback(Exception):
    pass


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(
    rules=st.lists(RULES, min_size=1, max_size=3),
    generated=st.lists(profiles(), min_size=1, max_size=10),
    on=ON,
)
def test_bulk_sql_path_equals_pure_evaluator(
    rules: list[dict[str, Any]], generated: list[EnterpriseProfile], on: date
) -> None:
    try:
        with transaction.atomic():
            _check(rules, generated, on)
            raise _Rollback  # each example starts from an empty district
    except _Rollback:
        pass


def _check(rules: list[dict[str, Any]], generated: list[EnterpriseProfile], on: date) -> None:
    for profile in generated:
        store_profile(profile)
    match_profiles_refresh()
    versions = [publish_version(rule) for rule in rules]

    for version in versions:
        policy_version_match(version_id=version.pk, on=on, chunk_size=3)  # several chunks

    profiles_by_id = dict(enterprise_profiles_by_id(queryset=Enterprise.objects.all()))
    _assert_records_match_evaluator(versions, profiles_by_id, on)

    # The portable form (EXISTS, for SQLite) decides as the LATERAL form PostgreSQL ran: no changes.
    if connection.vendor == "postgresql":
        for version in versions:
            portable = compile_rule_sql(version.rule, tables=tables(), on=on, lateral=False)
            with connection.cursor() as cursor:
                cursor.execute(_changed_sql(portable, version_id=version.pk, lo=0, hi=2**62))
                assert cursor.fetchall() == [], version.rule

    # The incremental path agrees, so it has nothing to write.
    for enterprise_id in profiles_by_id:
        assert enterprise_match(enterprise_id=enterprise_id, on=on) == []

    _check_one_pass(versions, profiles_by_id, on)


def _assert_records_match_evaluator(versions: list, profiles_by_id: dict[int, EnterpriseProfile], on: date) -> None:
    for version in versions:
        compiled = compile_rule(version.rule)
        records = {r.enterprise_id: r for r in MatchRecord.objects.filter(policy_version=version)}
        for enterprise_id, profile in profiles_by_id.items():
            expected = compiled.evaluate(profile, on=on)
            record = records.get(enterprise_id)
            if record is None:
                assert expected.status == "ineligible", (version.rule, profile)
                continue
            assert (record.outcome, record.verified) == (expected.status, expected.verified), (version.rule, profile)
            assert record.states == expected.state_letters
            assert record.explanation == json.loads(json.dumps(expected.to_dict()))


def _check_one_pass(versions: list, profiles_by_id: dict[int, EnterpriseProfile], on: date) -> None:
    """The one-pass full re-match (matching.fullpass) decides as the evaluator does, column by column."""
    trees = [compile_rule(version.rule).tree for version in versions]
    vocabulary = Vocabulary.for_rules(trees)
    chunk = read_chunk(lo=0, hi=2**62, vocabulary=vocabulary, on=on)
    assert sorted(int(i) for i in chunk.ids) == sorted(profiles_by_id)
    for version, tree in zip(versions, trees, strict=True):
        compiled = compile_rule(version.rule)
        decided = decide_chunk(tree, chunk, vocabulary, on=on)
        for i, enterprise_id in enumerate(decided["ids"]):
            expected = compiled.evaluate(profiles_by_id[int(enterprise_id)], on=on)
            got = (_STATUS[int(decided["outcome"][i])], bool(decided["verified"][i]), decided["states"][i])
            assert got == (expected.status, expected.verified, expected.state_letters), version.rule

    # With every record as the evaluator says, the pass finds nothing to write.
    assert full_pass(on=on, versions=versions, chunk_size=3).changed_records == 0

    # Stored decisions that are wrong (outcome or verified) or missing: the pass finds and rewrites
    # exactly those, through the per-version write path (explanations included).
    records = list(MatchRecord.objects.filter(policy_version__in=versions).order_by("pk"))
    for n, record in enumerate(records):
        if n % 2:
            record.verified = not record.verified
        else:
            record.outcome = {"eligible": "needs_info", "needs_info": "ineligible", "ineligible": "eligible"}[
                record.outcome
            ]
    MatchRecord.objects.bulk_update(records, ["outcome", "verified"])
    MatchRecord.objects.filter(pk__in=[r.pk for r in records[::3]]).delete()
    chunked = _spread_pass(versions, on, chunk_size=2)
    single = full_pass(on=on, versions=versions, chunk_size=3)
    _assert_records_match_evaluator(versions, profiles_by_id, on)
    # Spread over workers (matching.passchunks: one job per range), the pass writes exactly the same.
    assert chunked == (stored_decisions(), single.changed_records)
    assert full_pass(on=on, versions=versions, chunk_size=2).changed_records == 0


def _spread_pass(versions: list, on: date, *, chunk_size: int) -> tuple[dict, int]:
    """The pass cut into chunk rows of a nightly run, each decided as a worker's task would (rolled back
    afterwards): the stored decisions it leaves, and how many it changed."""
    try:
        with transaction.atomic():
            run = MatchRun.objects.create(kind=MatchRun.Kind.NIGHTLY, status="running")
            ids = sorted(MatchProfile.objects.values_list("enterprise_id", flat=True))
            lo, hi = ids[0], ids[-1] + 1
            chunks = [
                MatchRunChunk.objects.create(
                    run=run,
                    lo=a,
                    hi=min(a + chunk_size, hi),
                    total=min(a + chunk_size, hi) - a,
                    on=on,
                    version_ids=sorted(v.pk for v in versions),
                )
                for a in range(lo, hi, chunk_size)
            ]
            changed = sum(len(passchunks.match_run_chunk_execute(chunk=chunk)) for chunk in chunks)
            assert MatchRun.objects.get(pk=run.pk).status == "done"
            result = (stored_decisions(), changed)
            raise _Rollback
    except _Rollback:
        return result


@pytest.mark.django_db
def test_the_pass_reads_stored_decisions_from_the_pair_index_not_the_rows() -> None:
    """A record's row is mostly its explanation; the pass's read of a range of enterprises' decisions is an
    index-only scan of the unique pair index, which carries outcome, verified and states (PostgreSQL)."""
    if connection.vendor != "postgresql":
        pytest.skip("INCLUDE columns are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'match_record_unique_pair'")
        (definition,) = cursor.fetchone()
        assert definition.endswith("(enterprise_id, policy_version_id) INCLUDE (outcome, verified, states)")
        # A small, never vacuumed test table: the planner would scan it, or its heap through a bitmap.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(
            "EXPLAIN SELECT r.enterprise_id, r.policy_version_id, r.outcome, r.verified, r.states"
            f" FROM {MatchRecord._meta.db_table} r WHERE r.enterprise_id >= 1 AND r.enterprise_id < 100"
        )
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using match_record_unique_pair" in plan


@pytest.mark.django_db
def test_explanations_are_written_with_lz4_where_the_server_has_it() -> None:
    """Decisions' explanations (records and receipts) are compressed with lz4, several times faster to write
    than PostgreSQL's default (migration matching 0010); a server built without lz4 keeps the default."""
    if connection.vendor != "postgresql":
        pytest.skip("column compression is PostgreSQL's")
    with connection.cursor() as cursor:
        try:
            with transaction.atomic():
                cursor.execute("SET LOCAL default_toast_compression = lz4")
        except DatabaseError:
            pytest.skip("this PostgreSQL server was built without lz4")
        cursor.execute(
            "SELECT attrelid::regclass::text, attname, attcompression FROM pg_attribute"
            " WHERE (attrelid::regclass::text, attname) IN"
            " (('matching_matchrecord', 'explanation'), ('receipts_receipt', 'explanation'),"
            " ('receipts_receipt', 'facts'))"
        )
        found = sorted(cursor.fetchall())
    assert found == [
        ("matching_matchrecord", "explanation", "l"),
        ("receipts_receipt", "explanation", "l"),
        ("receipts_receipt", "facts", "l"),
    ]
