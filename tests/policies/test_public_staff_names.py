"""The public policy pages and API (what enterprises read) never name the staff who wrote, submitted or
approved a version."""

from __future__ import annotations

import json

import pytest

from portal.accounts.roles import Role
from tests.enterprises.factories import StaffUserFactory
from tests.policies.factories import PolicyFactory, PolicyVersionFactory

pytestmark = pytest.mark.django_db

NAMES = ("zhang_editor", "张编辑", "编辑 张", "wang_reviewer", "王审核", "审核 王")


def test_policy_pages_and_api_name_no_staff_member(client, api_client, alice) -> None:
    editor = StaffUserFactory(username="zhang_editor", last_name="张", first_name="编辑", roles=[Role.POLICY_EDITOR])
    reviewer = StaffUserFactory(username="wang_reviewer", last_name="王", first_name="审核", roles=[Role.REVIEWER])
    policy = PolicyFactory(created_by=editor)
    version = PolicyVersionFactory(policy=policy, published=True, submitted_by=editor, approved_by=reviewer)

    client.force_login(alice)
    api_client.force_authenticate(alice)
    pages = [client.get(url) for url in ("/policies/", f"/policies/{policy.pk}/")]
    apis = [
        api_client.get(url)
        for url in (
            "/api/v1/policies/",
            f"/api/v1/policies/{policy.pk}/",
            f"/api/v1/policies/{policy.pk}/versions/",
            f"/api/v1/policies/{policy.pk}/versions/{version.number}/",
        )
    ]
    for response in pages + apis:
        assert response.status_code == 200, response.request["PATH_INFO"]
        text = response.content.decode() if response in pages else json.dumps(response.json(), ensure_ascii=False)
        assert version.title in text
        for name in NAMES:
            assert name not in text, (response.request["PATH_INFO"], name)
    # alice is no staff member: the staff API refuses her
    assert api_client.get(f"/api/v1/staff/policies/{policy.pk}/").status_code in (403, 404)
