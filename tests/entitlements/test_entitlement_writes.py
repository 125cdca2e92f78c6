"""The set-based entitlement writes of a 免申即享 fan-out: once per (enterprise, benefit), each with its audit trail."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from matching.models import MatchRecord
from portal.entitlements import services
from portal.entitlements.models import Entitlement, EntitlementTransition
from tests.enterprises.factories import EnterpriseFactory
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db

Status = Entitlement.Status


@pytest.fixture
def version():
    return PolicyVersionFactory(published=True, mode="exempt", rule={"fact": "dishonest", "op": "eq", "value": False})


def trail(entitlement: Entitlement) -> list[tuple[str, str, object]]:
    return list(entitlement.transitions.order_by("at", "id").values_list("from_status", "to_status", "by"))


def test_each_new_entitlement_gets_determined_then_notified_in_order(version) -> None:
    enterprises = [EnterpriseFactory() for _ in range(3)]
    ids = [e.pk for e in enterprises]

    created = services._entitlements_create(version=version, enterprise_ids=[*ids, ids[0]])  # a repeat in the input

    assert sorted(created) == sorted(ids)
    assert sorted(Entitlement.objects.values_list("enterprise_id", flat=True)) == sorted(ids)
    for entitlement in Entitlement.objects.all():
        assert entitlement.status == Status.NOTIFIED and entitlement.policy_version_id == version.pk
        assert entitlement.objection_reason == entitlement.resolution == entitlement.revoke_reason == ""
        assert trail(entitlement) == [("", Status.DETERMINED, None), (Status.DETERMINED, Status.NOTIFIED, None)]


def test_running_again_adds_neither_entitlements_nor_transitions(version) -> None:
    first, second = EnterpriseFactory(), EnterpriseFactory()
    services._entitlements_create(version=version, enterprise_ids=[first.pk])
    confirmed = Entitlement.objects.get()
    Entitlement.objects.filter(pk=confirmed.pk).update(status=Status.CONFIRMED)

    created = services._entitlements_create(version=version, enterprise_ids=[first.pk, second.pk])

    assert created == [second.pk]  # only the second enterprise is new
    assert Entitlement.objects.count() == 2 and EntitlementTransition.objects.count() == 4
    assert Entitlement.objects.get(pk=confirmed.pk).status == Status.CONFIRMED  # the existing one is left alone
    assert services._entitlements_create(version=version, enterprise_ids=[first.pk, second.pk]) == []
    assert EntitlementTransition.objects.count() == 4


def test_nothing_to_grant_writes_nothing(version) -> None:
    assert services._entitlements_create(version=version, enterprise_ids=[]) == []
    assert not Entitlement.objects.exists()


def test_explanations_follow_the_eligible_verified_record_except_once_disbursed_or_revoked(version) -> None:
    explained, unexplained, restated, paid, closed, lapsed = (EnterpriseFactory() for _ in range(6))
    ids = [e.pk for e in (explained, unexplained, restated, paid, closed, lapsed)]
    services._entitlements_create(version=version, enterprise_ids=ids)
    earlier = {"status": "earlier"}
    Entitlement.objects.filter(enterprise__in=[restated, paid, closed, lapsed]).update(explanation=earlier)
    Entitlement.objects.filter(enterprise=paid).update(status=Entitlement.Status.DISBURSED)
    Entitlement.objects.filter(enterprise=closed).update(status=Entitlement.Status.REVOKED)
    for enterprise, explanation, outcome in (
        (explained, {"status": "eligible"}, "eligible"),
        (unexplained, None, "eligible"),
        (restated, {"status": "new"}, "eligible"),
        (paid, {"status": "new"}, "eligible"),
        (closed, {"status": "new"}, "eligible"),
        (lapsed, {"status": "ineligible"}, "ineligible"),  # no longer a basis for a benefit
    ):
        MatchRecord.objects.create(
            enterprise=enterprise,
            policy_version=version,
            outcome=outcome,
            verified=True,
            explanation=explanation,
            first_decided_at=timezone.now(),
            decided_at=timezone.now(),
        )

    # By default (after creating entitlements) only a missing one is filled.
    assert services.entitlement_explanations_sync(version_id=version.pk, enterprise_ids=ids) == 1
    Entitlement.objects.filter(enterprise=explained).update(explanation=None)
    # Restated explanations: every live entitlement follows its eligible and verified record.
    assert services.entitlement_explanations_sync(version_id=version.pk, enterprise_ids=ids, refresh=True) == 2

    explanations = dict(Entitlement.objects.values_list("enterprise_id", "explanation"))
    assert explanations == {
        explained.pk: {"status": "eligible"},
        unexplained.pk: None,
        restated.pk: {"status": "new"},
        paid.pk: earlier,
        closed.pk: earlier,
        lapsed.pk: earlier,
    }
    assert services.entitlement_explanations_sync(version_id=version.pk, enterprise_ids=ids, refresh=True) == 0


def test_the_grant_is_one_statement_on_postgresql(version, django_assert_max_num_queries) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the set-based path is PostgreSQL's")
    ids = [EnterpriseFactory().pk for _ in range(50)]
    with django_assert_max_num_queries(1):
        assert services._entitlements_create(version=version, enterprise_ids=ids) == sorted(ids)
    assert EntitlementTransition.objects.count() == 100


def _two_versions_with_records(version):
    """Two 免申即享 versions, one enterprise entitled under both: each (version, enterprise) has its own
    record's explanation, and every entitlement an older one."""
    other = PolicyVersionFactory(published=True, mode="exempt", rule={"fact": "dishonest", "op": "eq", "value": False})
    both, first_only, second_only = EnterpriseFactory(), EnterpriseFactory(), EnterpriseFactory()
    entitled = {version: [both, first_only], other: [both, second_only]}
    for each, enterprises in entitled.items():
        services._entitlements_create(version=each, enterprise_ids=[e.pk for e in enterprises])
        for enterprise in enterprises:
            MatchRecord.objects.create(
                enterprise=enterprise,
                policy_version=each,
                outcome="eligible",
                verified=True,
                explanation={"status": "eligible", "for": [each.pk, enterprise.pk]},
                first_decided_at=timezone.now(),
                decided_at=timezone.now(),
            )
    Entitlement.objects.update(explanation={"status": "earlier"})
    return other, both, first_only, second_only


def _explanations() -> dict[tuple[int, int], object]:
    return {
        (version_id, enterprise_id): explanation
        for version_id, enterprise_id, explanation in Entitlement.objects.values_list(
            "policy_version_id", "enterprise_id", "explanation"
        )
    }


def test_several_versions_take_their_own_records_explanations_in_one_statement(
    version, django_assert_num_queries
) -> None:
    other, both, first_only, second_only = _two_versions_with_records(version)

    # `both` is named for the first version only: its entitlement under the second keeps the older basis.
    statements = 1 if connection.vendor == "postgresql" else 6  # off PostgreSQL: a read pair and an update per version
    with django_assert_num_queries(statements):
        written = services.entitlement_explanations_sync_many(
            enterprise_ids_by_version={version.pk: [both.pk, first_only.pk], other.pk: [second_only.pk]},
            refresh=True,
        )

    assert written == 3
    assert _explanations() == {
        (version.pk, both.pk): {"status": "eligible", "for": [version.pk, both.pk]},
        (version.pk, first_only.pk): {"status": "eligible", "for": [version.pk, first_only.pk]},
        (other.pk, both.pk): {"status": "earlier"},
        (other.pk, second_only.pk): {"status": "eligible", "for": [other.pk, second_only.pk]},
    }


def test_restated_explanations_of_many_versions_reach_their_entitlements_in_one_statement(version) -> None:
    """MATCH_EXPLANATIONS_FILLED emitted for many versions at once (the nightly run's `decided_record`) reaches
    the entitlements through the handler's many-at-once form, with the table's fixed `refresh`."""
    from django.test.utils import CaptureQueriesContext

    from portal import events

    other, both, first_only, second_only = _two_versions_with_records(version)

    with CaptureQueriesContext(connection) as queries:
        events.emit_many(
            events.MATCH_EXPLANATIONS_FILLED,
            [
                {"version_id": version.pk, "enterprise_ids": [both.pk, first_only.pk]},
                {"version_id": other.pk, "enterprise_ids": [both.pk, second_only.pk]},
            ],
        )

    # refresh: an explanation already there is replaced by the record's (without it, only empty ones are).
    assert all(e == {"status": "eligible", "for": list(key)} for key, e in _explanations().items())
    updates = [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    if connection.vendor == "postgresql":
        assert len(updates) == 1
