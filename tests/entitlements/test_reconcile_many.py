"""The nightly run settles the whole catalogue's entitlements with one query when nothing is to settle.

`entitlements_reconcile_many` (the handler of events.CATALOGUE_DECIDED, emitted once by
match_everything) must do exactly what `entitlements_reconcile` does for each version, and its
pre-check must pick exactly the versions for which that would do something.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from matching import services as matching_services
from matching.models import MatchRecord
from matching.services import enterprises_match, match_everything, match_profiles_refresh
from policies.models import PolicyVersion
from policies.services import (
    policy_approve,
    policy_create,
    policy_publish,
    policy_submit,
    policy_version_create_draft,
    policy_version_update,
)
from portal import events
from portal.entitlements import services
from portal.entitlements.models import Entitlement
from tests.enterprises.factories import EnterpriseFactory
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db

Status = Entitlement.Status


def _catalogue(n: int) -> list[int]:
    """n published 免申即享 versions, each with entitlements resting on it, and as many 申报 versions:
    nothing to settle anywhere."""
    enterprises = [EnterpriseFactory() for _ in range(3)]
    ids = []
    for _ in range(n):
        exempt = PolicyVersionFactory(published=True, mode="exempt")
        for enterprise in enterprises:
            Entitlement.objects.create(enterprise=enterprise, policy_version=exempt, determined_at=timezone.now())
        ids += [exempt.pk, PolicyVersionFactory(published=True).pk]
    return ids


@pytest.mark.parametrize("n", [2, 40])
def test_nothing_to_settle_costs_one_query_whatever_the_catalogue(n, django_assert_max_num_queries) -> None:
    ids = _catalogue(n)
    with django_assert_max_num_queries(1):
        assert services.entitlements_reconcile_many(version_ids=ids) == {"rebased": 0, "review": 0, "recovery": 0}
    with django_assert_max_num_queries(1):  # a single version's own event: one query too, no lock
        assert services.entitlements_reconcile(version_id=ids[0]) == {"rebased": 0, "review": 0, "recovery": 0}


def test_the_pre_check_picks_exactly_the_versions_the_reconcile_would_change() -> None:
    enterprise = EnterpriseFactory()

    def successor(*, given: dict) -> PolicyVersion:
        """v1 (retired) with an entitlement of `enterprise` as `given` says, and v2 published after it."""
        v1 = PolicyVersionFactory(published=True, mode="exempt")
        entitlement = Entitlement.objects.create(enterprise=enterprise, policy_version=v1, determined_at=timezone.now())
        PolicyVersion.objects.filter(pk=v1.pk).update(status=PolicyVersion.Status.RETIRED)
        v2 = PolicyVersionFactory(policy=v1.policy, number=2, published=True, mode="exempt")
        given = {key: (v2 if value == "v2" else value) for key, value in given.items()}
        Entitlement.objects.filter(pk=entitlement.pk).update(**given)
        return v2

    stale = successor(given={})
    revoked = successor(given={"status": Status.REVOKED})
    reviewed = successor(given={"review_version": "v2", "status": Status.PENDING_REVIEW})
    # An earlier version with a higher id (a version is not always newer than the one it rests on).
    newer_id = successor(given={})
    Entitlement.objects.filter(policy_id=newer_id.policy_id).update(
        policy_version=PolicyVersionFactory(policy=newer_id.policy, number=3, status=PolicyVersion.Status.RETIRED)
    )
    # A merged duplicate resting on v1 (the live entitlement rests on v2).
    merged = successor(given={"policy_version": "v2"})
    Entitlement.objects.create(
        enterprise=enterprise,
        policy_version=PolicyVersion.objects.get(policy_id=merged.policy_id, number=1),
        duplicate_of=Entitlement.objects.get(policy_id=merged.policy_id),
        determined_at=timezone.now(),
    )
    apply = PolicyVersionFactory(published=True, mode="apply")
    Entitlement.objects.create(enterprise=enterprise, policy_version=apply, determined_at=timezone.now())
    versions = [stale, revoked, reviewed, newer_id, merged, apply]

    picked = services.versions_with_entitlements_to_settle(version_ids=[v.pk for v in versions])

    assert picked == sorted([stale.pk, newer_id.pk])
    acted = [v.pk for v in versions if any(services.entitlements_reconcile(version_id=v.pk).values())]
    assert sorted(acted) == picked


@pytest.fixture
def district():
    made = {
        "strong": EnterpriseFactory(rd_expense_ratio=Decimal("6.5")),
        "middle": EnterpriseFactory(rd_expense_ratio=Decimal("4.0")),
    }
    match_profiles_refresh()
    return made


def rule(min_rd: int) -> dict:
    return {
        "all": [
            {"fact": "industry", "op": "under", "value": ["39"]},
            {"fact": "rd_expense_ratio", "op": "gte", "value": min_rd},
        ]
    }


@pytest.mark.usefixtures("celery_eager")
@pytest.mark.parametrize("path", ["nightly", "facts-changed-in-bulk"])
def test_the_bulk_paths_settle_a_new_version_once_for_the_catalogue(
    district, staff_editor, staff_reviewer, django_capture_on_commit_callbacks, monkeypatch, path
) -> None:
    """v2 tightens v1's rule and is published with its run held back: the nightly run (or a re-match of
    many enterprises, which decides every version for the district) decides it and settles v1's
    entitlements in one CATALOGUE_DECIDED, not one POLICY_VERSION_DECIDED per version."""
    v1 = policy_create(
        by=staff_editor,
        key="nightly-reconcile",
        title="示例",
        summary="示例",
        benefit_kind="subsidy",
        mode="exempt",
        effective_from=timezone.localdate().replace(year=2020),
        rule=rule(3),
        department="区科技创新局",
        contact_name="韩杰（示例）",
        contact_phone="0512-0000-0026（示例）",
    )
    for step in (policy_submit, policy_approve):
        step(version=v1, by=staff_editor if step is policy_submit else staff_reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        v1 = policy_publish(version=v1, by=staff_reviewer)
    assert Entitlement.objects.count() == 2
    draft = policy_version_create_draft(policy=v1.policy, by=staff_editor)
    policy_version_update(version=draft, by=staff_editor, rule=rule(5))
    policy_submit(version=draft, by=staff_editor)
    policy_approve(version=draft, by=staff_reviewer)
    with django_capture_on_commit_callbacks(execute=False):  # publish, but hold the bulk run back
        v2 = policy_publish(version=draft, by=staff_reviewer)
    other = PolicyVersionFactory(published=True, mode="exempt")  # nothing to settle there
    announced: list[tuple[str, dict]] = []
    for event in (events.POLICY_VERSION_DECIDED, events.CATALOGUE_DECIDED):
        handlers = list(events.HANDLERS[event.name])
        monkeypatch.setitem(
            events.HANDLERS,
            event.name,
            [lambda _n=event.name, **p: announced.append((_n, p)), *handlers],
        )

    if path == "nightly":
        match_everything()
    else:
        monkeypatch.setattr(matching_services, "BULK_THRESHOLD", 1)
        enterprises_match(enterprise_ids=[e.pk for e in district.values()])

    assert announced == [(events.CATALOGUE_DECIDED.name, {"version_ids": sorted([v2.pk, other.pk])})]
    assert MatchRecord.objects.filter(policy_version=v2, outcome="eligible").count() == 1
    state = sorted(Entitlement.objects.values_list("enterprise_id", "status", "policy_version_id", "review_version_id"))
    assert state == [
        (district["strong"].pk, Status.NOTIFIED, v2.pk, None),
        (district["middle"].pk, Status.PENDING_REVIEW, v1.pk, v2.pk),
    ]


def test_the_pre_check_probes_the_benefit_index_not_every_entitlement_of_the_policy() -> None:
    """The pre-check runs after every nightly run over the whole catalogue. Its EXISTS probes must go through
    (policy, period, version): a plain index on the policy alone led the planner to read, for each version,
    every entitlement of its policy (262 ms against 2–3 ms on the 100k × 500 bench), and so did one on the
    version alone for `policy_version_id < v.id`."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL plan")
    enterprises = [EnterpriseFactory() for _ in range(150)]
    ids = []
    for _ in range(4):
        version = PolicyVersionFactory(published=True, mode="exempt")
        Entitlement.objects.bulk_create(
            Entitlement(
                enterprise=e,
                policy_id=version.policy_id,
                period=version.benefit_period,
                policy_version=version,
                determined_at=timezone.now(),
            )
            for e in enterprises
        )
        ids.append(version.pk)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Entitlement._meta.db_table}")
        cursor.execute(f"ANALYZE {PolicyVersion._meta.db_table}")
    query = services._versions_to_settle_query(version_ids=ids)

    # A few hundred rows fit in a page or two, where a sequential scan is the planner's right choice; the
    # question is which index it takes where it takes one (the district's hundred thousand rows).
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {query.raw_query}", query.params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert plan.count("entitlement_benefit_ver_idx") == 2, plan  # both probes
    assert services.versions_with_entitlements_to_settle(version_ids=ids) == []  # each rests on its own version
