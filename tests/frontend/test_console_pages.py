"""The staff console: access, the rule builder (preview, path errors), create, submit, approve, publish."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from matching.models import MatchRun
from policies.models import PolicyVersion
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db

FORM = {
    "title": "网页新建政策（示例）",
    "benefit_kind": "subsidy",
    "mode": "exempt",
    "department": "区科技局",
    "contact_name": "王敏（示例）",
    "contact_phone": "0512-0000-0000（示例）",
    "effective_from": "2020-01-01",
    "combinator": "all",
    "r0_fact": "industry",
    "r0_op": "under",
    "r0_value": "65",
    "r1_fact": "qualification",
    "r1_op": "has",
    "r1_value": "high_tech",
    "action": "save",
}


def test_anonymous_is_sent_to_login(client) -> None:
    response = client.get("/console/")

    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("url", ["/console/", "/console/policies/new/", "/console/rule/row/"])
def test_an_enterprise_user_is_refused(client, alice, url) -> None:
    client.force_login(alice)

    assert client.get(url).status_code == 403


def test_enterprise_user_cannot_see_a_version(client, alice) -> None:
    version = PolicyVersionFactory()
    client.force_login(alice)

    assert client.get(f"/console/versions/{version.pk}/").status_code == 403
    assert client.post(f"/console/versions/{version.pk}/action/", {"action": "approve"}).status_code == 403


def test_policy_list_shows_statuses(client, staff_auditor, django_assert_max_num_queries) -> None:
    PolicyVersionFactory(title="草稿一（示例）")
    PolicyVersionFactory(title="已发布一（示例）", published=True)
    client.force_login(staff_auditor)

    with django_assert_max_num_queries(6):
        html = client.get("/console/").content.decode()

    assert "草稿一（示例）" in html and "草稿" in html and "已发布" in html


def test_rule_preview_words_the_rows(client, staff_editor) -> None:
    client.force_login(staff_editor)

    html = client.post("/console/rule/preview/", FORM).content.decode()

    assert "软件和信息技术服务业" in html and "高新技术企业" in html


def test_rule_preview_names_the_bad_node(client, staff_editor) -> None:
    client.force_login(staff_editor)

    html = client.post(
        "/console/rule/preview/", {**FORM, "r1_fact": "employees", "r1_op": "gte", "r1_value": "x"}
    ).content.decode()

    assert "第2个条件 › 取值" in html and "all[1]" not in html


def test_rule_row_offers_the_operators_of_the_chosen_fact(client, staff_editor) -> None:
    client.force_login(staff_editor)

    html = client.get("/console/rule/row/", {"index": "0", "changed": "fact", "r0_fact": "size"}).content.decode()

    assert 'value="not_in"' in html and 'name="r0_value"' in html and "中型" in html


def test_editor_creates_a_draft_from_the_builder(client, staff_editor) -> None:
    client.force_login(staff_editor)

    response = client.post("/console/policies/new/", FORM)

    assert response.status_code == 302
    version = PolicyVersion.objects.get(title=FORM["title"])
    assert re.fullmatch(r"p-20\d\d-\d{4,}", version.policy.key)  # generated, not typed
    assert version.policy.key.endswith(f"-{version.policy_id:04d}")
    assert version.rule == {
        "all": [
            {"fact": "industry", "op": "under", "value": ["65"]},
            {"fact": "qualification", "op": "has", "value": "high_tech"},
        ]
    }


def test_editor_form_shows_rule_errors_on_the_row(client, staff_editor) -> None:
    client.force_login(staff_editor)

    response = client.post("/console/policies/new/", {**FORM, "r0_value": "99999"})

    assert response.status_code == 200
    assert "第1个条件 › 取值" in response.content.decode()
    assert not PolicyVersion.objects.filter(title=FORM["title"]).exists()


def test_editor_can_use_raw_json(client, staff_editor) -> None:
    client.force_login(staff_editor)
    rule = '{"any": [{"not": {"fact": "dishonest", "op": "eq", "value": true}}]}'

    client.post("/console/policies/new/", {**FORM, "use_json": "1", "rule_json": rule})

    version = PolicyVersion.objects.get(title=FORM["title"])
    assert version.rule == {"any": [{"not": {"fact": "dishonest", "op": "eq", "value": True}}]}


def test_submit_approve_publish_starts_a_match_run(
    client, staff_editor, staff_reviewer, celery_eager, django_capture_on_commit_callbacks
) -> None:
    client.force_login(staff_editor)
    client.post("/console/policies/new/", FORM)
    version = PolicyVersion.objects.get(title=FORM["title"])
    client.post(f"/console/versions/{version.pk}/", {**FORM, "action": "submit"})
    version.refresh_from_db()
    assert version.status == PolicyVersion.Status.IN_REVIEW

    client.force_login(staff_reviewer)
    assert "发布前预览" in client.get(f"/console/versions/{version.pk}/").content.decode()
    assert client.get(f"/console/versions/{version.pk}/preview/").status_code == 200
    client.post(f"/console/versions/{version.pk}/action/", {"action": "approve"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/console/versions/{version.pk}/action/", {"action": "publish"})

    version.refresh_from_db()
    assert version.status == PolicyVersion.Status.PUBLISHED
    run = MatchRun.objects.get(policy_version=version)
    html = client.get(f"/console/versions/{version.pk}/").content.decode()
    assert "匹配进度" in html
    assert client.get(f"/console/runs/{run.pk}/").status_code == 200


def test_editor_cannot_approve(client, staff_editor) -> None:
    version = PolicyVersionFactory(status=PolicyVersion.Status.IN_REVIEW)
    client.force_login(staff_editor)

    response = client.post(f"/console/versions/{version.pk}/action/", {"action": "approve"}, follow=True)

    assert "只有政策审核人员" in response.content.decode()
    version.refresh_from_db()
    assert version.approved_by_id is None


def test_editor_states_the_benefit_period_and_refuses_a_made_up_one(client, staff_editor) -> None:
    client.force_login(staff_editor)
    page = client.get("/console/policies/new/").content.decode()
    assert "兑现期" in page and ">一次性<" in page and "年度<" in page and ">once<" not in page

    bad = client.post("/console/policies/new/", {**FORM, "benefit_period": "1999"})
    assert bad.status_code == 200 and "兑现期" in bad.content.decode()
    assert not PolicyVersion.objects.filter(title=FORM["title"]).exists()  # nothing half-written

    year = str(timezone.localdate().year)
    client.post("/console/policies/new/", {**FORM, "benefit_period": year})
    version = PolicyVersion.objects.get(title=FORM["title"])
    assert version.benefit_period == year
    editor = client.get(f"/console/versions/{version.pk}/").content.decode()  # the draft, open in the editor
    assert f'<option value="{year}" selected>{year}年度</option>' in editor
