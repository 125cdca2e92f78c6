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
