"""Diff-only writes, change kinds, expiry and the nightly run (services, real database)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from matching.models import MatchProfile, MatchRecord, MatchRun
from matching.services import (
    enterprise_match,
    match_everything,
    match_profiles_refresh,
    match_run_claim,
    match_runs_sweep,
    policy_version_match,
)
from portal.enterprises.services import enterprise_update_facts
from tests.enterprises.factories import EnterpriseFactory, QualificationFactory
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db

HIGH_TECH_IN_ELECTRONICS = {
    "all": [
        {"fact": "industry", "op": "under", "value": ["39"]},
        {"fact": "qualification", "op": "has", "value": "high_tech"},
        {"fact": "employees", "op": "gte", "value": 100},
    ]
}


def district() -> dict[str, object]:
    eligible = EnterpriseFactory(industry_code="3973", employees=150)
    QualificationFactory(enterprise=eligible)
    unknown = EnterpriseFactory(industry_code="3973", employees=None)  # employees unknown → needs_info
    QualificationFactory(enterprise=unknown)
    outside = EnterpriseFactory(industry_code="6511")
    QualificationFactory(enterprise=outside)
    match_profiles_refresh()
    version = PolicyVersionFactory(published=True, rule=HIGH_TECH_IN_ELECTRONICS)
    return {"eligible": eligible, "unknown": unknown, "outside": outside, "version": version}


def test_policy_run_stores_eligible_and_needs_info_only() -> None:
    d = district()

    summary = policy_version_match(version_id=d["version"].pk)

    records = {r.enterprise_id: r for r in MatchRecord.objects.filter(policy_version=d["version"])}
    assert set(records) == {d["eligible"].pk, d["unknown"].pk}
    assert records[d["eligible"].pk].outcome == "eligible" and records[d["eligible"].pk].verified
    assert records[d["unknown"].pk].outcome == "needs_info"
    assert records[d["eligible"].pk].explanation["summary"] == "符合全部条件"
    assert dict(summary.changes) == {"newly_eligible": 1, "needs_info": 1}


def test_running_again_writes_nothing() -> None:
    d = district()
    policy_version_match(version_id=d["version"].pk)
    before = list(MatchRecord.objects.values_list("pk", "decided_at"))

    again = policy_version_match(version_id=d["version"].pk)

    assert again.changed_records == 0
    assert list(MatchRecord.objects.values_list("pk", "decided_at")) == before
    assert enterprise_match(enterprise_id=d["eligible"].pk) == []


def test_an_enterprise_with_nothing_to_change_is_decided_without_the_row_lock() -> None:
    d = district()
    policy_version_match(version_id=d["version"].pk)

    with CaptureQueriesContext(connection) as unchanged:
        assert enterprise_match(enterprise_id=d["eligible"].pk) == []
    enterprise_update_facts(enterprise=d["eligible"], facts={"employees": 50}, source="statistics")
    with CaptureQueriesContext(connection) as changed:
        assert [c.outcome for c in enterprise_match(enterprise_id=d["eligible"].pk)] == ["ineligible"]

    # Nothing to write: no locking read, nothing written. Something to write: decided again under the lock.
    assert not [q for q in unchanged.captured_queries if "FOR UPDATE" in q["sql"]]
    assert not [q for q in unchanged.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert len([q for q in changed.captured_queries if "FOR UPDATE" in q["sql"]]) == 1


def test_a_condition_that_moves_while_the_outcome_stands_is_restated_with_its_state() -> None:
    firm = EnterpriseFactory(industry_code="3973", employees=150, tax_credit_rating="A")
    match_profiles_refresh()
    either = {
        "any": [
            {"fact": "employees", "op": "gte", "value": 100},
            {"fact": "tax_credit_rating", "op": "in", "value": ["A"]},
        ]
    }
    version = PolicyVersionFactory(published=True, rule=either)
    policy_version_match(version_id=version.pk)
    assert MatchRecord.objects.get(enterprise=firm, policy_version=version).states == "MM"

    enterprise_update_facts(enterprise=firm, facts={"employees": 50}, source="statistics")
    assert enterprise_match(enterprise_id=firm.pk) == []  # still eligible: no change to announce

    record = MatchRecord.objects.get(enterprise=firm, policy_version=version)
    assert record.outcome == "eligible"
    assert record.states == "NM"
    assert [c["result"] for c in record.explanation["conditions"]] == ["unmet", "met"]


def test_a_fact_change_is_visible_as_a_change_kind() -> None:
    d = district()
    policy_version_match(version_id=d["version"].pk)

    enterprise_update_facts(enterprise=d["eligible"], facts={"employees": 50}, source="statistics")
    changes = enterprise_match(enterprise_id=d["eligible"].pk)

    record = MatchRecord.objects.get(enterprise=d["eligible"], policy_version=d["version"])
    assert [c.outcome for c in changes] == ["ineligible"]
    assert (record.previous_outcome, record.outcome, record.change_kind) == (
        "eligible",
        "ineligible",
        "no_longer_eligible",
    )
    assert record.explanation["summary"].startswith("只差")


def test_expired_qualification_is_redecided_by_the_nightly_run() -> None:
    d = district()
    policy_version_match(version_id=d["version"].pk)
    d["eligible"].qualifications.update(valid_to=timezone.localdate() - timedelta(days=1))

    summary = match_everything()

    record = MatchRecord.objects.get(enterprise=d["eligible"], policy_version=d["version"])
    assert record.outcome == "ineligible"
    assert summary.changes["no_longer_eligible"] == 1


def test_a_version_out_of_effect_decides_nobody() -> None:
    d = district()
    policy_version_match(version_id=d["version"].pk)
    d["version"].effective_to = date(2020, 12, 31)
    d["version"].save()

    policy_version_match(version_id=d["version"].pk)

    assert set(MatchRecord.objects.values_list("outcome", flat=True)) == {"ineligible"}


def test_claim_lets_a_lost_run_be_taken_again_but_not_a_live_or_finished_one() -> None:
    run = MatchRun.objects.create(kind=MatchRun.Kind.NIGHTLY)
    first = match_run_claim(run_id=run.pk)
    assert first is not None
    assert match_run_claim(run_id=run.pk) is None  # redelivered early: its worker is alive (fresh heartbeat)
    MatchRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))
    second = match_run_claim(run_id=run.pk)  # its worker died: the heartbeat stopped
    assert second is not None and second.claim != first.claim
    MatchRun.objects.filter(pk=run.pk).update(status=MatchRun.Status.DONE, heartbeat_at=None)
    assert match_run_claim(run_id=run.pk) is None


def test_sweep_resends_stale_pending_runs(celery_eager) -> None:
    d = district()
    run = MatchRun.objects.create(kind=MatchRun.Kind.POLICY, policy_version=d["version"])
    MatchRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=10))

    assert match_runs_sweep() == 1

    run.refresh_from_db()
    assert run.status == MatchRun.Status.DONE
    assert MatchRecord.objects.filter(policy_version=d["version"], outcome="eligible").count() == 1


@pytest.mark.django_db(transaction=True)
def test_nightly_decides_policies_in_parallel_outside_a_transaction(settings) -> None:
    from tests.support.services import need_postgres

    need_postgres()  # SQLite's in-memory test database is not shared between threads
    settings.MATCH_PARALLELISM = 3
    d = district()
    others = [PolicyVersionFactory(published=True, rule=HIGH_TECH_IN_ELECTRONICS) for _ in range(4)]
    run = MatchRun.objects.create(kind=MatchRun.Kind.NIGHTLY)

    # The per-policy path (kept for databases without the one pass, and for comparison).
    summary = match_everything(run=run, one_pass=False)

    assert summary.changes == {"newly_eligible": 5, "needs_info": 5}
    for version in [d["version"], *others]:
        outcomes = dict(MatchRecord.objects.filter(policy_version=version).values_list("enterprise_id", "outcome"))
        assert outcomes == {d["eligible"].pk: "eligible", d["unknown"].pk: "needs_info"}
    run.refresh_from_db()
    assert (run.processed, run.total) == (5, 5)


def test_nightly_decides_every_policy_in_one_pass_with_resumable_progress() -> None:
    from tests.support.services import need_postgres

    need_postgres()  # the one pass reads with PostgreSQL's binary COPY
    d = district()
    others = [PolicyVersionFactory(published=True, rule=HIGH_TECH_IN_ELECTRONICS) for _ in range(4)]
    first = MatchRun.objects.create(kind=MatchRun.Kind.NIGHTLY)

    # No records yet: every version changes, so the probe hands the work to the per-policy path.
    summary = match_everything(run=first)

    assert summary.changes == {"newly_eligible": 5, "needs_info": 5}
    first.refresh_from_db()
    assert (first.processed, first.total, first.cursor) == (5, 5, None)

    # One new version among six: the one pass decides them all, and writes the new one only.
    latest = PolicyVersionFactory(published=True, rule=HIGH_TECH_IN_ELECTRONICS)
    run = MatchRun.objects.create(kind=MatchRun.Kind.NIGHTLY)
    summary = match_everything(run=run)

    assert summary.changes == {"newly_eligible": 1, "needs_info": 1}
    for version in [d["version"], *others, latest]:
        outcomes = dict(MatchRecord.objects.filter(policy_version=version).values_list("enterprise_id", "outcome"))
        assert outcomes == {d["eligible"].pk: "eligible", d["unknown"].pk: "needs_info"}
    run.refresh_from_db()
    ids = sorted(MatchProfile.objects.values_list("enterprise_id", flat=True))
    # Progress counts enterprise ids; the cursor is where another holder would resume.
    assert (run.processed, run.total, run.cursor) == (ids[-1] + 1 - ids[0],) * 2 + (ids[-1] + 1,)
    assert dict(run.changed) == {"newly_eligible": 1, "needs_info": 1}
    # Nothing changed: a second pass writes nothing.
    assert match_everything().changed_records == 0


def test_the_nightly_beat_task_asks_for_one_run_per_day_however_often_it_is_delivered(celery_eager) -> None:
    from matching.tasks import match_nightly_task

    district()
    match_nightly_task()
    match_nightly_task()  # the same beat message redelivered (acks_late, worker lost)

    (run,) = MatchRun.objects.filter(kind=MatchRun.Kind.NIGHTLY)
    assert (run.nightly_for, run.status) == (timezone.localdate(), MatchRun.Status.DONE)
