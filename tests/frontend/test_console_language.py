"""Console wording and queues: 待我审核, match-change labels, rule problems as 第N个条件, the 失信 row default,
and the generated 政策标识 (service and API)."""

from __future__ import annotations

import json
import re

import pytest
from rest_framework.test import APIClient

from frontend.rule_builder import path_words
from matching.models import MatchRun
from policies import services
from policies.models import Policy, PolicyVersion
from portal.accounts.roles import Role
from tests.enterprises.factories import StaffUserFactory
from tests.policies.conftest import version_content
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db

Status = PolicyVersion.Status


def test_review_queue_lists_what_the_reviewer_may_act_on_and_not_their_own(client, staff_reviewer) -> None:
    both = StaffUserFactory(username="bianji", roles=[Role.POLICY_EDITOR, Role.REVIEWER])
    own = PolicyVersionFactory(title="自己写的（示例）", status=Status.IN_REVIEW, author=both, submitted_by=both)
    other = PolicyVersionFactory(title="别人写的（示例）", status=Status.IN_REVIEW)
    approved = PolicyVersionFactory(title="已审核（示例）", status=Status.IN_REVIEW, approved_by=staff_reviewer)
    PolicyVersionFactory(title="还是草稿（示例）")

    client.force_login(both)
    html = client.get("/console/reviews/").content.decode()
    approve_table = html.split('id="review-approve"')[1].split("</table>")[0]
    publish_table = html.split('id="review-publish"')[1].split("</table>")[0]

    assert other.title in approve_table and own.title not in approve_table  # four eyes
    assert approved.title in publish_table and approved.title not in approve_table
    assert "还是草稿" not in html
    client.force_login(staff_reviewer)
    assert own.title in client.get("/console/reviews/").content.decode()  # another reviewer may review it


def test_review_queue_for_a_non_reviewer_and_a_stranger(client, staff_editor, alice) -> None:
    PolicyVersionFactory(title="别人写的（示例）", status=Status.IN_REVIEW)
    client.force_login(staff_editor)
    html = client.get("/console/reviews/").content.decode()
    assert "您不是政策审核人员" in html and "别人写的" not in html
    client.force_login(alice)
    response = client.get("/console/reviews/")
    assert response.status_code == 403 and "别人写的" not in response.content.decode()


def test_run_progress_labels_the_changes_in_chinese(client, staff_auditor) -> None:
    version = PolicyVersionFactory(published=True)
    run = MatchRun.objects.create(
        kind=MatchRun.Kind.POLICY,
        policy_version=version,
        status=MatchRun.Status.DONE,
        changed={"newly_eligible": 3, "needs_info": 1},
    )
    client.force_login(staff_auditor)

    html = client.get(f"/console/runs/{run.pk}/").content.decode()

    assert "新符合条件 3 条，变为需补充信息 1 条" in html
    assert "newly_eligible" not in html and "needs_info 1" not in html


def test_new_dishonest_row_defaults_to_no(client, staff_editor) -> None:
    client.force_login(staff_editor)

    html = client.get("/console/rule/row/", {"index": "0", "changed": "fact", "r0_fact": "dishonest"}).content.decode()

    assert re.search(r'<option value="false"\s+selected>否</option>', html), html
    assert not re.search(r'<option value="true"\s+selected>', html)


@pytest.mark.parametrize(
    ("field", "words"),
    [
        ("rule.all[0].value", "第1个条件 › 取值"),
        ("rule.any[2].value[1]", "第3个条件 › 取值第2项"),
        ("rule.all[1].not.any[0].op", "第2个条件 › “不满足”分组 › 第1个条件 › 判断方式"),
        ("rule", "整条规则"),
        ("rule.all[0].weight", "第1个条件 › “weight”"),  # a key typed in the JSON box is quoted as typed
    ],
)
def test_rule_paths_in_words(field, words) -> None:
    assert path_words(field) == words


def test_policy_key_is_generated_and_stable(staff_editor) -> None:
    first = services.policy_create(by=staff_editor, **version_content())
    second = services.policy_create(by=staff_editor, **version_content())

    assert re.fullmatch(r"p-20\d\d-\d{4,}", first.policy.key)
    assert first.policy.key != second.policy.key
    assert first.policy.key.endswith(f"-{first.policy_id:04d}")
    key = first.policy.key
    services.policy_version_update(version=first, by=staff_editor, title="改了标题（示例）")
    assert Policy.objects.get(pk=first.policy_id).key == key  # editing never changes it


def test_api_generates_the_key_when_none_is_given(staff_editor) -> None:
    client = APIClient()
    client.force_authenticate(staff_editor)
    body = json.loads(json.dumps(version_content(), default=str))

    created = client.post("/api/v1/staff/policies/", body, format="json")

    assert created.status_code == 201, created.content
    assert re.fullmatch(r"p-20\d\d-\d{4,}", created.json()["policy_key"])
    given = client.post("/api/v1/staff/policies/", {**body, "key": "given-key"}, format="json")
    assert given.status_code == 201 and given.json()["policy_key"] == "given-key"


def test_the_author_is_not_offered_the_approve_button(client) -> None:
    both = StaffUserFactory(username="bianji", roles=[Role.POLICY_EDITOR, Role.REVIEWER])
    own = PolicyVersionFactory(status=Status.IN_REVIEW, author=both, submitted_by=both)
    other = PolicyVersionFactory(status=Status.IN_REVIEW)
    client.force_login(both)

    own_html = client.get(f"/console/versions/{own.pk}/").content.decode()
    other_html = client.get(f"/console/versions/{other.pk}/").content.decode()

    assert 'value="approve"' not in own_html and "须由其他审核人员审核通过" in own_html
    assert 'value="approve"' in other_html


def test_form_messages_are_chinese_whatever_the_browser_asks_for(client, staff_editor) -> None:
    client.force_login(staff_editor)

    html = client.post("/console/policies/new/", {"action": "save"}, HTTP_ACCEPT_LANGUAGE="en-US,en").content.decode()

    assert "该字段是必填项" in html and "This field is required" not in html
