"""Django admin: versions are read-only there, and the workflow actions go through the services."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from policies import services
from policies.models import PolicyVersion

pytestmark = pytest.mark.django_db

Status = PolicyVersion.Status
CHANGELIST = "/admin/policies/policyversion/"


@pytest.fixture
def admin_client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def superuser():
    return get_user_model().objects.create_superuser("root-admin", "root@example.com", "x")


def run_action(client, action: str, version: PolicyVersion):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [version.pk]}, follow=True)


def test_actions_run_the_workflow_and_refuse_self_review(make_draft, staff_editor, superuser, admin_client_for):
    client = admin_client_for(superuser)
    mine = make_draft(by=superuser)
    theirs = make_draft(by=staff_editor)

    run_action(client, "submit", mine)
    services.policy_submit(version=theirs, by=staff_editor)
    refused = run_action(client, "approve", mine)
    run_action(client, "approve", theirs)
    run_action(client, "publish", theirs)

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == Status.IN_REVIEW and mine.approved_by is None
    assert "不能审核自己编写或提交的政策" in refused.content.decode()
    assert theirs.status == Status.PUBLISHED and theirs.approved_by == superuser
    assert list(theirs.transitions.values_list("action", flat=True)) == ["create", "submit", "approve", "publish"]

    run_action(client, "retire", theirs)
    theirs.refresh_from_db()
    assert theirs.status == Status.RETIRED


def test_change_page_shows_the_history_read_only(make_draft, staff_editor, superuser, admin_client_for):
    version = make_draft()
    services.policy_submit(version=version, by=staff_editor, comment="请审核这一版")
    client = admin_client_for(superuser)

    page = client.get(f"{CHANGELIST}{version.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "请审核这一版" in html and "流转记录" in html
    assert 'name="title"' not in html  # no editable content field
    assert client.get(CHANGELIST).status_code == 200
    assert client.get("/admin/policies/policy/").status_code == 200
