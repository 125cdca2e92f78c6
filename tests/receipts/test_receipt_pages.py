"""Receipts on the pages and the API (own enterprise and staff; 404 for strangers), and the staff's recall list."""

from __future__ import annotations

import json

import pytest

from matching.core.receipt import rule_hash
from matching.services import match_profiles_refresh, policy_version_match
from portal.audit.models import AuditEvent
from portal.enterprises.services import enterprise_update_facts
from portal.entitlements.models import Entitlement
from portal.recall.models import RecallItem, RecallItemTransition
from portal.recall.services import recall_for_fact_correction
from portal.receipts.models import Receipt
from tests.enterprises.factories import OWNER, QualificationFactory
from tests.policies.factories import PolicyVersionFactory
from tests.receipts.test_receipt_writes import RULE

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(alice) -> dict[str, object]:
    QualificationFactory(enterprise=alice.enterprise)
    match_profiles_refresh()
    version = PolicyVersionFactory(published=True, mode="exempt", rule=RULE, title="示例免申即享政策")
    policy_version_match(version_id=version.pk)
    decision = Receipt.objects.get(kind="decision", enterprise=alice.enterprise)
    granted = Receipt.objects.get(kind="entitlement", enterprise=alice.enterprise)
    return {"version": version, "decision": decision, "granted": granted}


def _snapshot() -> list[tuple]:
    return list(Receipt.objects.order_by("pk").values_list("pk", "outcome", "status", "reason", "rule_hash"))


def test_the_enterprise_reads_and_downloads_its_receipts(client, alice, decided) -> None:
    client.force_login(alice)
    receipt = decided["decision"]
    page = client.get(f"/receipts/{receipt.pk}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert receipt.rule_hash in text and "huiqi-match/1" in text and "从业人员" in text and "打印" in text

    download = client.get(f"/receipts/{receipt.pk}/receipt.json")
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    document = json.loads(download.content)
    assert document["rule_hash"] == rule_hash(document["rule"]) and document["rule_hash_matches"]
    assert document["facts"]["employees"]["as_of"] and document["outcome"] == "eligible"

    listing = client.get(f"/enterprises/{alice.enterprise.credit_code}/receipts/")
    assert listing.status_code == 200 and f"查看 #{decided['granted'].pk}" in listing.content.decode()
    dashboard = client.get(f"/enterprises/{alice.enterprise.credit_code}/").content.decode()
    assert f"/receipts/{receipt.pk}/" in dashboard and f"/receipts/{decided['granted'].pk}/" in dashboard


def test_the_api_gives_the_enterprise_and_staff_the_receipts(api_client, alice, staff_auditor, decided) -> None:
    api_client.force_authenticate(alice)
    listed = api_client.get(f"/api/v1/enterprises/{alice.enterprise.credit_code}/receipts/")
    assert listed.status_code == 200
    assert {r["receipt_id"] for r in listed.json()["results"]} == {decided["decision"].pk, decided["granted"].pk}
    one = api_client.get(f"/api/v1/receipts/{decided['granted'].pk}/").json()
    assert one["basis_receipt_id"] == decided["decision"].pk and one["status"] == "notified"

    api_client.force_authenticate(staff_auditor)
    assert api_client.get(f"/api/v1/receipts/{decided['decision'].pk}/").status_code == 200


def test_strangers_get_404_on_every_receipt_url_and_change_nothing(client, api_client, charlie, decided) -> None:
    before = _snapshot()
    receipt = decided["decision"]
    code = receipt.enterprise.credit_code
    client.force_login(charlie)
    for url in (f"/receipts/{receipt.pk}/", f"/receipts/{receipt.pk}/receipt.json", f"/enterprises/{code}/receipts/"):
        assert client.get(url).status_code == 404, url
    api_client.force_authenticate(charlie)
    for url in (f"/api/v1/receipts/{receipt.pk}/", f"/api/v1/enterprises/{code}/receipts/"):
        assert api_client.get(url).status_code == 404, url
    api_client.force_authenticate(None)
    assert api_client.get(f"/api/v1/receipts/{receipt.pk}/").status_code in (401, 403)
    client.logout()
    assert client.get(f"/receipts/{receipt.pk}/").status_code == 302  # to the sign-in page
    assert _snapshot() == before


@pytest.fixture
def recalled(alice, decided) -> RecallItem:
    """The department corrects alice's employees (150 → 60): the entitlement should not have been granted."""
    enterprise_update_facts(enterprise=alice.enterprise, facts={"employees": 60}, source=OWNER["employees"])
    correction = recall_for_fact_correction(enterprise_ids=[alice.enterprise.pk], facts=["employees"], by=None)
    assert correction is not None
    return RecallItem.objects.get(correction=correction)


def test_staff_see_the_recall_item_side_by_side_and_decide_it_with_a_reason(client, staff_reviewer, recalled) -> None:
    assert recalled.kind == "recovery" and recalled.old_receipt.outcome == "eligible"
    assert recalled.entitlement == Entitlement.objects.get() and not recalled.disbursed
    client.force_login(staff_reviewer)
    page = client.get("/console/recall/").content.decode()
    assert "追回复核" in page and f"认定依据 #{recalled.old_receipt_id}" in page and "重新判定" in page

    refused = client.post(f"/console/recall/{recalled.pk}/decide/", {"decision": "approve", "reason": " "}, follow=True)
    assert "请填写理由" in refused.content.decode()
    assert RecallItem.objects.get(pk=recalled.pk).status == "pending"  # nothing half-written

    client.post(f"/console/recall/{recalled.pk}/decide/", {"decision": "approve", "reason": "经核实从业人员不足"})
    item = RecallItem.objects.get(pk=recalled.pk)
    assert (item.status, item.reason) == ("approved", "经核实从业人员不足")
    assert RecallItemTransition.objects.get(item=item).by == staff_reviewer
    assert AuditEvent.objects.filter(action="recallitem.status", object_id=str(item.pk)).exists()
    assert Entitlement.objects.get().status == "notified"  # nothing revoked or clawed back by itself


def test_the_recall_list_is_staff_only_and_refusals_change_nothing(
    client, alice, charlie, staff_auditor, recalled
) -> None:
    for user in (alice, charlie):
        client.force_login(user)
        assert client.get("/console/recall/").status_code == 403
        response = client.post(f"/console/recall/{recalled.pk}/decide/", {"decision": "approve", "reason": "x"})
        assert response.status_code == 403
    client.force_login(staff_auditor)  # staff who look but do not decide
    assert "仅审核人或数据专员可以处理" in client.get("/console/recall/").content.decode()
    client.post(f"/console/recall/{recalled.pk}/decide/", {"decision": "dismiss", "reason": "x"})
    assert RecallItem.objects.get(pk=recalled.pk).status == "pending"
    assert not RecallItemTransition.objects.exists()
