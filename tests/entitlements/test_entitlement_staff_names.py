"""The enterprise's pages, API and inbox after staff act on its entitlement: the role (审核人), never the staff
member's name or user name. Staff pages still say who did it."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from portal.accounts.roles import Role
from portal.entitlements.models import Entitlement, EntitlementTransition
from tests.enterprises.factories import StaffUserFactory
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db

Status = Entitlement.Status


@pytest.fixture
def reviewed(api_client, alice) -> Entitlement:
    """alice's entitlement put to review by a new version, then kept by 李审核 (user name li_reviewer)."""
    v1 = PolicyVersionFactory(mode="exempt", status="retired")
    v2 = PolicyVersionFactory(policy=v1.policy, number=2, mode="exempt", published=True)
    entitlement = Entitlement.objects.create(
        enterprise=alice.enterprise,
        policy_version=v1,
        status=Status.PENDING_REVIEW,
        status_before_review=Status.CONFIRMED,
        review_version=v2,
        # no explanations: the pages would render them, and only the timeline is under test here
        review_explanation={},
        explanation={},
        determined_at=timezone.now(),
    )
    EntitlementTransition.objects.create(
        entitlement=entitlement, from_status=Status.CONFIRMED, to_status=Status.PENDING_REVIEW, at=timezone.now()
    )
    reviewer = StaffUserFactory(username="li_reviewer", last_name="李", first_name="审核", roles=[Role.REVIEWER])
    api_client.force_authenticate(reviewer)
    kept = api_client.post(
        f"/api/v1/staff/entitlements/{entitlement.pk}/review/",
        {"decision": "keep", "reason": "按第1版认定兑现"},
        format="json",
    )
    assert kept.status_code == 200 and kept.json()["status"] == "confirmed"
    api_client.force_authenticate(None)
    return entitlement


def test_the_enterprise_dashboard_inbox_and_api_show_the_role_not_the_staff_member(
    client, api_client, alice, reviewed
) -> None:
    client.force_login(alice)
    code = alice.enterprise.credit_code
    for url in (f"/enterprises/{code}/", f"/enterprises/{code}/inbox/"):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "李审核" not in body and "审核 李" not in body and "li_reviewer" not in body, url
    dashboard = client.get(f"/enterprises/{code}/").content.decode()
    assert "审核人" in dashboard and "按第1版认定兑现" in dashboard

    api_client.force_authenticate(alice)
    for url in (f"/api/v1/enterprises/{code}/entitlements/", "/api/v1/notifications/"):
        text = json.dumps(api_client.get(url).json(), ensure_ascii=False)
        assert "李审核" not in text and "li_reviewer" not in text, url


def test_staff_still_see_who_acted(client, staff_auditor, reviewed) -> None:
    client.force_login(staff_auditor)
    body = client.get("/console/entitlements/?status=confirmed").content.decode()
    assert "li_reviewer" in body or "李审核" in body or "审核 李" in body
