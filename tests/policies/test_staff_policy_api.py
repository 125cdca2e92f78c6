"""Staff endpoints: create, edit, the workflow, new versions, preview, golden cases; refusals for everyone else."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from policies.models import GoldenCase, PolicyVersion
from tests.policies.conftest import version_content
from tests.policies.factories import ELIGIBLE_PROFILE, INELIGIBLE_PROFILE, GoldenCaseFactory, PolicyVersionFactory

pytestmark = pytest.mark.django_db

Status = PolicyVersion.Status


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def payload(**overrides) -> dict:
    body = json.loads(json.dumps(version_content(**overrides), default=str))
    body.setdefault("key", "api-policy")
    return body


def test_editor_creates_and_edits_a_draft(staff_editor):
    client = client_for(staff_editor)

    created = client.post("/api/v1/staff/policies/", payload(), format="json")

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "draft" and body["number"] == 1 and body["author"] == staff_editor.username
    assert body["transitions"][0]["action"] == "create"
    assert body["conditions"][1] == "持有有效的高新技术企业资质"

    edited = client.patch(f"/api/v1/staff/policy-versions/{body['id']}/", {"title": "新标题"}, format="json")

    assert edited.status_code == 200 and edited.json()["title"] == "新标题"


def test_an_invalid_rule_is_400_naming_the_node_path(staff_editor):
    rule = {
        "all": [
            {"fact": "industry", "op": "under", "value": ["65"]},
            {"any": [{"fact": "colour", "op": "eq", "value": 1}]},
        ]
    }

    response = client_for(staff_editor).post("/api/v1/staff/policies/", payload(rule=rule), format="json")

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields == [{"field": "rule.all[1].any[0].fact", "code": "unknown_fact", "message": fields[0]["message"]}]
    assert "colour" in fields[0]["message"]


def test_the_workflow_over_the_api(make_draft, staff_editor, staff_reviewer, reviewer2):
    version = make_draft()
    base = f"/api/v1/staff/policy-versions/{version.pk}"

    assert client_for(staff_editor).post(f"{base}/submit/", {"comment": "请审核"}, format="json").status_code == 200
    locked = client_for(staff_editor).patch(f"{base}/", {"title": "改"}, format="json")
    assert locked.status_code == 400 and locked.json()["error"]["code"] == "version_locked"
    assert client_for(staff_reviewer).post(f"{base}/approve/", {}, format="json").status_code == 200
    published = client_for(reviewer2).post(f"{base}/publish/", {}, format="json")
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert [t["action"] for t in published.json()["transitions"]] == ["create", "submit", "approve", "publish"]

    retired = client_for(reviewer2).post(f"{base}/retire/", {"comment": "停止执行"}, format="json")
    assert retired.status_code == 200 and retired.json()["status"] == "retired"


def test_approving_your_own_version_is_403_with_a_clear_code(make_draft, editor_reviewer):
    version = make_draft(by=editor_reviewer)
    client = client_for(editor_reviewer)
    client.post(f"/api/v1/staff/policy-versions/{version.pk}/submit/", {}, format="json")

    response = client.post(f"/api/v1/staff/policy-versions/{version.pk}/approve/", {}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "self_review_forbidden"


def test_reject_needs_a_reason(make_draft, staff_editor, staff_reviewer):
    version = make_draft()
    client_for(staff_editor).post(f"/api/v1/staff/policy-versions/{version.pk}/submit/", {}, format="json")
    url = f"/api/v1/staff/policy-versions/{version.pk}/reject/"

    refused = client_for(staff_reviewer).post(url, {}, format="json")
    rejected = client_for(staff_reviewer).post(url, {"comment": "补充材料清单"}, format="json")

    assert refused.status_code == 400 and refused.json()["error"]["fields"][0]["field"] == "comment"
    assert rejected.status_code == 200 and rejected.json()["status"] == "draft"


def test_publish_is_refused_while_a_golden_case_fails_naming_it(make_draft, staff_editor, staff_reviewer, reviewer2):
    version = make_draft()
    GoldenCaseFactory(version=version, name="错误预期的案例", profile=INELIGIBLE_PROFILE, expected="eligible")
    client_for(staff_editor).post(f"/api/v1/staff/policy-versions/{version.pk}/submit/", {}, format="json")
    client_for(staff_reviewer).post(f"/api/v1/staff/policy-versions/{version.pk}/approve/", {}, format="json")

    response = client_for(reviewer2).post(f"/api/v1/staff/policy-versions/{version.pk}/publish/", {}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "golden_case_failed"
    assert "错误预期的案例" in error["message"] and "只差" in error["message"]
    assert [(f["case"], f["expected"], f["actual"]) for f in error["failures"]] == [
        ("错误预期的案例", "eligible", "ineligible")
    ]
    version.refresh_from_db()
    assert version.status == Status.IN_REVIEW


def test_new_version_from_the_published_one(make_draft, publish, staff_editor):
    published = publish(make_draft())
    client = client_for(staff_editor)

    response = client.post(f"/api/v1/staff/policies/{published.policy_id}/new-version/", format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["number"] == 2 and body["status"] == "draft" and body["title"] == published.title
    assert GoldenCase.objects.filter(version_id=body["id"]).count() == 2
    again = client.post(f"/api/v1/staff/policies/{published.policy_id}/new-version/", format="json")
    assert again.status_code == 400 and again.json()["error"]["code"] == "open_version_exists"
    detail = client.get(f"/api/v1/staff/policies/{published.policy_id}/").json()
    assert [(v["number"], v["status"]) for v in detail["versions"]] == [(2, "draft"), (1, "published")]


def test_publishing_a_new_version_retires_the_old_one(make_draft, publish, staff_editor, staff_reviewer):
    first = publish(make_draft())
    client = client_for(staff_editor)
    second_id = client.post(f"/api/v1/staff/policies/{first.policy_id}/new-version/", format="json").json()["id"]
    client.patch(f"/api/v1/staff/policy-versions/{second_id}/", {"summary": "第二版摘要"}, format="json")

    publish(PolicyVersion.objects.get(pk=second_id))

    first.refresh_from_db()
    assert first.status == Status.RETIRED
    assert first.transitions.last().comment == "被第2版取代"
    public = APIClient().get(f"/api/v1/policies/{first.policy_id}/").json()
    assert public["version"] == 2 and public["summary"] == "第二版摘要"
    assert APIClient().get(f"/api/v1/policies/{first.policy_id}/versions/1/").json()["summary"] == first.summary


def test_golden_cases_crud_with_current_results(make_draft, staff_editor):
    version = make_draft(golden=False)
    client = client_for(staff_editor)
    url = f"/api/v1/staff/policy-versions/{version.pk}/golden-cases/"

    created = client.post(url, {"name": "符合", "profile": ELIGIBLE_PROFILE, "expected": "eligible"}, format="json")
    bad = client.post(
        url, {"name": "坏画像", "profile": {"industry_code": "65"}, "expected": "eligible"}, format="json"
    )
    case_url = f"{url}{created.json()['id']}/"
    patched = client.patch(case_url, {"expected": "ineligible"}, format="json")
    listing = client.get(url).json()

    assert created.status_code == 201
    assert bad.status_code == 400 and bad.json()["error"]["fields"][0]["field"] == "profile.industry_code"
    assert patched.status_code == 200 and patched.json()["expected"] == "ineligible"
    assert listing[0]["result"]["passed"] is False and listing[0]["result"]["actual"] == "eligible"
    assert client.delete(case_url).status_code == 204
    assert client.get(url).json() == []


def test_preview_endpoint(make_draft, staff_reviewer):
    from tests.enterprises.factories import EnterpriseFactory, QualificationFactory

    version = make_draft(mode="exempt")
    software = EnterpriseFactory(industry_code="6520")
    QualificationFactory(enterprise=software, kind="high_tech")
    EnterpriseFactory(industry_code="3311")

    response = client_for(staff_reviewer).get(f"/api/v1/staff/policy-versions/{version.pk}/preview/?sample_size=5")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"] == 2 and body["eligible"] == 1 and body["ineligible"] == 1
    assert body["samples"]["eligible"][0]["credit_code"] == software.credit_code
    assert body["conditions"][0]["unmet"] == 1


def test_staff_list_query_count(make_draft, staff_editor, django_assert_max_num_queries):
    for _ in range(3):
        make_draft(golden=False)
    client = client_for(staff_editor)
    client.get("/api/v1/staff/policies/")
    for _ in range(5):
        PolicyVersionFactory()

    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/staff/policies/")

    assert response.json()["count"] == 8


def staff_endpoints(version_id: int, policy_id: int, case_id: int) -> list[tuple[str, str]]:
    v = f"/api/v1/staff/policy-versions/{version_id}"
    return [
        ("get", "/api/v1/staff/policies/"),
        ("post", "/api/v1/staff/policies/"),
        ("get", f"/api/v1/staff/policies/{policy_id}/"),
        ("post", f"/api/v1/staff/policies/{policy_id}/new-version/"),
        ("get", f"{v}/"),
        ("patch", f"{v}/"),
        ("post", f"{v}/submit/"),
        ("post", f"{v}/approve/"),
        ("post", f"{v}/reject/"),
        ("post", f"{v}/publish/"),
        ("post", f"{v}/retire/"),
        ("get", f"{v}/preview/"),
        ("get", f"{v}/golden-cases/"),
        ("post", f"{v}/golden-cases/"),
        ("get", f"{v}/golden-cases/{case_id}/"),
        ("patch", f"{v}/golden-cases/{case_id}/"),
        ("delete", f"{v}/golden-cases/{case_id}/"),
    ]


@pytest.mark.parametrize("who", ["anonymous", "alice", "charlie"])
def test_strangers_and_anonymous_are_refused_on_every_staff_endpoint(who, make_draft, request):
    version = make_draft()
    case = version.golden_cases.first()
    user = None if who == "anonymous" else request.getfixturevalue(who)
    client = client_for(user)

    for method, url in staff_endpoints(version.pk, version.policy_id, case.pk):
        response = getattr(client, method)(url, {"comment": "x"}, format="json")
        assert response.status_code in ((401, 403) if user is None else (403,)), (method, url, response.status_code)

    version.refresh_from_db()
    assert version.status == Status.DRAFT and GoldenCase.objects.filter(pk=case.pk).exists()


def test_a_reviewer_may_not_write_and_an_editor_may_not_publish(make_draft, staff_editor, staff_reviewer):
    create = client_for(staff_reviewer).post("/api/v1/staff/policies/", payload(key="by-reviewer"), format="json")
    version = make_draft()
    client_for(staff_editor).post(f"/api/v1/staff/policy-versions/{version.pk}/submit/", {}, format="json")
    approve = client_for(staff_editor).post(f"/api/v1/staff/policy-versions/{version.pk}/approve/", {}, format="json")

    assert create.status_code == 403 and create.json()["error"]["code"] == "policy_editor_required"
    assert approve.status_code == 403 and approve.json()["error"]["code"] == "reviewer_required"


def test_unknown_ids_are_404_for_staff(staff_editor):
    client = client_for(staff_editor)

    assert client.get("/api/v1/staff/policy-versions/999999/").status_code == 404
    assert client.get("/api/v1/staff/policies/999999/").status_code == 404
    assert client.post("/api/v1/staff/policies/999999/new-version/").status_code == 404


def test_draft_effective_dates_are_checked(staff_editor):
    response = client_for(staff_editor).post(
        "/api/v1/staff/policies/",
        payload(effective_from="2026-06-01", effective_to="2026-01-01"),
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"][0]["field"] == "effective_to"
    assert PolicyVersion.objects.count() == 0


def test_a_version_states_its_benefit_period(staff_editor):
    client = client_for(staff_editor)

    bad = client.post("/api/v1/staff/policies/", payload(benefit_period="每年"), format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"][0]["field"] == "benefit_period"
    assert not PolicyVersion.objects.exists()

    created = client.post("/api/v1/staff/policies/", payload(), format="json").json()
    assert (created["benefit_period"], created["benefit_period_label"]) == ("once", "一次性")
    edited = client.patch(
        f"/api/v1/staff/policy-versions/{created['id']}/", {"benefit_period": "2026"}, format="json"
    ).json()
    assert (edited["benefit_period"], edited["benefit_period_label"]) == ("2026", "2026年度")
