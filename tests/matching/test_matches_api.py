"""GET /api/v1/enterprises/{credit_code}/matches/: scoped, eligible first, explained, constant queries."""

from __future__ import annotations

import pytest

from matching.services import match_profiles_refresh, policy_version_match
from tests.api.openapi import assert_matches_schema
from tests.enterprises.factories import QualificationFactory
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db

RULES = [
    {"all": [{"fact": "industry", "op": "under", "value": ["39"]}, {"fact": "dishonest", "op": "eq", "value": False}]},
    {
        "all": [
            {"fact": "industry", "op": "under", "value": ["39"]},
            {"fact": "rd_expense_ratio", "op": "gte", "value": 3},
        ]
    },
    {"fact": "qualification", "op": "has", "value": "gazelle"},
    {
        "all": [
            {"fact": "industry", "op": "under", "value": ["C"]},
            {"fact": "size", "op": "in", "value": ["small", "medium"]},
        ]
    },
]


@pytest.fixture
def matched(alice) -> object:
    enterprise = alice.enterprise
    enterprise.rd_expense_ratio = None
    enterprise.provenance.pop("rd_expense_ratio", None)
    enterprise.save()
    QualificationFactory(enterprise=enterprise)
    match_profiles_refresh()
    for rule in RULES:
        policy_version_match(version_id=PolicyVersionFactory(published=True, rule=rule).pk)
    return enterprise


def test_the_enterprise_user_sees_its_matches_eligible_first(api_client, alice, matched) -> None:
    api_client.force_authenticate(alice)

    response = api_client.get(f"/api/v1/enterprises/{matched.credit_code}/matches/")

    assert response.status_code == 200
    assert_matches_schema(response)  # policies with no application window: application_end is null
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["eligible", "eligible", "needs_info"]
    needs = results[-1]
    assert len(needs["missing"]) == 1 and needs["missing"][0].startswith("研发费用")
    assert needs["summary"].startswith("需补充")
    assert results[0]["explanation"]["conditions"][0]["result"] == "met"


def test_filter_by_outcome_and_reject_a_bad_one(api_client, alice, matched) -> None:
    api_client.force_authenticate(alice)
    url = f"/api/v1/enterprises/{matched.credit_code}/matches/"

    assert [r["outcome"] for r in api_client.get(url, {"outcome": "needs_info"}).json()["results"]] == ["needs_info"]
    bad = api_client.get(url, {"outcome": "maybe"})
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"][0]["field"] == "outcome"
    assert_matches_schema(bad)


def test_a_stranger_gets_404(api_client, charlie, matched) -> None:
    api_client.force_authenticate(charlie)

    response = api_client.get(f"/api/v1/enterprises/{matched.credit_code}/matches/")
    assert response.status_code == 404
    assert_matches_schema(response)


def test_anonymous_is_refused(api_client, matched) -> None:
    assert api_client.get(f"/api/v1/enterprises/{matched.credit_code}/matches/").status_code in (401, 403)


def test_staff_may_read_and_queries_do_not_grow_with_rows(
    api_client, staff_reviewer, matched, django_assert_max_num_queries
) -> None:
    api_client.force_authenticate(staff_reviewer)
    url = f"/api/v1/enterprises/{matched.credit_code}/matches/"
    with django_assert_max_num_queries(8):
        first = api_client.get(url)
    for _ in range(5):
        policy_version_match(version_id=PolicyVersionFactory(published=True, rule=RULES[0]).pk)
    with django_assert_max_num_queries(8):
        more = api_client.get(url)
    assert len(more.json()["results"]) == len(first.json()["results"]) + 5


def test_the_direct_representation_equals_the_declared_fields(matched) -> None:
    import datetime as dt

    from rest_framework import serializers

    from matching.api.views import MatchSerializer
    from matching.models import MatchRecord

    record = MatchRecord.objects.filter(enterprise=matched).select_related("policy_version__policy").first()
    record.policy_version.application_end = dt.date(2026, 12, 31)
    records = [*MatchRecord.objects.filter(enterprise=matched).select_related("policy_version__policy"), record]
    unexplained = MatchRecord.objects.filter(enterprise=matched).select_related("policy_version__policy").last()
    unexplained.explanation = None
    records.append(unexplained)
    assert len(records) >= 4

    for record in records:
        serializer = MatchSerializer(record)
        generic = serializers.ModelSerializer.to_representation(serializer, record)
        assert serializer.data == generic
        assert list(serializer.data) == list(generic)  # the same keys in the same order
