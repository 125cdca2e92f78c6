"""在线申报 API: multipart submission, timeline, scoped downloads; strangers get 404, non-staff 403."""

from __future__ import annotations

import pytest

from portal.applications import services
from portal.applications.models import Application
from tests.api.openapi import assert_matches_schema

from .support import PDF_BYTES, apply_policy, decide, full_files, pdf, png, xlsx

pytestmark = pytest.mark.django_db


def base(enterprise) -> str:
    return f"/api/v1/enterprises/{enterprise.credit_code}/applications/"


def make(user, version, **kwargs) -> Application:
    return services.application_submit(
        enterprise=user.enterprise,
        version=version,
        by=user,
        contact_name=kwargs.get("contact_name", "张敏"),
        contact_phone="13912345678",
        statement="示例",
        files=full_files(),
    )


@pytest.fixture
def application(alice, version) -> Application:
    return make(alice, version)


def test_submit_by_multipart_then_read_the_timeline_and_download(api_client, alice, version) -> None:
    api_client.force_authenticate(alice)

    created = api_client.post(
        base(alice.enterprise),
        {
            "policy_version": version.pk,
            "contact_name": "张敏",
            "contact_phone": "0512-66668888",
            "statement": "申请补助（示例）",
            "material_1": [pdf("申报书.pdf")],
            "material_2": [xlsx("报表.xlsx"), png("报表截图.png")],
        },
        format="multipart",
    )

    assert created.status_code == 201, created.json()
    assert_matches_schema(created)
    body = created.json()
    assert (body["status"], body["status_label"], body["policy_title"]) == ("submitted", "已提交", version.title)
    assert [(t["to_status"], t["to_label"]) for t in body["timeline"]] == [("submitted", "已提交")]
    assert [a["material"] for a in body["attachments"]] == ["项目申报书", "近一年财务报表", "近一年财务报表"]
    first = body["attachments"][0]
    assert first["url"] == f"{base(alice.enterprise)}{body['id']}/attachments/{first['id']}/"
    assert "/media/" not in str(body)

    listed_response = api_client.get(base(alice.enterprise))
    assert_matches_schema(listed_response)
    listed = listed_response.json()
    assert [a["id"] for a in listed["results"]] == [body["id"]]
    detail_response = api_client.get(f"{base(alice.enterprise)}{body['id']}/")
    assert_matches_schema(detail_response)
    detail = detail_response.json()
    assert detail["timeline"][0]["by"] == alice.username

    download = api_client.get(first["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF_BYTES
    assert download["Content-Type"] == "application/pdf"
    assert "attachment" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"


def test_errors_name_the_field_with_a_stable_code(api_client, alice, version) -> None:
    api_client.force_authenticate(alice)

    missing = api_client.post(
        base(alice.enterprise),
        {"policy_version": version.pk, "contact_name": "张敏", "contact_phone": "139", "material_1": pdf()},
        format="multipart",
    )

    assert missing.status_code == 400
    fields = {(f["field"], f["code"]) for f in missing.json()["error"]["fields"]}
    assert fields == {("contact_phone", "invalid_phone"), ("material_2", "required")}
    assert all(not f["message"].isascii() for f in missing.json()["error"]["fields"])

    unknown = api_client.post(base(alice.enterprise), {"policy_version": 999999}, format="multipart")
    assert unknown.json()["error"]["fields"] == [
        {"field": "policy_version", "code": "does_not_exist", "message": "未找到该政策版本"}
    ]
    assert Application.objects.count() == 0


def test_ineligible_and_duplicate_are_refused(api_client, alice, version, application) -> None:
    api_client.force_authenticate(alice)
    other = apply_policy()
    decide(alice.enterprise, other, outcome="ineligible")
    payload = {"contact_name": "张敏", "contact_phone": "13912345678", "material_1": pdf(), "material_2": xlsx()}

    ineligible = api_client.post(base(alice.enterprise), {**payload, "policy_version": other.pk}, format="multipart")
    assert ineligible.status_code == 400
    assert ineligible.json()["error"]["code"] == "ineligible"
    assert ineligible.json()["error"]["fields"][0]["field"] == "policy_version"

    payload = {"contact_name": "张敏", "contact_phone": "13912345678", "material_1": pdf(), "material_2": xlsx()}
    duplicate = api_client.post(base(alice.enterprise), {**payload, "policy_version": version.pk}, format="multipart")
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "duplicate_application"
    assert duplicate.json()["error"]["application_id"] == application.pk


def test_withdraw_and_resubmit_after_return(api_client, alice, staff_reviewer, application) -> None:
    api_client.force_authenticate(staff_reviewer)
    returned = api_client.post(f"/api/v1/applications/{application.pk}/return/", {"reason": "缺盖章"}, format="json")
    assert returned.json()["status"] == "returned" and returned.json()["staff_note"] == "缺盖章"

    api_client.force_authenticate(alice)
    url = f"{base(alice.enterprise)}{application.pk}/"
    again = api_client.post(f"{url}resubmit/", {"material_2": xlsx("盖章版.xlsx")}, format="multipart")
    assert again.status_code == 200 and again.json()["status"] == "submitted"
    assert "盖章版.xlsx" in [a["original_name"] for a in again.json()["attachments"]]

    withdrawn = api_client.post(f"{url}withdraw/", {"reason": "暂不申报"}, format="json")
    assert withdrawn.json()["status"] == "withdrawn"
    assert [t["to_status"] for t in withdrawn.json()["timeline"]] == ["submitted", "returned", "submitted", "withdrawn"]
    assert withdrawn.json()["timeline"][1]["by"] == "审核人"  # staff are shown by role, not by name


def test_a_stranger_gets_404_everywhere(api_client, charlie, application, version) -> None:
    api_client.force_authenticate(charlie)
    url = f"{base(application.enterprise)}{application.pk}/"
    attachment = application.attachments.first()

    assert api_client.get(base(application.enterprise)).status_code == 404
    assert api_client.get(url).status_code == 404
    assert api_client.get(f"{url}attachments/{attachment.pk}/").status_code == 404
    assert api_client.post(f"{url}withdraw/").status_code == 404
    assert api_client.post(f"{url}resubmit/", {}, format="multipart").status_code == 404
    assert (
        api_client.post(
            base(application.enterprise), {"policy_version": version.pk, "material_1": pdf()}, format="multipart"
        ).status_code
        == 404
    )
    # Nor through charlie's own enterprise URL with alice's ids.
    own = f"{base(charlie.enterprise)}{application.pk}/"
    assert api_client.get(own).status_code == 404
    assert api_client.get(f"{own}attachments/{attachment.pk}/").status_code == 404
    assert Application.objects.get(pk=application.pk).status == "submitted"


def test_anonymous_is_refused(api_client, application) -> None:
    url = f"{base(application.enterprise)}{application.pk}/"
    attachment = application.attachments.first()
    for path in (base(application.enterprise), url, f"{url}attachments/{attachment.pk}/", "/api/v1/applications/"):
        assert api_client.get(path).status_code in (401, 403), path
    assert api_client.post(f"{url}withdraw/").status_code in (401, 403)


def test_non_staff_are_refused_on_staff_endpoints(api_client, alice, charlie, staff_editor, application) -> None:
    attachment = application.attachments.first()
    for user in (alice, charlie):
        api_client.force_authenticate(user)
        assert api_client.get("/api/v1/applications/").status_code == 403
        assert api_client.get(f"/api/v1/applications/{application.pk}/").status_code == 403
        assert api_client.get(f"/api/v1/applications/{application.pk}/attachments/{attachment.pk}/").status_code == 403
        for action in ("accept", "approve", "reject", "return"):
            response = api_client.post(f"/api/v1/applications/{application.pk}/{action}/", {"reason": "x"})
            assert response.status_code == 403, action
    api_client.force_authenticate(staff_editor)  # staff may look, but only reviewers / data officers decide
    assert api_client.get(f"/api/v1/applications/{application.pk}/").status_code == 200
    refused = api_client.post(f"/api/v1/applications/{application.pk}/accept/")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "staff_role_required")
    assert Application.objects.get(pk=application.pk).status == "submitted"


def test_staff_decide_and_download(api_client, staff_reviewer, application) -> None:
    api_client.force_authenticate(staff_reviewer)
    url = f"/api/v1/applications/{application.pk}/"

    no_reason = api_client.post(f"{url}reject/", {"reason": ""}, format="json")
    assert no_reason.status_code == 400
    assert no_reason.json()["error"]["fields"][0] == {"field": "reason", "code": "required", "message": "请填写理由"}
    assert api_client.post(f"{url}approve/").status_code == 409  # accept first
    assert api_client.post(f"{url}accept/", {"note": "材料齐全"}, format="json").json()["status"] == "accepted"
    approved = api_client.post(f"{url}approve/").json()
    assert approved["status"] == "approved"
    attachment = approved["attachments"][0]
    assert attachment["url"] == f"{url}attachments/{attachment['id']}/"
    assert b"".join(api_client.get(attachment["url"]).streaming_content) == PDF_BYTES


def test_staff_list_filters_by_status_and_policy(api_client, staff_auditor, alice, application) -> None:
    other = apply_policy()
    decide(alice.enterprise, other)
    second = make(alice, other)
    services.application_withdraw(application=second, by=alice)
    api_client.force_authenticate(staff_auditor)

    def ids(**params) -> list[int]:
        return [a["id"] for a in api_client.get("/api/v1/applications/", params).json()["results"]]

    assert set(ids()) == {application.pk, second.pk}
    assert ids(status="withdrawn") == [second.pk]
    assert ids(policy=application.policy_version.policy_id) == [application.pk]
    assert ids(status="approved") == []
    bad = api_client.get("/api/v1/applications/", {"status": "nope"})
    assert (bad.status_code, bad.json()["error"]["fields"][0]["field"]) == (400, "status")


def test_list_endpoints_use_a_constant_number_of_queries(
    api_client, alice, staff_reviewer, version, django_assert_max_num_queries
) -> None:
    make(alice, version)
    for _ in range(4):
        extra = apply_policy()
        decide(alice.enterprise, extra)
        make(alice, extra)
    assert Application.objects.count() == 5

    api_client.force_authenticate(alice)
    with django_assert_max_num_queries(8):
        mine = api_client.get(base(alice.enterprise))
    assert len(mine.json()["results"]) == 5

    api_client.force_authenticate(staff_reviewer)
    with django_assert_max_num_queries(8):
        everything = api_client.get("/api/v1/applications/")
    assert len(everything.json()["results"]) == 5
    assert all(len(a["timeline"]) == 1 and len(a["attachments"]) == 2 for a in everything.json()["results"])
