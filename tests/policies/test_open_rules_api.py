"""开放规则: the rule in force on a date, a version's rule with golden cases, the fact registry (public, read-only)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from matching.core.registry import FACTS
from matching.core.vocabulary import SOURCES
from policies.models import PolicyVersion
from portal.enterprises.models import Zone
from tests.api.openapi import assert_matches_schema
from tests.policies.factories import GoldenCaseFactory, PolicyFactory, PolicyVersionFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
Status = PolicyVersion.Status
RULE_V1 = {"fact": "employees", "op": "lte", "value": 300}
RULE_V2 = {"fact": "employees", "op": "lte", "value": 200}


def at(day: str, hour: int = 0) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=SHANGHAI)


@pytest.fixture
def history():
    """v1 published 2025-01-10, replaced by v2 on 2025-06-01 10:00 (v2 in effect until 2026-12-31); v3 a draft."""
    policy = PolicyFactory()
    v1 = PolicyVersionFactory(
        policy=policy,
        number=1,
        status=Status.RETIRED,
        rule=RULE_V1,
        effective_from=dt.date(2025, 1, 1),
        published_at=at("2025-01-10", 9),
        retired_at=at("2025-06-01", 10),
    )
    v2 = PolicyVersionFactory(
        policy=policy,
        number=2,
        status=Status.PUBLISHED,
        rule=RULE_V2,
        effective_from=dt.date(2025, 6, 1),
        effective_to=dt.date(2026, 12, 31),
        published_at=at("2025-06-01", 10),
    )
    draft = PolicyVersionFactory(
        policy=policy, number=3, status=Status.DRAFT, rule={"fact": "dishonest", "op": "is", "value": False}
    )
    GoldenCaseFactory(version=v2, name="两百人以内", profile={"facts": {"employees": 150}}, expected="eligible")
    return policy, v1, v2, draft


def rule_on(policy_id: int, on: str | None = None):
    client = APIClient()
    url = f"/api/v1/policies/{policy_id}/rule/"
    response = client.get(url, {"on": on} if on is not None else {})
    assert_matches_schema(response)
    return response


@pytest.mark.parametrize(
    ("on", "number"),
    [
        ("2025-01-10", 1),  # the day of first publication
        ("2025-03-01", 1),
        ("2025-05-31", 1),
        ("2025-06-01", 2),  # replaced during the day: the rule that stood at its end
        ("2026-12-31", 2),
    ],
)
def test_the_rule_in_force_on_a_date_is_the_version_published_then(history, on, number):
    policy, *_ = history
    response = rule_on(policy.pk, on)
    assert response.status_code == 200
    body = response.json()
    assert (body["version"], body["on"]) == (number, on)
    assert body["rule"] == (RULE_V1 if number == 1 else RULE_V2)
    assert len(body["conditions"]) == 1
    assert ("300" if number == 1 else "200") in body["conditions"][0]


def test_the_rule_in_force_carries_its_golden_cases(history):
    policy, *_ = history
    body = rule_on(policy.pk, "2025-07-01").json()
    assert body["golden_cases"] == [
        {"name": "两百人以内", "profile": {"facts": {"employees": 150}}, "expected": "eligible", "on": None}
    ]
    assert rule_on(policy.pk, "2025-03-01").json()["golden_cases"] == []


@pytest.mark.parametrize("on", ["2025-01-09", "2027-01-01"])
def test_no_rule_in_force_is_a_404_naming_the_date(history, on):
    policy, *_ = history
    response = rule_on(policy.pk, on)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "no_rule_in_force"
    assert on in error["message"]


def test_without_a_date_the_answer_is_for_today(history, settings):
    policy, *_ = history
    today = dt.date.today()
    response = rule_on(policy.pk)
    if dt.date(2025, 6, 1) <= today <= dt.date(2026, 12, 31):
        assert response.status_code == 200
        assert response.json()["on"] == today.isoformat()
    else:
        assert response.json()["error"]["code"] == "no_rule_in_force"


def test_a_bad_date_names_the_field(history):
    policy, *_ = history
    response = rule_on(policy.pk, "2025-13-01")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert [f["field"] for f in fields] == ["on"]


def test_drafts_and_unknown_policies_are_not_open(history):
    policy, *_ = history
    unpublished = PolicyVersionFactory(status=Status.DRAFT)
    for policy_id in (unpublished.policy_id, 999_999):
        response = rule_on(policy_id, "2025-03-01")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    client = APIClient()
    assert client.get(f"/api/v1/policies/{policy.pk}/versions/3/rule/").status_code == 404


def test_a_version_rule_by_number_includes_retired_versions(history):
    policy, *_ = history
    response = APIClient().get(f"/api/v1/policies/{policy.pk}/versions/1/rule/")
    assert_matches_schema(response)
    assert response.status_code == 200
    body = response.json()
    assert (body["version"], body["status"], body["rule"]) == (1, "retired", RULE_V1)


def test_the_fact_registry_lists_every_fact_with_its_sources():
    Zone.objects.create(code="new_zone_x", name="新设功能区（示例）", sort_order=99)
    response = APIClient().get("/api/v1/facts/")
    assert_matches_schema(response)
    assert response.status_code == 200
    facts = {entry["name"]: entry for entry in response.json()}
    assert set(facts) == set(FACTS)
    employees = facts["employees"]
    assert employees["unit"] == FACTS["employees"].unit
    assert {op["code"] for op in employees["operators"]} == set(FACTS["employees"].operators)
    assert {s["code"] for s in employees["verified_by"]} == set(FACTS["employees"].verified_sources)
    assert all(s["label"] == SOURCES[s["code"]] for e in facts.values() for s in e["verified_by"] + e["shared_by"])
    assert {"code": "new_zone_x", "label": "新设功能区（示例）"} in facts["zone"]["choices"]


def test_open_rules_are_in_the_published_schema():
    response = APIClient().get("/api/schema/", {"format": "json"})
    paths = response.json()["paths"]
    for path in (
        "/api/v1/policies/{policy_id}/rule/",
        "/api/v1/policies/{policy_id}/versions/{number}/rule/",
        "/api/v1/facts/",
    ):
        assert "get" in paths[path], path
