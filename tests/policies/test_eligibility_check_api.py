"""POST /api/v1/eligibility/check, the public 政策计算器: facts in, outcomes with explanations out, nothing stored."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle

from tests.policies.factories import HIGH_TECH_SOFTWARE_RULE, PolicyVersionFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/eligibility/check"


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()  # throttle history lives in the cache
    yield
    cache.clear()


@pytest.fixture
def policies():
    return {
        "software": PolicyVersionFactory(published=True, title="软件高新补贴", rule=HIGH_TECH_SOFTWARE_RULE),
        "small": PolicyVersionFactory(
            published=True,
            title="小微企业减免",
            mode="exempt",
            rule={"all": [{"fact": "size", "op": "in", "value": ["small", "micro"]}]},
        ),
        "japan": PolicyVersionFactory(
            published=True,
            title="日资企业服务",
            rule={"all": [{"fact": "foreign_investor_country", "op": "in", "value": ["JP"]}]},
        ),
        "expired": PolicyVersionFactory(
            published=True,
            title="已过期",
            effective_to=dt.date(2021, 1, 1),
            rule={"all": [{"fact": "size", "op": "in", "value": ["small"]}]},
        ),
        "draft": PolicyVersionFactory(title="草稿", rule={"all": [{"fact": "size", "op": "in", "value": ["small"]}]}),
    }


def check(facts, client=None):
    return (client or APIClient()).post(URL, {"facts": facts}, format="json")


def test_it_evaluates_every_published_policy_in_effect_eligible_first(policies):
    response = check({"industry_code": "6520", "size": "small", "qualifications": ["high_tech"]})

    assert response.status_code == 200, response.content
    body = response.json()
    results = {r["title"]: r for r in body["results"]}
    assert set(results) == {"软件高新补贴", "小微企业减免", "日资企业服务"}
    assert [r["status"] for r in body["results"]] == ["eligible", "eligible", "needs_info"]
    assert body["counts"] == {"eligible": 2, "needs_info": 1, "ineligible": 0}
    software = results["软件高新补贴"]
    assert software["verified"] is False  # self-declared facts are never verified
    conditions = software["outcome"]["conditions"]
    assert [c["result"] for c in conditions] == ["met", "met"]
    assert conditions[0]["wording"] == "行业属于：软件和信息技术服务业（65）"
    assert conditions[0]["source"] == "self_declared"
    assert results["日资企业服务"]["summary"].startswith("需补充")


def test_outcomes_say_what_is_missing(policies):
    response = check({"size": "medium", "qualifications": ["high_tech"]})

    body = response.json()
    results = {r["title"]: r for r in body["results"]}
    assert [r["status"] for r in body["results"]] == ["needs_info", "needs_info", "ineligible"]
    assert results["小微企业减免"]["status"] == "ineligible"
    assert results["小微企业减免"]["summary"].startswith("只差")
    software = results["软件高新补贴"]
    assert software["status"] == "needs_info" and software["outcome"]["missing"] == ["all[0]"]
    assert [c["result"] for c in software["outcome"]["conditions"]] == ["unknown", "met"]


def test_invalid_facts_are_400_naming_each_field(policies):
    response = check({"industry_code": "99999", "employees": -3, "colour": "blue"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    fields = {f["field"] for f in error["fields"]}
    assert {"facts.industry_code", "facts.employees", "facts.colour"} <= fields


def test_facts_must_be_an_object():
    response = APIClient().post(URL, {"facts": ["6520"]}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"][0]["field"] == "facts"


def test_nothing_is_stored(policies):
    with CaptureQueriesContext(connection) as queries:
        response = check({"industry_code": "6520", "size": "small"})

    assert response.status_code == 200
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []


def test_anonymous_callers_are_throttled(policies, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/min"})
    client = APIClient()

    statuses = [check({"size": "small"}, client).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert check({"size": "small"}, client).json()["error"]["code"] == "throttled"


def test_signed_in_users_are_not_held_to_the_anonymous_rate(policies, alice, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "1/min"})
    client = APIClient()
    client.force_authenticate(alice)

    assert [check({"size": "small"}, client).status_code for _ in range(3)] == [200, 200, 200]


@pytest.mark.parametrize(
    ("facts", "field", "code", "message"),
    [
        ({"employees": -3}, "facts.employees", "out_of_range", "从业人员不能为负数"),
        ({"revenue": "-1"}, "facts.revenue", "out_of_range", "营业收入不能为负数"),
        ({"employees": 20_000_000}, "facts.employees", "out_of_range", "从业人员不能超过10000000人"),
        ({"total_assets": 1e15}, "facts.total_assets", "out_of_range", "资产总额不能超过10000000000万元"),
        ({"rd_expense_ratio": 101}, "facts.rd_expense_ratio", "out_of_range", "研发费用占营业收入比例不能超过100%"),
        ({"revenue": "1e1000000"}, "facts.revenue", "invalid", "营业收入请填写普通写法的数字"),
        ({"revenue": "9" * 100_000}, "facts.revenue", "invalid", "营业收入请填写普通写法的数字"),
        ({"established_on": "2999-01-01"}, "facts.established_on", "out_of_range", "成立日期不能晚于今天"),
        ({"established_on": "1000-01-01"}, "facts.established_on", "out_of_range", "成立日期不能早于"),
        ({"industry_code": "asdfgh"}, "facts.industry_code", "unknown_code", "所属行业请填写"),
    ],
)
def test_bad_facts_are_400_naming_the_field_with_a_stable_code(policies, facts, field, code, message):
    import time

    started = time.thread_time()  # This thread's CPU time: a loaded machine delays, it does not compute
    response = check(facts)

    assert time.thread_time() - started < 2  # refused before anything huge is computed
    assert response.status_code == 400
    (problem,) = response.json()["error"]["fields"]
    assert problem["field"] == field
    assert problem["code"] == code
    assert problem["message"].startswith(message)


def test_a_number_literal_too_long_to_read_is_refused_before_parsing(policies):
    body = b'{"facts": {"employees": ' + b"9" * 4000 + b"}}"

    response = APIClient().post(URL, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "number_too_long"


def test_a_number_literal_that_overflows_is_refused(policies):
    body = b'{"facts": {"revenue": 1e1000000}}'

    response = APIClient().post(URL, body, content_type="application/json")

    assert response.status_code == 400
    (problem,) = response.json()["error"]["fields"]
    assert (problem["field"], problem["code"]) == ("facts.revenue", "invalid")
    assert problem["message"] == "营业收入必须是数字"


def test_the_dishonest_fact_can_be_declared(policies):
    rule = {"all": [{"fact": "dishonest", "op": "eq", "value": False}]}
    PolicyVersionFactory(published=True, title="守信企业服务", rule=rule)

    unknown = {r["title"]: r["status"] for r in check({}).json()["results"]}
    declared = {r["title"]: r["status"] for r in check({"dishonest": False}).json()["results"]}

    assert unknown["守信企业服务"] == "needs_info"
    assert declared["守信企业服务"] == "eligible"
