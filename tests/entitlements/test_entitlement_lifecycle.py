"""Entitlement lifecycle and API: who may confirm, object, resolve, disburse and revoke; strangers get 404."""

from __future__ import annotations

import pytest
from django.utils import timezone

from portal.entitlements.models import Entitlement
from portal.notifications.models import Notification
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def entitlement(alice) -> Entitlement:
    version = PolicyVersionFactory(published=True, mode="exempt")
    return Entitlement.objects.create(
        enterprise=alice.enterprise,
        policy_version=version,
        status=Entitlement.Status.NOTIFIED,
        determined_at=timezone.now(),
    )


def url(e: Entitlement, action: str = "") -> str:
    base = f"/api/v1/enterprises/{e.enterprise.credit_code}/entitlements/"
    return f"{base}{e.pk}/{action}/" if action else base


def test_the_enterprise_confirms_and_staff_disburse(api_client, alice, staff_reviewer, entitlement) -> None:
    api_client.force_authenticate(alice)
    listed = api_client.get(url(entitlement))
    assert [e["id"] for e in listed.json()["results"]] == [entitlement.pk]

    confirmed = api_client.post(url(entitlement, "confirm"))
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"

    api_client.force_authenticate(staff_reviewer)
    disbursed = api_client.post(f"/api/v1/staff/entitlements/{entitlement.pk}/disburse/")
    assert disbursed.json()["status"] == "disbursed"
    steps = [(t["from_status"], t["to_status"]) for t in disbursed.json()["transitions"]]
    assert steps == [("notified", "confirmed"), ("confirmed", "disbursed")]
    kinds = set(Notification.objects.filter(enterprise=alice.enterprise).values_list("dedupe_key", flat=True))
    assert kinds == {f"ent{entitlement.pk}:confirmed", f"ent{entitlement.pk}:disbursed"}


def test_an_objection_needs_a_reason_and_staff_resolve_it(api_client, alice, staff_reviewer, entitlement) -> None:
    api_client.force_authenticate(alice)
    missing = api_client.post(url(entitlement, "object"), {"reason": " "}, format="json")
    assert missing.status_code == 400 and missing.json()["error"]["fields"][0]["field"] == "reason"
    assert Entitlement.objects.get(pk=entitlement.pk).status == "notified"  # nothing half-written

    objected = api_client.post(url(entitlement, "object"), {"reason": "营业收入数据有误"}, format="json")
    assert objected.json()["status"] == "objected"

    api_client.force_authenticate(staff_reviewer)
    resolved = api_client.post(
        f"/api/v1/staff/entitlements/{entitlement.pk}/resolve/",
        {"decision": "revoke", "resolution": "经核实不符合条件"},
        format="json",
    )
    assert resolved.json()["status"] == "revoked"
    assert resolved.json()["revoke_reason"] == "经核实不符合条件"


def test_disbursing_before_confirmation_is_refused(api_client, staff_reviewer, entitlement) -> None:
    api_client.force_authenticate(staff_reviewer)

    response = api_client.post(f"/api/v1/staff/entitlements/{entitlement.pk}/disburse/")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"


def test_a_stranger_gets_404_everywhere(api_client, charlie, entitlement) -> None:
    api_client.force_authenticate(charlie)

    assert api_client.get(url(entitlement)).status_code == 404
    assert api_client.post(url(entitlement, "confirm")).status_code == 404
    assert api_client.post(url(entitlement, "object"), {"reason": "x"}, format="json").status_code == 404
    assert api_client.post(f"/api/v1/staff/entitlements/{entitlement.pk}/disburse/").status_code == 403
    assert Entitlement.objects.get(pk=entitlement.pk).status == "notified"


def test_staff_cannot_confirm_for_the_enterprise_and_editors_cannot_disburse(
    api_client, staff_reviewer, staff_editor, entitlement
) -> None:
    api_client.force_authenticate(staff_reviewer)
    assert api_client.post(url(entitlement, "confirm")).status_code == 403
    api_client.force_authenticate(staff_editor)
    assert (
        api_client.post(
            f"/api/v1/staff/entitlements/{entitlement.pk}/revoke/", {"reason": "x"}, format="json"
        ).status_code
        == 403
    )


def test_staff_list_filters_by_status_with_constant_queries(
    api_client, staff_reviewer, entitlement, django_assert_max_num_queries
) -> None:
    api_client.force_authenticate(staff_reviewer)
    with django_assert_max_num_queries(8):
        response = api_client.get("/api/v1/staff/entitlements/", {"status": "notified"})
    assert [e["id"] for e in response.json()["results"]] == [entitlement.pk]
    assert api_client.get("/api/v1/staff/entitlements/", {"status": "objected"}).json()["results"] == []


def test_staff_dismiss_an_objection_and_the_entitlement_stands(api_client, alice, staff_reviewer, entitlement) -> None:
    api_client.force_authenticate(alice)
    api_client.post(url(entitlement, "object"), {"reason": "金额有误"}, format="json")
    assert api_client.post(url(entitlement, "confirm")).status_code == 409  # only staff settle an objection

    api_client.force_authenticate(staff_reviewer)
    resolved = api_client.post(
        f"/api/v1/staff/entitlements/{entitlement.pk}/resolve/",
        {"decision": "confirm", "resolution": "经核实无误"},
        format="json",
    )

    # Not the enterprise's confirmation (see services.entitlement_resolve): back to 待确认, and only
    # the enterprise's own confirmation moves it on, so disbursing now is refused.
    assert resolved.status_code == 200 and resolved.json()["status"] == "notified"
    assert api_client.post(f"/api/v1/staff/entitlements/{entitlement.pk}/disburse/").status_code == 409
    api_client.force_authenticate(alice)
    assert api_client.post(url(entitlement, "confirm")).json()["status"] == "confirmed"
