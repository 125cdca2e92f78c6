"""POST /api/v1/feeds/<source>/records/: department data keyed by credit code, one record at a time.

A batch is taken with 202 and applied by the worker; each record's result is read at its status URL
(GET /api/v1/feeds/<source>/batches/<id>/). `post` does both, as a client does (tests/enterprises/support.py).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from portal.accounts.services import api_key_create
from portal.enterprises.models import Enterprise, EnterpriseChange, FeedImport, Qualification
from tests.api.openapi import assert_matches_schema
from tests.enterprises.factories import EnterpriseFactory, QualificationFactory
from tests.enterprises.support import feed_batch_post, feed_batch_send

pytestmark = pytest.mark.django_db


@pytest.fixture
def stats_key(db) -> str:
    return api_key_create(name="统计局数据接口", source="statistics")[1]


def send(source: str, records, key: str | None):
    """The raw answer to a batch (202, or the refusal)."""
    return feed_batch_send(source, {"records": records}, key)


def post(source: str, records, key: str):
    """Submit a batch (202), let its task run, and read its per-record results at its status URL."""
    return feed_batch_post(source, records, key)


def snapshot(enterprise: Enterprise) -> tuple:
    enterprise.refresh_from_db()
    return (enterprise.employees, enterprise.revenue, enterprise.size, enterprise.provenance, enterprise.updated_at)


def test_a_key_is_required(stats_key) -> None:
    assert send("statistics", [], None).status_code == 401
    response = send("statistics", [], "nope.nope")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert_matches_schema(response)


def test_a_key_only_works_for_its_own_department(stats_key) -> None:
    response = send("tax", [{"credit_code": "91110108551385082Q", "tax_credit_rating": "A"}], stats_key)
    assert response.status_code == 403
    assert not FeedImport.objects.exists()


def test_a_disabled_key_is_refused(stats_key) -> None:
    from portal.accounts.models import DepartmentApiKey

    DepartmentApiKey.objects.update(is_active=False)
    assert send("statistics", [], stats_key).status_code == 401


def test_unknown_department_is_404(stats_key) -> None:
    assert send("weather", [], stats_key).status_code == 404


def test_each_record_is_accepted_or_rejected_with_field_reasons(stats_key) -> None:
    a, b = EnterpriseFactory(), EnterpriseFactory()
    records = [
        {"credit_code": a.credit_code.lower(), "as_of": "2026-01-31", "employees": 400},
        {"credit_code": b.credit_code, "employees": -5, "revenue": "1.234"},
        {"credit_code": "91110108551385082Q", "employees": 10},  # valid code, not in the registry
        {"credit_code": "91110108551385082R", "employees": 10},
        {"credit_code": b.credit_code, "tax_credit_rating": "A"},  # 税务局's field
        {"credit_code": b.credit_code},
    ]
    response = post("statistics", records, stats_key)  # 202, then the status URL once done
    assert response.status_code == 200
    assert_matches_schema(response)
    body = response.json()
    assert body["accepted"] == [
        {"index": 0, "credit_code": a.credit_code, "status": "updated", "changed": ["employees"]}
    ]
    reasons = {r["index"]: {(e["field"], e["code"]) for e in r["errors"]} for r in body["rejected"]}
    assert reasons == {
        1: {("employees", "min_value"), ("revenue", "max_decimal_places")},
        2: {("credit_code", "enterprise_not_found")},
        3: {("credit_code", "invalid_check_character")},
        4: {("tax_credit_rating", "not_owned")},
        5: {("", "empty_record")},
    }
    assert (body["accepted_count"], body["rejected_count"]) == (1, 5)


def test_a_rejected_record_leaves_no_trace(stats_key) -> None:
    enterprise = EnterpriseFactory()
    before = snapshot(enterprise)
    # employees alone would be fine; the bad revenue rejects the whole record.
    body = post("statistics", [{"credit_code": enterprise.credit_code, "employees": 999, "revenue": "x"}], stats_key)
    assert body.json()["rejected_count"] == 1
    assert snapshot(enterprise) == before
    assert not EnterpriseChange.objects.exists()


def test_the_same_batch_twice_changes_nothing_the_second_time(stats_key, facts_changed) -> None:
    enterprises = EnterpriseFactory.create_batch(3, facts_as_of=date(2025, 1, 31))
    records = [
        {"credit_code": e.credit_code, "as_of": "2026-01-31", "employees": 1200 + i, "revenue": "50000.5"}
        for i, e in enumerate(enterprises)
    ]
    first = post("statistics", records, stats_key).json()  # its commit's callbacks run: the re-match hook
    assert [a["status"] for a in first["accepted"]] == ["updated"] * 3
    assert facts_changed.ids == {e.pk for e in enterprises}
    after_first = [snapshot(e) for e in enterprises]
    changes = EnterpriseChange.objects.count()

    facts_changed.calls.clear()
    second = post("statistics", records, stats_key).json()
    assert [a["status"] for a in second["accepted"]] == ["unchanged"] * 3
    assert second["changed_count"] == 0
    assert [snapshot(e) for e in enterprises] == after_first
    assert EnterpriseChange.objects.count() == changes
    assert facts_changed.calls == []


def test_a_confirmation_with_a_newer_date_is_announced_for_re_matching(stats_key, facts_changed) -> None:
    # Same values, a newer date: no value changes, but explanations show the date, so they re-match.
    enterprises = EnterpriseFactory.create_batch(2, facts_as_of=date(2025, 1, 31))
    records = [
        {"credit_code": e.credit_code, "as_of": "2026-01-31", "employees": e.employees, "revenue": str(e.revenue)}
        for e in enterprises
    ]
    body = post("statistics", records, stats_key).json()
    assert [a["status"] for a in body["accepted"]] == ["confirmed"] * 2
    assert body["changed_count"] == 0
    assert facts_changed.ids == {e.pk for e in enterprises}


def test_accepted_changes_are_in_the_history_with_who_and_old_and_new(stats_key) -> None:
    enterprise = EnterpriseFactory(employees=150, revenue=Decimal("8000"))
    post("statistics", [{"credit_code": enterprise.credit_code, "as_of": "2026-01-31", "employees": 10}], stats_key)
    change = EnterpriseChange.objects.get(enterprise=enterprise)
    assert change.source == "statistics" and change.as_of == date(2026, 1, 31)
    assert change.who == "统计局数据接口（统计局）"
    assert change.changes == [
        {"field": "employees", "old": 150, "new": 10},
        {"field": "size", "old": "small", "new": "micro"},
    ]
    enterprise.refresh_from_db()
    assert enterprise.size == "micro"
    assert enterprise.provenance["employees"] == {"source": "statistics", "as_of": "2026-01-31"}


def test_an_older_record_does_not_undo_newer_data(stats_key) -> None:
    enterprise = EnterpriseFactory(facts_as_of=date(2025, 12, 31))
    body = post(
        "statistics", [{"credit_code": enterprise.credit_code, "as_of": "2024-12-31", "employees": 3}], stats_key
    )
    assert body.json()["accepted"] == [
        {"index": 0, "credit_code": enterprise.credit_code, "status": "unchanged", "stale": ["employees"]}
    ]
    enterprise.refresh_from_db()
    assert enterprise.employees == 150


def test_a_department_value_replaces_a_self_declared_one(stats_key) -> None:
    enterprise = EnterpriseFactory(facts_source="self_declared")
    body = post("statistics", [{"credit_code": enterprise.credit_code, "employees": 150}], stats_key).json()
    # Same value, now vouched for by 统计局: a confirmation, recorded because the source changed.
    assert body["accepted"][0]["status"] == "confirmed"
    enterprise.refresh_from_db()
    assert enterprise.provenance["employees"]["source"] == "statistics"
    assert EnterpriseChange.objects.get(enterprise=enterprise).changes == [
        {"field": "employees", "old": 150, "new": 150}
    ]


def test_market_regulation_registers_new_enterprises() -> None:
    key = api_key_create(name="市场监管", source="market_regulation")[1]
    records = [
        {"credit_code": "91110108551385082Q", "name": "苏州示例新设有限公司", "industry_code": "6520"},
        {"credit_code": "914403001922038216", "industry_code": "6520"},  # no name: cannot register
    ]
    body = post("market_regulation", records, key).json()
    assert body["accepted"] == [
        {"index": 0, "credit_code": "91110108551385082Q", "status": "created", "changed": ["name", "industry_code"]}
    ]
    assert body["rejected"][0]["errors"] == [
        {"field": "name", "code": "required", "message": "新登记企业须提供企业名称"}
    ]
    enterprise = Enterprise.objects.get(credit_code="91110108551385082Q")
    assert enterprise.industry_code == "6520" and enterprise.size == "unclassified"
    assert enterprise.provenance["name"]["source"] == "market_regulation"
    assert EnterpriseChange.objects.get(enterprise=enterprise).fields == ["name", "industry_code"]


def test_science_tech_certificates_are_upserted() -> None:
    key = api_key_create(name="科技局", source="science_tech")[1]
    enterprise = EnterpriseFactory()
    declared = QualificationFactory(enterprise=enterprise, source="self_declared", certificate_no="")
    record = {
        "credit_code": enterprise.credit_code,
        "as_of": "2025-12-31",
        "qualification_kind": "高新技术企业",
        "certificate_no": "GR202532001234",
        "valid_from": "2025-12-01",
        "valid_to": "2028-11-30",
    }
    first = post("science_tech", [record], key).json()
    assert first["accepted"][0]["status"] == "updated"
    # The self-declared record was adopted (verified), not duplicated.
    (q,) = Qualification.objects.filter(enterprise=enterprise)
    assert q.pk == declared.pk and q.source == "science_tech" and q.certificate_no == "GR202532001234"
    second = post("science_tech", [record], key).json()
    assert second["accepted"][0]["status"] == "unchanged"
    assert EnterpriseChange.objects.filter(enterprise=enterprise).count() == 1


def test_a_department_cannot_certify_another_departments_qualification() -> None:
    key = api_key_create(name="科技局", source="science_tech")[1]
    enterprise = EnterpriseFactory()
    record = {
        "credit_code": enterprise.credit_code,
        "qualification_kind": "little_giant",  # 工信局's
        "certificate_no": "X1",
        "valid_from": "2025-01-01",
    }
    body = post("science_tech", [record], key).json()
    assert body["rejected"][0]["errors"][0]["code"] == "not_owned"
    assert not Qualification.objects.exists()


def test_a_body_without_records_is_400(stats_key) -> None:
    response = feed_batch_send("statistics", {"rows": []}, stats_key)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_batch"
    assert response.json()["error"]["fields"] == [
        {"field": "records", "code": "invalid_batch", "message": "请求体应包含records数组"}
    ]
    assert not FeedImport.objects.exists()


def test_the_answer_names_the_batch_and_its_results_stay_readable(stats_key) -> None:
    enterprise = EnterpriseFactory()
    status = post("statistics", [{"credit_code": enterprise.credit_code, "employees": 77}], stats_key).json()
    feed_import = FeedImport.objects.get(pk=status["import_id"])
    assert (feed_import.channel, feed_import.source, feed_import.total) == ("api", "statistics", 1)
    assert (status["accepted_count"], status["rejected_count"], status["changed_count"]) == (1, 0, 1)
    assert status["status_url"].endswith(f"/api/v1/feeds/statistics/batches/{feed_import.pk}/")
    assert status["error"] == "" and status["started_at"] and status["finished_at"]
    # Read again later: the same per-record results.
    again = APIClient().get(status["status_url"], HTTP_AUTHORIZATION=f"Api-Key {stats_key}")
    assert again.json() == status


def test_a_batch_status_is_404_to_another_department_and_to_strangers(
    stats_key, settings, tmp_path, alice, staff_auditor, staff_data_officer
) -> None:
    """Only the batch's department (any of its keys) and data officers read it; everyone else gets 404
    (no hint it exists), 401 without credentials, and none of these requests changes anything."""
    settings.MEDIA_ROOT = str(tmp_path)
    enterprise = EnterpriseFactory()
    before = snapshot(enterprise)
    taken = send("statistics", [{"credit_code": enterprise.credit_code, "employees": 1}], stats_key).json()
    url = f"/api/v1/feeds/statistics/batches/{taken['import_id']}/"
    tax_key = api_key_create(name="税务局数据接口", source="tax")[1]
    second_stats_key = api_key_create(name="统计局第二个密钥", source="statistics")[1]

    def get(path: str, key: str | None = None, user=None):
        client = APIClient()
        if user is not None:
            client.force_login(user)
        headers = {"HTTP_AUTHORIZATION": f"Api-Key {key}"} if key else {}
        return client.get(path, **headers)

    refused = [
        get(url, tax_key),  # another department's key
        get(f"/api/v1/feeds/tax/batches/{taken['import_id']}/", tax_key),  # …under its own department
        get(url, user=alice),  # an enterprise user
        get(url, user=staff_auditor),  # staff, not a data officer
        get(f"/api/v1/feeds/statistics/batches/{taken['import_id'] + 1000}/", stats_key),  # no such batch
    ]
    assert [r.status_code for r in refused] == [404] * 5
    for response in refused:
        assert response.json()["error"]["code"] == "not_found"
        assert_matches_schema(response)
    anonymous = get(url)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "not_authenticated"
    assert get("/api/v1/feeds/weather/batches/1/", stats_key).status_code == 404

    # The batch's department (another of its keys) and a data officer read it.
    assert get(url, second_stats_key).json()["status"] == "queued"
    assert get(url, user=staff_data_officer).json()["import_id"] == taken["import_id"]
    # Nothing changed: the batch still waits, the enterprise and its history are untouched.
    feed_import = FeedImport.objects.get(pk=taken["import_id"])
    assert (feed_import.status, feed_import.processed, feed_import.record_results) == ("queued", 0, {})
    assert snapshot(enterprise) == before
    assert not EnterpriseChange.objects.exists()
    assert FeedImport.objects.count() == 1


def test_another_departments_key_cannot_submit_and_changes_nothing(stats_key, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    enterprise = EnterpriseFactory()
    before = snapshot(enterprise)
    tax_key = api_key_create(name="税务局数据接口", source="tax")[1]
    response = send("statistics", [{"credit_code": enterprise.credit_code, "employees": 1}], tax_key)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not FeedImport.objects.exists()
    assert snapshot(enterprise) == before
    assert not EnterpriseChange.objects.exists()


def test_a_batch_the_worker_cannot_read_is_reported_failed(stats_key, settings, tmp_path) -> None:
    from portal.enterprises import services

    settings.MEDIA_ROOT = str(tmp_path)
    taken = send("statistics", [{"credit_code": EnterpriseFactory().credit_code, "employees": 1}], stats_key).json()
    feed_import = FeedImport.objects.get(pk=taken["import_id"])
    feed_import.file.delete(save=False)  # lost storage

    services.feed_upload_process(feed_import=services.feed_upload_claim(import_id=feed_import.pk))

    status = APIClient().get(taken["status_url"], HTTP_AUTHORIZATION=f"Api-Key {stats_key}").json()
    assert status["status"] == "failed" and status["error"].startswith("无法读取已接收的数据")
    assert (status["accepted"], status["rejected"]) == ([], [])
    assert not EnterpriseChange.objects.exists()


def test_a_batch_whose_task_was_lost_is_sent_again_by_the_sweep(stats_key, settings, tmp_path, monkeypatch) -> None:
    from portal.enterprises import services

    settings.MEDIA_ROOT = str(tmp_path)
    taken = send("statistics", [{"credit_code": EnterpriseFactory().credit_code, "employees": 1}], stats_key).json()
    sent: list[int] = []
    monkeypatch.setattr(services, "_send_feed_upload", sent.append)

    assert services.feed_uploads_sweep(queued_after_seconds=0) == 1
    assert sent == [taken["import_id"]]


@pytest.mark.django_db(transaction=True)
def test_with_tasks_run_inline_the_202_already_says_done(celery_eager, settings, tmp_path) -> None:
    """`make run` without Redis: the task runs as the request's transaction commits, so the answer is final."""
    settings.MEDIA_ROOT = str(tmp_path)
    key = api_key_create(name="统计局数据接口", source="statistics")[1]
    enterprise = EnterpriseFactory()
    response = send("statistics", [{"credit_code": enterprise.credit_code, "employees": 66}], key)
    assert response.status_code == 202
    assert_matches_schema(response)
    body = response.json()
    assert (body["status"], body["accepted_count"], body["percent"]) == ("done", 1, 100)
    assert body["accepted"] == [
        {"index": 0, "credit_code": enterprise.credit_code, "status": "updated", "changed": ["employees"]}
    ]
    enterprise.refresh_from_db()
    assert enterprise.employees == 66
