"""数据纠错 API: send with evidence, read, the department's queue and decisions; strangers get 404 everywhere
and nothing changes."""

from __future__ import annotations

import pytest

from portal.corrections import services
from portal.corrections.models import CorrectionEvidence, CorrectionRequest, CorrectionTransition
from portal.enterprises.models import Enterprise
from portal.notifications.models import Notification
from tests.api.openapi import assert_matches_schema

from .support import PDF_BYTES, pdf

pytestmark = pytest.mark.django_db


def base(enterprise) -> str:
    return f"/api/v1/enterprises/{enterprise.credit_code}/corrections/"


@pytest.fixture
def correction(alice, stats_officer) -> CorrectionRequest:
    return services.correction_submit(
        enterprise=alice.enterprise, by=alice, fact="employees", value="180", statement="年报", files=[pdf()]
    )


def _state() -> tuple:
    """Everything a stranger's call could change."""
    return (
        list(CorrectionRequest.objects.order_by("id").values()),
        list(CorrectionTransition.objects.order_by("id").values()),
        list(CorrectionEvidence.objects.order_by("id").values()),
        list(Enterprise.objects.order_by("id").values()),
        Notification.objects.count(),
    )


def test_enterprise_sends_with_evidence_and_reads_it_back(api_client, alice, stats_officer) -> None:
    api_client.force_authenticate(alice)
    created = api_client.post(
        base(alice.enterprise),
        {"fact": "employees", "value": "180", "statement": "年报为180人", "evidence": [pdf(), pdf("社保清单.pdf")]},
        format="multipart",
    )
    assert created.status_code == 201, created.json()
    assert_matches_schema(created)
    body = created.json()
    assert (body["status"], body["department"], body["department_label"]) == ("submitted", "statistics", "统计局")
    assert (body["current_text"], body["proposed_text"], body["fact_label"]) == ("150人", "180人", "从业人员")
    assert body["assignee"] == "数据专员"  # an enterprise sees staff only by role
    assert [t["to_status"] for t in body["timeline"]] == ["submitted"]
    evidence = body["evidence"][0]
    assert evidence["original_name"] == "统计年报.pdf"
    download = api_client.get(evidence["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF_BYTES
    listed = api_client.get(base(alice.enterprise))
    assert listed.status_code == 200
    assert_matches_schema(listed)
    assert [r["id"] for r in listed.json()["results"]] == [body["id"]]


def test_bad_input_is_refused_naming_the_field(api_client, alice, stats_officer) -> None:
    api_client.force_authenticate(alice)
    for data, field, code in (
        ({"fact": "employees", "value": "很多", "evidence": [pdf()]}, "value", "invalid_integer"),
        ({"fact": "employees", "value": "180"}, "evidence", "required"),
        ({"fact": "nope", "value": "1", "evidence": [pdf()]}, "fact", "unknown_fact"),
        ({"fact": "employees", "value": "1", "rulez": "x", "evidence": [pdf()]}, "rulez", "unknown_field"),
    ):
        answer = api_client.post(base(alice.enterprise), data, format="multipart")
        assert answer.status_code == 400, answer.json()
        assert_matches_schema(answer)
        error = answer.json()["error"]
        assert (field, code) in {(f["field"], f["code"]) for f in error["fields"]}, error
    assert CorrectionRequest.objects.count() == 0


def test_json_values_are_read_by_the_fact_s_definition(api_client, alice, stats_officer) -> None:
    api_client.force_authenticate(alice)
    answer = api_client.post(
        base(alice.enterprise), {"fact": "above_designated_size", "value": False, "kind": "correction"}, format="json"
    )
    assert answer.status_code == 400  # no evidence in JSON: a correction needs a file
    assert answer.json()["error"]["code"] == "required"


def test_duplicate_is_409(api_client, alice, correction) -> None:
    api_client.force_authenticate(alice)
    answer = api_client.post(
        base(alice.enterprise), {"fact": "employees", "value": "190", "evidence": [pdf()]}, format="multipart"
    )
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "duplicate_request"


def test_the_department_accepts_through_its_queue(api_client, alice, stats_officer, correction) -> None:
    api_client.force_authenticate(stats_officer)
    queue = api_client.get("/api/v1/corrections/?status=submitted")
    assert queue.status_code == 200
    assert_matches_schema(queue)
    item = queue.json()["results"][0]
    assert (item["id"], item["assignee"]) == (correction.pk, "stats_officer")
    download = api_client.get(item["evidence"][0]["url"])
    assert download.status_code == 200
    accepted = api_client.post(f"/api/v1/corrections/{correction.pk}/accept/", {"note": "已核对"}, format="json")
    assert accepted.status_code == 200, accepted.json()
    assert_matches_schema(accepted)
    assert accepted.json()["status"] == "accepted"
    enterprise = Enterprise.objects.get(pk=alice.enterprise_id)
    assert (enterprise.employees, enterprise.fact_source("employees")) == (180, "statistics")
    again = api_client.post(f"/api/v1/corrections/{correction.pk}/accept/", {}, format="json")
    assert again.status_code == 409


def test_reject_needs_a_reason(api_client, stats_officer, correction) -> None:
    api_client.force_authenticate(stats_officer)
    answer = api_client.post(f"/api/v1/corrections/{correction.pk}/reject/", {"reason": ""}, format="json")
    assert answer.status_code == 400
    assert answer.json()["error"]["fields"] == [{"field": "reason", "code": "required", "message": "请填写理由"}]
    rejected = api_client.post(f"/api/v1/corrections/{correction.pk}/reject/", {"reason": "与年报一致"}, format="json")
    assert rejected.status_code == 200
    assert rejected.json()["decision_reason"] == "与年报一致"


def test_overdue_filter(api_client, stats_officer, correction) -> None:
    api_client.force_authenticate(stats_officer)
    assert api_client.get("/api/v1/corrections/?overdue=true").json()["results"] == []
    CorrectionRequest.objects.filter(pk=correction.pk).update(due_on="2020-01-01")
    overdue = api_client.get("/api/v1/corrections/?overdue=true").json()["results"]
    assert [(r["id"], r["is_overdue"]) for r in overdue] == [(correction.pk, True)]
    assert api_client.get("/api/v1/corrections/?overdue=maybe").status_code == 400


def test_strangers_get_404_on_every_request_file_and_action_and_nothing_changes(
    api_client, alice, charlie, tax_officer, staff_reviewer, staff_data_officer, correction
) -> None:
    evidence = correction.evidence.get()
    before = _state()
    enterprise_urls = [
        ("get", base(alice.enterprise)),
        ("post", base(alice.enterprise)),
        ("get", f"{base(alice.enterprise)}{correction.pk}/"),
        ("get", f"{base(alice.enterprise)}{correction.pk}/evidence/{evidence.pk}/"),
    ]
    staff_urls = [
        ("get", f"/api/v1/corrections/{correction.pk}/"),
        ("get", f"/api/v1/corrections/{correction.pk}/evidence/{evidence.pk}/"),
        ("post", f"/api/v1/corrections/{correction.pk}/accept/"),
        ("post", f"/api/v1/corrections/{correction.pk}/reject/"),
        ("post", f"/api/v1/corrections/{correction.pk}/assign/"),
    ]
    payload = {"fact": "employees", "value": "999", "reason": "x", "assignee": tax_officer.pk, "evidence": [pdf()]}
    # charlie: another enterprise; the officers and the reviewer: staff, not this enterprise's users.
    for user in (charlie, tax_officer, staff_reviewer, staff_data_officer):
        api_client.force_authenticate(user)
        for method, url in enterprise_urls:
            answer = getattr(api_client, method)(url, payload if method == "post" else None, format="multipart")
            assert answer.status_code == 404, (user, method, url, answer.status_code)
    # Another department's officer, a data officer of no department and a reviewer: not their queue.
    for user in (tax_officer, staff_reviewer, staff_data_officer):
        api_client.force_authenticate(user)
        assert api_client.get("/api/v1/corrections/").json()["results"] == []
        for method, url in staff_urls:
            answer = getattr(api_client, method)(
                url, {"reason": "x", "assignee": tax_officer.pk} if method == "post" else None, format="json"
            )
            assert answer.status_code == 404, (user, method, url, answer.status_code)
    # An enterprise user is not staff at all.
    api_client.force_authenticate(alice)
    for method, url in staff_urls:
        assert getattr(api_client, method)(url, format="json").status_code == 403
    api_client.force_authenticate(None)
    for method, url in enterprise_urls + staff_urls:
        assert getattr(api_client, method)(url, format="json").status_code in (401, 403)
    assert _state() == before
