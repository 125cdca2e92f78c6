"""GET /api/v1/policies/: published and in effect only, filters, pagination, query count; detail and versions."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from policies.models import PolicyVersion
from tests.api.openapi import assert_matches_schema
from tests.policies.factories import PolicyFactory, PolicyVersionFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/policies/"


@pytest.fixture
def catalogue():
    """Four listed policies, and four that must never be listed."""
    listed = {
        "software": PolicyVersionFactory(
            published=True,
            title="集成电路设计企业补贴",
            mode="exempt",
            department="区科技局",
            benefit_kind="subsidy",
            chains=["ngit"],
            rule={
                "all": [
                    {"fact": "industry", "op": "under", "value": ["65"]},
                    {"fact": "qualification", "op": "has", "value": "high_tech"},
                ]
            },
        ),
        "small": PolicyVersionFactory(
            published=True,
            title="小微企业税费减免",
            department="区税务局",
            benefit_kind="tax",
            body="适用于小型微型企业。",
            rule={"all": [{"fact": "size", "op": "in", "value": ["small", "micro"]}]},
        ),
        "manufacturing_zone": PolicyVersionFactory(
            published=True,
            title="先进制造功能区融资支持",
            benefit_kind="financing",
            rule={"all": [{"fact": "zone", "op": "in", "value": ["advanced_manufacturing"]}]},
        ),
        "park": PolicyVersionFactory(
            published=True,
            title="新一代信息技术产业园服务",
            benefit_kind="service",
            rule={"all": [{"fact": "park", "op": "in", "value": ["kjc_ngit_park"]}]},
        ),
    }
    PolicyVersionFactory(title="草稿政策")
    PolicyVersionFactory(published=True, title="已过期政策", effective_to=dt.date(2021, 12, 31))
    PolicyVersionFactory(published=True, title="尚未生效政策", effective_from=dt.date(2099, 1, 1))
    PolicyVersionFactory(status=PolicyVersion.Status.RETIRED, title="已停用政策")
    return listed


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["title"] for item in response.json()["results"]]


def test_it_lists_published_policies_in_effect_to_anyone(catalogue):
    response = APIClient().get(URL)

    assert titles(response) == [v.title for v in catalogue.values()]
    assert_matches_schema(response)
    body = response.json()
    assert body["count"] == 4
    first = body["results"][0]
    assert first["id"] == catalogue["software"].policy_id
    assert first["mode_label"] == "免申即享" and first["benefit_kind_label"] == "资金补贴"
    assert first["chains"] == [{"key": "ngit", "label": "新一代信息技术"}]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("mode=exempt", ["software"]),
        ("department=区税务局", ["small"]),
        ("benefit_kind=financing", ["manufacturing_zone"]),
        ("chain=ngit", ["software"]),
        ("q=集成电路", ["software"]),
        ("q=小型微型", ["small"]),  # text in the body
        ("industry=6520", ["software", "small", "manufacturing_zone", "park"]),
        ("industry=3311", ["small", "manufacturing_zone", "park"]),
        ("industry=C", ["small", "manufacturing_zone", "park"]),
        ("industry=I", ["software", "small", "manufacturing_zone", "park"]),  # 65 is part of I
        ("size=large", ["software", "manufacturing_zone", "park"]),
        ("size=micro", ["software", "small", "manufacturing_zone", "park"]),
        ("zone=tech_ecology", ["software", "small", "park"]),  # a park policy may apply in any zone
        ("zone=advanced_manufacturing", ["software", "small", "manufacturing_zone", "park"]),
        ("mode=apply&size=large&zone=tech_ecology", ["park"]),
    ],
)
def test_filters(catalogue, query, expected):
    assert titles(APIClient().get(f"{URL}?{query}")) == [catalogue[name].title for name in expected]


def test_filters_understand_any_and_not(catalogue):
    either = PolicyVersionFactory(
        published=True,
        title="软件或高新企业",
        rule={
            "any": [
                {"fact": "industry", "op": "under", "value": ["65"]},
                {"fact": "qualification", "op": "has", "value": "high_tech"},
            ]
        },
    )
    not_finance = PolicyVersionFactory(
        published=True,
        title="非金融企业",
        rule={"all": [{"not": {"fact": "industry", "op": "under", "value": ["J"]}}]},
    )

    listed = titles(APIClient().get(f"{URL}?industry=6621"))

    assert either.title in listed  # may still qualify as 高新技术企业
    assert not_finance.title not in listed


@pytest.mark.parametrize("query", ["industry=9999", "industry=65x", "size=huge", "mode=sometimes", "chain=steel"])
def test_invalid_filters_are_400_naming_the_parameter(query):
    response = APIClient().get(f"{URL}?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["fields"][0]["field"] == query.split("=")[0]
    assert_matches_schema(response)


def test_pagination(catalogue):
    response = APIClient().get(f"{URL}?page_size=3&page=2")

    assert response.json()["count"] == 4
    assert titles(response) == [catalogue["park"].title]
    assert_matches_schema(response)  # a page: {count, next, previous, results}


def test_list_query_count_does_not_grow_with_the_catalogue(catalogue, django_assert_max_num_queries):
    client = APIClient()
    with django_assert_max_num_queries(1):
        client.get(URL)
    for _ in range(10):
        PolicyVersionFactory(published=True)
    with django_assert_max_num_queries(1):
        response = client.get(f"{URL}?industry=6520&q=政策")
    assert response.status_code == 200


def test_detail_gives_conditions_in_plain_chinese_and_the_source(catalogue):
    version = catalogue["software"]

    response = APIClient().get(f"{URL}{version.policy_id}/")

    assert response.status_code == 200
    body = response.json()
    assert body["conditions"] == ["行业属于：软件和信息技术服务业（65）", "持有有效的高新技术企业资质"]
    assert body["source_section"] == version.source_section and body["source_quote"] == version.source_quote
    assert body["contact_name"] == version.contact_name and body["contact_phone"] == version.contact_phone
    assert body["materials"] == version.materials and body["in_effect"] is True


def test_unpublished_policies_are_404_on_public_endpoints(catalogue):
    client = APIClient()
    draft = PolicyVersion.objects.get(title="草稿政策")
    retired = PolicyVersion.objects.get(title="已停用政策")

    for version in (draft, retired):
        assert client.get(f"{URL}{version.policy_id}/").status_code == 404
    assert client.get(f"{URL}{draft.policy_id}/versions/").status_code == 404
    assert client.get(f"{URL}999999/").status_code == 404


def test_an_expired_policy_is_readable_but_marked(catalogue):
    expired = PolicyVersion.objects.get(title="已过期政策")

    response = APIClient().get(f"{URL}{expired.policy_id}/")

    assert response.status_code == 200 and response.json()["in_effect"] is False


def test_old_versions_stay_readable():
    policy = PolicyFactory()
    v1 = PolicyVersionFactory(
        policy=policy,
        number=1,
        status=PolicyVersion.Status.RETIRED,
        title="第一版",
        published_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    )
    PolicyVersionFactory(policy=policy, number=2, published=True, title="第二版")
    PolicyVersionFactory(policy=policy, number=3, title="第三版草稿")
    client = APIClient()

    listing = client.get(f"{URL}{policy.pk}/versions/").json()
    old = client.get(f"{URL}{policy.pk}/versions/1/")

    assert [(v["version"], v["status"]) for v in listing] == [(2, "published"), (1, "retired")]
    assert old.status_code == 200 and old.json()["title"] == v1.title
    assert client.get(f"{URL}{policy.pk}/versions/3/").status_code == 404  # drafts are not public
    assert client.get(f"{URL}{policy.pk}/").json()["title"] == "第二版"
