"""The data migration to one entitlement per (enterprise, policy, period): existing rows get their policy
and period; two versions' entitlements to the same benefit are merged, the extra one revoked when
nothing was paid, or listed as a possible 追回 case when it was already disbursed (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.support.services import need_postgres

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("entitlements", "0001_initial")]
AFTER = [("entitlements", "0004_entitlement_per_benefit_constraints")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def migrate_to_latest() -> None:
    """Back to every app's latest migration: going back to 0001 also unapplied the apps that depend on
    entitlements (and its later migrations), and the tests after this one need the whole schema."""
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_duplicates_from_two_versions_are_merged_never_paid_twice() -> None:
    need_postgres()
    from tests.enterprises.factories import EnterpriseFactory
    from tests.policies.factories import PolicyVersionFactory

    a, b = EnterpriseFactory(), EnterpriseFactory()
    v1 = PolicyVersionFactory(mode="exempt", status="retired")
    v2 = PolicyVersionFactory(policy=v1.policy, number=2, mode="exempt", published=True)
    other = PolicyVersionFactory(mode="exempt", published=True)
    try:
        old = migrate(BEFORE)
        Entitlement = old.get_model("entitlements", "Entitlement")
        now = timezone.now()

        def make(enterprise, version, status):
            return Entitlement.objects.create(
                enterprise_id=enterprise.pk, policy_version_id=version.pk, status=status, determined_at=now
            ).pk

        a_v1 = make(a, v1, "confirmed")  # kept: further along
        a_v2 = make(a, v2, "notified")  # the duplicate the bug created: revoked, never payable
        b_v1 = make(b, v1, "disbursed")
        b_v2 = make(b, v2, "disbursed")  # already paid twice: a possible 追回 case
        single = make(a, other, "notified")

        new = migrate(AFTER)
        rows = {e.pk: e for e in new.get_model("entitlements", "Entitlement").objects.all()}
        assert rows[single].policy_id == other.policy_id and rows[single].period == "once"
        assert rows[single].duplicate_of_id is None and rows[single].status == "notified"
        assert (rows[a_v1].status, rows[a_v1].duplicate_of_id) == ("confirmed", None)
        assert (rows[a_v2].status, rows[a_v2].duplicate_of_id) == ("revoked", a_v1)
        assert "重复" in rows[a_v2].revoke_reason
        assert (rows[b_v1].status, rows[b_v1].duplicate_of_id, rows[b_v1].recovery_flagged_at) == (
            "disbursed",
            None,
            None,
        )
        assert rows[b_v2].status == "disbursed" and rows[b_v2].duplicate_of_id == b_v1
        assert rows[b_v2].recovery_flagged_at is not None and "追回" in rows[b_v2].recovery_note
        Transition = new.get_model("entitlements", "EntitlementTransition")
        assert list(Transition.objects.filter(entitlement_id=a_v2).values_list("from_status", "to_status")) == [
            ("notified", "revoked")
        ]
    finally:
        migrate_to_latest()
