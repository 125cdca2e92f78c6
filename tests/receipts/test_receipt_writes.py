"""Receipts are written with every decision that changes, on every path, and can never change."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from matching.core.receipt import ENGINE_VERSION, rule_hash
from matching.services import enterprise_match, match_everything, match_profiles_refresh, policy_version_match
from portal.enterprises.services import enterprise_update_facts
from portal.entitlements.models import Entitlement
from portal.entitlements.services import entitlement_confirm
from portal.receipts.models import Receipt, ReceiptImmutable
from tests.enterprises.factories import OWNER, EnterpriseFactory, EnterpriseUserFactory, QualificationFactory
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db

RULE = {
    "all": [
        {"fact": "industry", "op": "under", "value": ["39"]},
        {"fact": "qualification", "op": "has", "value": "high_tech"},
        {"fact": "employees", "op": "gte", "value": 100},
    ]
}


def district() -> dict[str, object]:
    eligible = EnterpriseFactory(industry_code="3973", employees=150)
    QualificationFactory(enterprise=eligible)
    unknown = EnterpriseFactory(industry_code="3973", employees=None)
    QualificationFactory(enterprise=unknown)
    outside = EnterpriseFactory(industry_code="6511")
    match_profiles_refresh()
    version = PolicyVersionFactory(published=True, mode="exempt", rule=RULE)
    return {"eligible": eligible, "unknown": unknown, "outside": outside, "version": version}


def test_the_bulk_path_writes_one_receipt_per_changed_decision_with_its_facts() -> None:
    d = district()
    policy_version_match(version_id=d["version"].pk)

    decisions = {r.enterprise_id: r for r in Receipt.objects.filter(kind="decision")}
    assert set(decisions) == {d["eligible"].pk, d["unknown"].pk}  # the always-ineligible one changed nothing
    receipt = decisions[d["eligible"].pk]
    assert (receipt.outcome, receipt.verified, receipt.previous_outcome) == ("eligible", True, "")
    assert receipt.rule_hash == rule_hash(RULE) and len(receipt.rule_hash) == 64
    assert receipt.engine_version == ENGINE_VERSION
    assert receipt.match_record_id == d["eligible"].match_records.get().pk
    assert set(receipt.facts) == {"industry", "qualification", "employees"}
    employees = receipt.facts["employees"]
    assert employees["source"] and employees["as_of"] and employees["value"].startswith("150")
    assert receipt.explanation["status"] == "eligible"
    # The entitlement created with the decision rests on it.
    granted = Receipt.objects.get(kind="entitlement")
    entitlement = Entitlement.objects.get()
    assert (granted.entitlement_id, granted.basis_id, granted.status) == (entitlement.pk, receipt.pk, "notified")
    assert granted.facts == receipt.facts and granted.rule_hash == receipt.rule_hash

    before = Receipt.objects.count()
    policy_version_match(version_id=d["version"].pk)  # nothing changed: no receipt
    match_everything()
    assert Receipt.objects.count() == before


def test_a_fact_change_writes_a_receipt_on_the_incremental_path_only_when_the_outcome_changes() -> None:
    d = district()
    policy_version_match(version_id=d["version"].pk)
    before_decisions = Receipt.objects.filter(kind="decision").count()
    enterprise = d["eligible"]

    enterprise_update_facts(enterprise=enterprise, facts={"employees": 60}, source=OWNER["employees"])
    enterprise_match(enterprise_id=enterprise.pk)
    latest = Receipt.objects.filter(enterprise=enterprise, kind="decision").order_by("-id").first()
    assert latest is not None
    assert (latest.outcome, latest.previous_outcome) == ("ineligible", "eligible")
    assert latest.facts["employees"]["value"].startswith("60")
    # The entitlement went to review (a new decision under the same version is not a reconcile): at least the
    # decision's receipt was written, and only one.
    assert Receipt.objects.filter(kind="decision").count() == before_decisions + 1

    enterprise_match(enterprise_id=enterprise.pk)  # again: nothing changed
    assert Receipt.objects.filter(kind="decision").count() == before_decisions + 1


def test_each_status_change_of_an_entitlement_has_its_receipt() -> None:
    d = district()
    policy_version_match(version_id=d["version"].pk)
    entitlement = Entitlement.objects.get()
    user = EnterpriseUserFactory(enterprise=d["eligible"])
    entitlement_confirm(entitlement=entitlement, by=user)
    confirmed = Receipt.objects.filter(entitlement_id=entitlement.pk).order_by("-id").first()
    assert confirmed is not None
    assert (confirmed.previous_status, confirmed.status, confirmed.by_role) == ("notified", "confirmed", "enterprise")
    assert confirmed.basis is not None and confirmed.basis.kind == "decision"


def test_receipts_refuse_every_change() -> None:
    d = district()
    policy_version_match(version_id=d["version"].pk)
    receipt = Receipt.objects.filter(kind="decision").first()
    assert receipt is not None
    receipt.reason = "改一下"
    with pytest.raises(ReceiptImmutable):
        receipt.save()
    with pytest.raises(ReceiptImmutable):
        receipt.delete()
    with pytest.raises(ReceiptImmutable):
        Receipt.objects.filter(pk=receipt.pk).update(reason="改一下")
    with pytest.raises(ReceiptImmutable):
        Receipt.objects.filter(pk=receipt.pk).delete()
    table = Receipt._meta.db_table
    statements = [f"UPDATE {table} SET reason = 'x' WHERE id = %s"]
    if connection.vendor == "postgresql":
        statements.append(f"DELETE FROM {table} WHERE id = %s")
    for sql in statements:
        with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [receipt.pk])
    stored = Receipt.objects.get(pk=receipt.pk)
    assert stored.reason == "" and stored.outcome == receipt.outcome
