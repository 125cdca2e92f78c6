"""Security findings of the 等保 probe (issue #13), each refused with the API's JSON error and nothing written."""

from __future__ import annotations

import base64
import csv
import io
import json
import threading
import time

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from policies.models import PolicyVersion
from portal.accounts.services import api_key_create
from portal.api.parsers import JSONLimitError, check_json_limits
from portal.enterprises.models import Enterprise, FeedImport
from tests.api.openapi import assert_matches_schema, is_operation
from tests.enterprises.factories import StaffUserFactory
from tests.enterprises.support import feed_batch_post

pytestmark = pytest.mark.django_db

CALCULATOR = "/api/v1/eligibility/check"
DEEP = "[" * 2000 + "]" * 2000


def error_of(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    if is_operation(response.request["REQUEST_METHOD"], response.request["PATH_INFO"]):
        assert_matches_schema(response)  # the status is documented, in the one error format
    return response.json()["error"]


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()  # throttle counters and lockouts must not leak between tests
    yield
    cache.clear()


@pytest.fixture
def stats_key(db) -> str:
    return api_key_create(name="统计局数据接口", source="statistics")[1]


# --- Input that stalls or crashes -----------------------------------------------------------------


def test_deep_nesting_is_refused_before_parsing_on_the_calculator() -> None:
    started = time.thread_time()  # CPU time (see below)
    response = APIClient().generic("POST", CALCULATOR, DEEP, content_type="application/json")
    elapsed = time.thread_time() - started
    assert response.status_code == 400
    assert error_of(response)["code"] == "json_too_deep"
    assert elapsed < 2.0  # refused by a linear scan, not by a RecursionError deep in the parser


def test_deep_nesting_is_refused_on_the_feed_api_and_nothing_is_imported(stats_key) -> None:
    before = FeedImport.objects.count()
    response = APIClient().generic(
        "POST",
        "/api/v1/feeds/statistics/records/",
        '{"records": ' + DEEP + "}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {stats_key}",
    )
    assert response.status_code == 400 and error_of(response)["code"] == "json_too_deep"
    assert FeedImport.objects.count() == before


def _draft(editor) -> PolicyVersion:
    from policies import services
    from tests.policies.conftest import version_content

    return services.policy_create(by=editor, key="security-probe", **version_content())


def test_deep_nesting_is_refused_on_policy_patch_and_the_draft_is_unchanged(staff_editor) -> None:
    draft = _draft(staff_editor)
    client = APIClient()
    client.force_authenticate(staff_editor)
    body = '{"rule": ' + "{" + '"not": {' * 1500 + "}" * 1501 + "}"
    response = client.generic(
        "PATCH", f"/api/v1/staff/policy-versions/{draft.pk}/", body, content_type="application/json"
    )
    assert response.status_code == 400 and error_of(response)["code"] == "json_too_deep"
    assert PolicyVersion.objects.get(pk=draft.pk).rule == draft.rule


@pytest.mark.parametrize("literal", ["9" * 5000, "-" + "1" * 41, "1" + "0" * 39 + "e999999"])
def test_a_pathological_number_literal_is_refused_in_milliseconds(literal: str) -> None:
    body = '{"facts": {"employees": ' + literal + "}}"
    client = APIClient()
    client.generic("POST", CALCULATOR, '{"facts": {"employees": 12}}', content_type="application/json")  # warm
    # This thread's CPU time, not the wall clock nor the process's: converting such a literal costs seconds
    # of CPU; a loaded machine only delays the request, and other threads of the test process (a browser
    # test's live server) are not this request. The request is warmed first: no first-call imports counted.
    started = time.thread_time()
    response = client.generic("POST", CALCULATOR, body, content_type="application/json")
    elapsed = time.thread_time() - started
    assert response.status_code == 400
    assert error_of(response)["code"] == "number_too_long"
    assert elapsed < 0.5


def test_a_huge_exponent_is_refused_quickly() -> None:
    client = APIClient()
    client.generic("POST", CALCULATOR, '{"facts": {"employees": 12}}', content_type="application/json")  # warm
    started = time.thread_time()  # this thread's CPU time (see above)
    response = client.generic(
        "POST", CALCULATOR, '{"facts": {"employees": 1e1000000}}', content_type="application/json"
    )
    assert response.status_code == 400
    assert time.thread_time() - started < 0.5


def test_the_limit_scan_skips_string_contents_and_escapes() -> None:
    # Brackets and digits inside strings are text, not structure.
    check_json_limits(json.dumps({"a": "[" * 500 + "9" * 500 + '\\"['}), max_depth=3)
    with pytest.raises(JSONLimitError):
        check_json_limits('{"a": [[[1]]]}', max_depth=3)


def test_nan_and_infinity_are_not_json() -> None:
    response = APIClient().generic("POST", CALCULATOR, '{"facts": {"employees": NaN}}', content_type="application/json")
    assert response.status_code == 400 and error_of(response)["code"] == "parse_error"


def test_a_body_over_the_limit_is_a_json_413(stats_key) -> None:
    before = FeedImport.objects.count()
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=50_000):
        body = json.dumps({"records": [{"credit_code": "91320505MA1XXXXX0X", "employees": 1}] * 2000})
        response = APIClient().generic(
            "POST",
            "/api/v1/feeds/statistics/records/",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Api-Key {stats_key}",
        )
    assert response.status_code == 413
    assert error_of(response)["code"] == "body_too_large"
    assert FeedImport.objects.count() == before


def test_a_full_feed_batch_fits_in_the_body_limit(settings) -> None:
    """The batch the API documents must be postable: the body limit and the record limit agree."""
    from django.conf import settings as live

    record = {
        "credit_code": "91320505MA1XXXXX0X",
        "as_of": "2026-11-30",
        "employees": 123456,
        "revenue": "12345678901234.56",
        "total_assets": "12345678901234.56",
        "rd_expense_ratio": "0.1234",
        "above_designated_size": True,
        "industry_code": "3911",
    }
    size = len(json.dumps({"records": [record] * live.FEED_API_MAX_RECORDS}).encode())
    assert size < live.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_one_record_over_the_batch_limit_is_refused_by_count(stats_key, settings) -> None:
    settings.FEED_API_MAX_RECORDS = 3
    response = APIClient().post(
        "/api/v1/feeds/statistics/records/",
        {"records": [{"credit_code": "x"}] * 4},
        format="json",
        HTTP_AUTHORIZATION=f"Api-Key {stats_key}",
    )
    assert response.status_code == 400
    assert error_of(response)["fields"][0] == {
        "field": "records",
        "code": "batch_too_large",
        "message": "每批最多3条记录；更多数据请分批提交或使用文件上传",
    }


@pytest.mark.parametrize("header", ["Api-Key ab\x00c.def", "Api-Key " + "a" * 5000 + ".b", "Api-Key \xe9\xe9.x"])
def test_a_strange_api_key_is_401_not_500(header: str) -> None:
    response = APIClient().post(
        "/api/v1/feeds/statistics/records/", {"records": []}, format="json", HTTP_AUTHORIZATION=header
    )
    assert response.status_code == 401 and error_of(response)["code"] == "authentication_failed"


def test_http_basic_is_not_accepted(alice) -> None:
    alice.set_password("Correct-Horse-9")
    alice.save()
    token = base64.b64encode(b"alice:Correct-Horse-9").decode()
    response = APIClient().get("/api/v1/notifications/", HTTP_AUTHORIZATION=f"Basic {token}")
    assert response.status_code in (401, 403)
    nul = base64.b64encode(b"ali\x00ce:x").decode()
    assert APIClient().get("/api/v1/notifications/", HTTP_AUTHORIZATION=f"Basic {nul}").status_code in (401, 403)


def test_unknown_fields_in_a_write_are_refused_and_nothing_changes(staff_editor) -> None:
    draft = _draft(staff_editor)
    client = APIClient()
    client.force_authenticate(staff_editor)
    response = client.patch(
        f"/api/v1/staff/policy-versions/{draft.pk}/", {"rulez": {}, "title": "改过的标题"}, format="json"
    )
    assert response.status_code == 400
    assert error_of(response)["fields"] == [{"field": "rulez", "code": "unknown_field", "message": "不允许的字段"}]
    assert PolicyVersion.objects.get(pk=draft.pk).title == draft.title


def test_an_unknown_api_path_answers_in_json() -> None:
    response = APIClient().get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


# --- Caching, health ------------------------------------------------------------------------------


def test_api_and_signed_in_pages_are_not_stored_but_public_pages_may_be(client, alice) -> None:
    assert "no-store" in APIClient().get("/api/v1/policies/")["Cache-Control"]
    assert "no-store" not in client.get("/policies/").get("Cache-Control", "")
    client.force_login(alice)
    assert "no-store" in client.get("/policies/")["Cache-Control"]


def test_healthz_tells_anonymous_callers_only_up_or_down(client, staff_data_officer) -> None:
    body = client.get("/healthz").json()
    assert set(body["database"]) == {"ok", "required"}
    client.force_login(staff_data_officer)
    assert "detail" in client.get("/healthz").json()["database"]


# --- Sign-in --------------------------------------------------------------------------------------


def _login(client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(client, alice) -> None:
    import time_machine

    alice.set_password("Correct-Horse-9")
    alice.save()
    with time_machine.travel("2026-12-07 10:00 +0800", tick=False):
        for _ in range(4):
            assert _login(client, "alice", "wrong").status_code == 200
        assert _login(client, "alice", "wrong").status_code == 429  # the fifth failure locks
        locked = _login(client, "alice", "Correct-Horse-9")
        assert locked.status_code == 429
        page = locked.content.decode()
        assert "登录失败次数过多" in page and "2026-12-07 10:15" in page
        assert "该账号已暂停登录" in page
        assert "_auth_user_id" not in client.session
    with time_machine.travel("2026-12-07 10:16 +0800", tick=False):
        assert _login(client, "alice", "Correct-Horse-9").status_code == 302
        assert client.session["_auth_user_id"] == str(alice.pk)


def test_one_address_trying_many_user_names_is_locked_too(client, alice) -> None:
    alice.set_password("Correct-Horse-9")
    alice.save()
    for n in range(5):
        _login(client, f"guess{n}", "wrong")
    locked = _login(client, "alice", "Correct-Horse-9")
    assert locked.status_code == 429
    # alice's own account had no failure: the page says it is the address that is paused.
    assert "您所在网络地址的登录已暂停" in locked.content.decode()


def test_failed_sign_ins_are_recorded(client, alice) -> None:
    from axes.models import AccessFailureLog

    _login(client, "alice", "wrong")
    assert AccessFailureLog.objects.filter(username="alice").count() == 1


def test_only_administrators_reach_the_admin(client, staff_reviewer) -> None:
    client.force_login(staff_reviewer)
    assert client.get("/admin/").status_code == 302  # to the admin's own login: not for this role
    admin = StaffUserFactory(username="root-admin", is_superuser=True, is_staff=True)
    client.force_login(admin)
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    ("password", "ok"),
    [("Ab1!", False), ("abcdefghijkl", False), ("abcdefgh12", False), ("Abcdefgh12", True), ("abcdefgh1!", True)],
)
def test_password_rules(password: str, ok: bool) -> None:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    if ok:
        validate_password(password)
    else:
        with pytest.raises(ValidationError):
            validate_password(password)


def test_a_staff_session_expires_after_thirty_idle_minutes(client, staff_reviewer, alice) -> None:
    staff_reviewer.set_password("Correct-Horse-9")
    staff_reviewer.save()
    assert _login(client, staff_reviewer.username, "Correct-Horse-9").status_code == 302
    assert client.session.get_expiry_age() == 30 * 60
    other = type(client)()
    alice.set_password("Correct-Horse-9")
    alice.save()
    _login(other, "alice", "Correct-Horse-9")
    assert other.session.get_expiry_age() > 30 * 60  # enterprise users keep the default


def test_the_anonymous_throttle_counts_concurrent_requests_atomically(rf, settings) -> None:
    from rest_framework.request import Request

    from portal.api.throttling import AtomicAnonRateThrottle

    class FivePerMinute(AtomicAnonRateThrottle):
        rate = "5/min"

    allowed: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(20)

    def hit() -> None:
        request = Request(rf.post(CALCULATOR, REMOTE_ADDR="203.0.113.9"))
        barrier.wait()
        result = FivePerMinute().allow_request(request, None)
        with lock:
            allowed.append(result)

    threads = [threading.Thread(target=hit) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 5


# --- Webhooks: one address check for every entry point --------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.1/hook",
        "http://2130706433/hook",
        "http://0x7f000001/hook",
        "http://017700000001/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:6379/",
        "http://10.1.2.3/",
        "http://localhost./x",
        "http://vm/hook",  # a name that resolves to this machine (/etc/hosts)
    ],
)
def test_internal_webhook_addresses_are_refused_by_service_and_admin(url: str, settings, enterprise_a) -> None:
    from portal.api.exceptions import ApplicationError
    from portal.notifications.admin import WebhookEndpointForm
    from portal.notifications.models import WebhookEndpoint
    from portal.notifications.services import webhook_endpoint_create

    settings.NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE = False
    if url == "http://vm/hook":
        import socket

        try:
            socket.getaddrinfo("vm", None)
        except OSError:
            pytest.skip("this machine's name does not resolve here")
    with pytest.raises(ApplicationError) as refused:
        webhook_endpoint_create(enterprise_id=enterprise_a.pk, url=url)
    assert refused.value.code == "internal_address"
    form = WebhookEndpointForm(data={"enterprise": enterprise_a.pk, "url": url, "description": "", "active": True})
    assert not form.is_valid() and "url" in form.errors
    assert WebhookEndpoint.objects.count() == 0


def test_a_public_webhook_address_is_accepted(settings, enterprise_a) -> None:
    from portal.notifications.services import webhook_endpoint_create

    settings.NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE = False
    assert webhook_endpoint_create(enterprise_id=enterprise_a.pk, url="https://223.5.5.5/hook").pk


# --- Spreadsheets ---------------------------------------------------------------------------------


def test_the_feed_error_report_neutralises_formulas(client, staff_data_officer) -> None:
    feed_import = FeedImport.objects.create(
        source="statistics",
        channel=FeedImport.Channel.API,
        report=[
            {
                "row": 1,
                "credit_code": '=HYPERLINK("http://x","y")',
                "field": "employees",
                "code": "invalid",
                "message": "@SUM(1)",
            }
        ],
    )
    client.force_login(staff_data_officer)
    response = client.get(f"/console/feeds/{feed_import.pk}/errors.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][1] == '\'=HYPERLINK("http://x","y")'
    assert rows[1][5] == "'@SUM(1)"


@pytest.mark.parametrize(
    ("field", "raw", "code"),
    [
        ("employees", "1e1000000", "invalid_integer"),
        ("employees", "9" * 41, "invalid_integer"),
        ("employees", "9" * 100_000, "invalid_integer"),
        ("employees", "1e99", "max_value"),
        ("revenue", "1e1000000", "invalid_number"),
        ("rd_expense_ratio", "1e1000000", "invalid_number"),
        ("rd_expense_ratio", "1e-1000000", "invalid_number"),
    ],
)
def test_pathological_numbers_in_feed_records_are_refused_quickly(field: str, raw: str, code: str) -> None:
    from portal.enterprises.facts import DEPARTMENT_FACTS
    from tests.enterprises.factories import EnterpriseFactory

    source = next(s for s, fields in DEPARTMENT_FACTS.items() if field in fields)
    key = api_key_create(name="接口", source=source)[1]
    enterprise = EnterpriseFactory()
    before = Enterprise.objects.filter(pk=enterprise.pk).values_list(field, flat=True).get()
    response = feed_batch_post(source, [{"credit_code": enterprise.credit_code, field: raw}], key)
    assert response.status_code == 200
    # The batch is applied by its task (not in the request): that is what must refuse the number quickly.
    feed_import = FeedImport.objects.get(pk=response.json()["import_id"])
    assert feed_import.started_at and feed_import.finished_at
    assert (feed_import.finished_at - feed_import.started_at).total_seconds() < 1.0
    rejected = response.json()["rejected"]
    assert rejected and rejected[0]["errors"][0]["code"] == code
    assert Enterprise.objects.filter(pk=enterprise.pk).values_list(field, flat=True).get() == before


def test_spreadsheet_numbers_with_a_small_exponent_are_read() -> None:
    from portal.enterprises.facts import parse_decimal, parse_int

    assert parse_int("1.2E+3", "employees") == 1200
    assert str(parse_decimal("1,234.5", "revenue")) == "1234.50"


def test_control_characters_reject_one_record_and_the_good_ones_are_applied() -> None:
    from tests.enterprises.factories import EnterpriseFactory

    key = api_key_create(name="市场监管接口", source="market_regulation")[1]
    good = [EnterpriseFactory() for _ in range(3)]
    bad = EnterpriseFactory()
    records = [{"credit_code": e.credit_code, "name": f"{e.name}（更名示例）"} for e in good]
    records.insert(1, {"credit_code": bad.credit_code, "name": "坏\x00名字"})
    records.append({"credit_code": "9132\x00", "name": "x"})
    records.append({"credit_code": good[0].credit_code, "bad\x00key": "1"})
    response = feed_batch_post("market_regulation", records, key)
    assert response.status_code == 200
    body = response.json()
    assert body["accepted_count"] == 3
    rejected = {r["index"]: r for r in body["rejected"]}
    assert rejected[1]["errors"] == [
        {"field": "name", "code": "control_character", "message": "不能包含控制字符（如空字符、换行）"}
    ]
    assert rejected[4]["credit_code"] == "9132"
    assert rejected[5]["errors"][0]["code"] == "invalid_field_name"
    for e in good:
        e.refresh_from_db()
        assert e.name.endswith("（更名示例）")
    bad_name = Enterprise.objects.get(pk=bad.pk).name
    assert "\x00" not in bad_name and bad_name == bad.name
    assert FeedImport.objects.get(pk=body["import_id"]).rejected == 3


def test_two_records_for_one_enterprise_in_one_batch_are_reported(stats_key) -> None:
    from tests.enterprises.factories import EnterpriseFactory

    enterprise = EnterpriseFactory()
    response = feed_batch_post(
        "statistics",
        [
            {"credit_code": enterprise.credit_code, "employees": 10, "revenue": 100},
            {"credit_code": enterprise.credit_code, "employees": 99},
        ],
        stats_key,
    )
    body = response.json()
    assert body["duplicates"] == [
        {
            "index": 1,
            "credit_code": enterprise.credit_code,
            "field": "employees",
            "code": "duplicate_record",
            "message": "同一批次第1条记录也提供了该项，以本条为准",
        }
    ]
    enterprise.refresh_from_db()
    assert enterprise.employees == 99  # the later record wins, as before
