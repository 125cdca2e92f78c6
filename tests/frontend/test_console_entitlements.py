"""Staff console: entitlements and objections, and delivery status; only staff may use them."""

from __future__ import annotations

import pytest
from django.utils import timezone

from portal.entitlements.models import Entitlement
from portal.notifications.models import Delivery, Notification
from tests.frontend.support import exempt_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def objected(alice) -> Entitlement:
    return Entitlement.objects.create(
        enterprise=alice.enterprise,
        policy_version=exempt_policy(),
        status="objected",
        determined_at=timezone.now(),
        objection_reason="营业收入数据有误",
    )


def test_a_reviewer_sees_the_objection_and_resolves_it(client, staff_reviewer, objected) -> None:
    client.force_login(staff_reviewer)

    page = client.get("/console/entitlements/").content.decode()
    assert "营业收入数据有误" in page and "企业有异议（1）" in page
    missing = client.post(f"/console/entitlements/{objected.pk}/resolve-revoke/", {"text": ""}, follow=True)
    assert "请填写理由" in missing.content.decode()
    client.post(f"/console/entitlements/{objected.pk}/resolve-confirm/", {"text": "经核实数据无误"})

    objected.refresh_from_db()
    # Keeping the entitlement is not the enterprise's confirmation: back to 待确认 (services.entitlement_resolve).
    assert (objected.status, objected.resolution) == ("notified", "经核实数据无误")
    refused = client.post(f"/console/entitlements/{objected.pk}/disburse/", follow=True).content.decode()
    assert "不能改为" in refused  # only after the enterprise itself confirms
    objected.refresh_from_db()
    assert objected.status == "notified"


def test_an_editor_may_look_but_not_act(client, staff_editor, objected) -> None:
    client.force_login(staff_editor)

    assert client.get("/console/entitlements/").status_code == 200
    response = client.post(f"/console/entitlements/{objected.pk}/resolve-revoke/", {"text": "x"}, follow=True)
    assert "只有审核人或数据专员可以办理" in response.content.decode()
    objected.refresh_from_db()
    assert objected.status == "objected"


def test_enterprise_users_and_anonymous_are_refused(client, alice, objected) -> None:
    assert client.get("/console/entitlements/").status_code == 302  # to the login page
    client.force_login(alice)
    assert client.get("/console/entitlements/").status_code == 403
    assert client.get("/console/deliveries/").status_code == 403
    assert client.post(f"/console/entitlements/{objected.pk}/disburse/").status_code == 403


def test_dead_letters_are_listed_and_can_be_sent_again(client, staff_reviewer, alice) -> None:
    notification = Notification.objects.create(
        enterprise=alice.enterprise, kind="exempt_granted", dedupe_key="k", title="示例通知"
    )
    delivery = Delivery.objects.create(
        notification=notification,
        user=alice,
        channel="email",
        address="a@example.com",
        status="dead",
        attempts=5,
        last_error="SMTP 421",
        next_attempt_at=timezone.now(),
    )
    client.force_login(staff_reviewer)

    page = client.get("/console/deliveries/").content.decode()
    assert "示例通知" in page and "SMTP 421" in page
    client.post(f"/console/deliveries/{delivery.pk}/retry/")
    delivery.refresh_from_db()
    assert delivery.status != "dead"


def test_the_action_returns_to_the_list_and_never_to_a_given_url(client, staff_reviewer, objected) -> None:
    client.force_login(staff_reviewer)
    url = f"/console/entitlements/{objected.pk}/resolve-confirm/"

    kept = client.post(url, {"text": "经核实无误", "status": "objected"})
    assert kept["Location"] == "/console/entitlements/?status=objected"
    outside = client.post(url, {"text": "x", "status": "https://evil.example/"})
    assert outside["Location"] == "/console/entitlements/"
