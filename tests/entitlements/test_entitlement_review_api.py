"""The entitlement API after a new version: 待复核 review by staff, the timeline's roles, the 追回 list;
strangers and enterprise users are refused and nothing changes."""

from __future__ import annotations

import pytest
from django.utils import timezone

from portal.entitlements import services
from portal.entitlements.models import Entitlement, EntitlementTransition
from tests.api.openapi import assert_matches_schema
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db

Status = Entitlement.Status


@pytest.fixture
def pending(alice) -> Entitlement:
    """alice's entitlement under v1, put to review by v2 (as entitlements_reconcile leaves it)."""
    v1 = PolicyVersionFactory(mode="exempt", status="retired")
    v2 = PolicyVersionFactory(policy=v1.policy, number=2, mode="exempt", published=True)
    entitlement = Entitlement.objects.create(
        enterprise=alice.enterprise,
        policy_version=v1,
        status=Status.PENDING_REVIEW,
        status_before_review=Status.CONFIRMED,
        review_version=v2,
        review_explanation={"status": "ineligible"},
        explanation={"status": "eligible"},
        determined_at=timezone.now(),
    )
    EntitlementTransition.objects.create(
        entitlement=entitlement, from_status=Status.CONFIRMED, to_status=Status.PENDING_REVIEW, at=timezone.now()
    )
    return entitlement


def review(api_client, pk: int, **body):
    return api_client.post(f"/api/v1/staff/entitlements/{pk}/review/", body, format="json")


def test_staff_keep_a_pending_entitlement_and_the_enterprise_sees_a_role_not_a_name(
    api_client, alice, staff_reviewer, pending
) -> None:
    api_client.force_authenticate(staff_reviewer)
    response = api_client.get("/api/v1/staff/entitlements/", {"status": "pending_review"})
    assert_matches_schema(response)
    listed = response.json()["results"]
    assert [(e["id"], e["review_version_number"], e["status_before_review"]) for e in listed] == [
        (pending.pk, 2, "confirmed")
    ]
    assert (
        listed[0]["explanation"]["status"] == "eligible" and listed[0]["review_explanation"]["status"] == "ineligible"
    )

    missing = review(api_client, pending.pk, decision="keep", reason="")
    assert missing.status_code == 400 and missing.json()["error"]["fields"][0]["field"] == "reason"
    assert_matches_schema(missing)
    wrong = review(api_client, pending.pk, decision="pay")
    assert wrong.status_code == 400 and wrong.json()["error"]["fields"][0]["field"] == "decision"
    assert Entitlement.objects.get(pk=pending.pk).status == Status.PENDING_REVIEW  # nothing half-written

    kept = review(api_client, pending.pk, decision="keep", reason="按第1版认定兑现")
    assert kept.status_code == 200 and kept.json()["status"] == "confirmed"
    assert kept.json()["transitions"][-1]["by_name"] == "reviewer"  # staff see who

    api_client.force_authenticate(alice)
    response = api_client.get(f"/api/v1/enterprises/{alice.enterprise.credit_code}/entitlements/")
    assert_matches_schema(response)
    mine = response.json()["results"]
    last = mine[0]["transitions"][-1]
    assert (last["by_role"], last["by_role_label"], last["by_name"]) == ("reviewer", "审核人", "")
    assert "reviewer" not in str(mine[0]["transitions"]).replace('"reviewer"', "").replace("'reviewer'", "")
    assert last["reason"] == "复核：维持认定。按第1版认定兑现。"
    assert "status_before_review" not in mine[0] and "recovery_flagged_at" not in mine[0]
    # A second review of a settled record is refused.
    api_client.force_authenticate(staff_reviewer)
    assert review(api_client, pending.pk, decision="revoke", reason="x").status_code == 409


def test_staff_revoke_a_pending_entitlement_with_a_reason(api_client, staff_data_officer, pending) -> None:
    api_client.force_authenticate(staff_data_officer)

    revoked = review(api_client, pending.pk, decision="revoke", reason="按第2版条件不符合")

    assert revoked.json()["status"] == "revoked" and revoked.json()["revoke_reason"] == "按第2版条件不符合"
    assert revoked.json()["transitions"][-1]["by_role"] == "data_officer"


def test_enterprise_users_and_strangers_cannot_review_or_read_the_recovery_list(
    api_client, alice, charlie, staff_editor, pending
) -> None:
    before = list(Entitlement.objects.values())
    for user in (alice, charlie):
        api_client.force_authenticate(user)
        assert review(api_client, pending.pk, decision="keep", reason="x").status_code == 403
        assert api_client.get("/api/v1/staff/entitlements/", {"recovery": "1"}).status_code == 403
        note = api_client.post(f"/api/v1/staff/entitlements/{pending.pk}/recovery-note/", {"note": "x"})
        assert note.status_code == 403
    api_client.force_authenticate(charlie)
    assert api_client.get(f"/api/v1/enterprises/{alice.enterprise.credit_code}/entitlements/").status_code == 404
    api_client.force_authenticate(staff_editor)  # staff, but neither 审核人 nor 数据专员
    refused = review(api_client, pending.pk, decision="keep", reason="x")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "staff_role_required"
    assert list(Entitlement.objects.values()) == before


def test_the_recovery_list_and_a_staff_note(api_client, alice, staff_reviewer) -> None:
    version = PolicyVersionFactory(mode="exempt", published=True)
    flagged = Entitlement.objects.create(
        enterprise=alice.enterprise,
        policy_version=version,
        status=Status.DISBURSED,
        recovery_flagged_at=timezone.now(),
        determined_at=timezone.now(),
    )
    api_client.force_authenticate(staff_reviewer)

    response = api_client.get("/api/v1/staff/entitlements/", {"recovery": "1"})
    assert_matches_schema(response)  # recovery_flagged_at is set here, null elsewhere
    listed = response.json()["results"]
    assert [e["id"] for e in listed] == [flagged.pk]
    empty = api_client.post(f"/api/v1/staff/entitlements/{flagged.pk}/recovery-note/", {"note": " "}, format="json")
    assert empty.status_code == 400 and empty.json()["error"]["fields"][0]["field"] == "note"
    noted = api_client.post(
        f"/api/v1/staff/entitlements/{flagged.pk}/recovery-note/", {"note": "已核查，无需追回"}, format="json"
    )
    assert noted.json()["status"] == "disbursed" and noted.json()["recovery_note"] == "已核查，无需追回"
    assert_matches_schema(noted)
    assert api_client.get("/api/v1/staff/entitlements/", {"recovery": "1"}).json()["results"] == []


def test_an_objection_kept_by_staff_is_not_the_enterprise_confirmation(alice, staff_reviewer) -> None:
    """Documented in services.entitlement_resolve: keeping an entitlement after an objection sends it
    back to 待确认; only the enterprise's own confirmation makes it payable."""
    version = PolicyVersionFactory(mode="exempt", published=True)
    entitlement = Entitlement.objects.create(
        enterprise=alice.enterprise, policy_version=version, status=Status.NOTIFIED, determined_at=timezone.now()
    )
    entitlement = services.entitlement_object(entitlement=entitlement, by=alice, reason="金额有误")

    kept = services.entitlement_resolve(
        entitlement=entitlement, by=staff_reviewer, decision="confirm", resolution="金额无误"
    )

    assert kept.status == Status.NOTIFIED
    with pytest.raises(Exception, match="不能改为"):
        services.entitlement_disburse(entitlement=kept, by=staff_reviewer)
    notice = alice.enterprise.notifications.filter(kind="entitlement_update").order_by("-id").first()
    assert "维持认定" in notice.body and "下一步：请在“免申即享兑现”中确认" in notice.body
    assert services.entitlement_confirm(entitlement=kept, by=alice).status == Status.CONFIRMED
