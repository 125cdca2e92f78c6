"""The workspace shows 免申即享 entitlements; the enterprise confirms or objects; strangers get 404."""

from __future__ import annotations

import pytest
from django.utils import timezone

from portal.entitlements.models import Entitlement
from tests.frontend.support import exempt_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def entitlement(alice) -> Entitlement:
    return Entitlement.objects.create(
        enterprise=alice.enterprise, policy_version=exempt_policy(), status="notified", determined_at=timezone.now()
    )


def test_dashboard_lists_the_entitlement_with_actions(client, alice, entitlement) -> None:
    client.force_login(alice)

    page = client.get(f"/enterprises/{alice.enterprise.credit_code}/").content.decode()

    assert "高新技术企业奖励（示例）" in page and "确认兑现" in page and "提出异议" in page


def test_confirm_and_object(client, alice, bob, entitlement) -> None:
    client.force_login(alice)
    base = f"/enterprises/{alice.enterprise.credit_code}/entitlements/{entitlement.pk}"

    empty = client.post(f"{base}/object/", {"reason": ""}, follow=True)
    assert "请填写理由" in empty.content.decode()
    assert Entitlement.objects.get(pk=entitlement.pk).status == "notified"
    client.post(f"{base}/confirm/")
    assert Entitlement.objects.get(pk=entitlement.pk).status == "confirmed"


def test_a_stranger_gets_404_and_changes_nothing(client, charlie, entitlement) -> None:
    client.force_login(charlie)
    base = f"/enterprises/{entitlement.enterprise.credit_code}/entitlements/{entitlement.pk}"

    assert client.post(f"{base}/confirm/").status_code == 404
    assert client.get(f"/enterprises/{entitlement.enterprise.credit_code}/").status_code == 404
    assert Entitlement.objects.get(pk=entitlement.pk).status == "notified"


def test_an_unknown_action_is_404_and_changes_nothing(client, alice, entitlement) -> None:
    client.force_login(alice)

    response = client.post(f"/enterprises/{alice.enterprise.credit_code}/entitlements/{entitlement.pk}/delete/")

    assert response.status_code == 404
    assert Entitlement.objects.get(pk=entitlement.pk).status == "notified"
