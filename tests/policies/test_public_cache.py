"""The public policy list kept rendered per catalogue version: same bytes, no queries, dropped on publish/retire."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from policies import public_cache, services
from tests.api.openapi import assert_matches_schema
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/policies/"


@pytest.fixture
def store(settings):
    settings.PUBLIC_POLICY_LIST_CACHE_SECONDS = 300
    public_cache.clear()
    cache.delete(public_cache.VERSION_KEY)
    yield
    public_cache.clear()
    cache.delete(public_cache.VERSION_KEY)


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()["results"]]


def test_a_stored_page_is_the_same_bytes_and_costs_no_query(store, settings, django_assert_num_queries):
    for _ in range(3):
        PolicyVersionFactory(published=True)
    client = APIClient()
    settings.PUBLIC_POLICY_LIST_CACHE_SECONDS = 0
    uncached = client.get(f"{URL}?page_size=2")
    settings.PUBLIC_POLICY_LIST_CACHE_SECONDS = 300

    first = client.get(f"{URL}?page_size=2")
    with django_assert_num_queries(0):
        second = client.get(f"{URL}?page_size=2")

    assert first.status_code == second.status_code == 200
    assert first.content == second.content == uncached.content
    for header in ("Content-Type", "Vary", "Allow", "Cache-Control"):
        assert first[header] == second[header] == uncached[header], header
    assert first["Content-Type"] == "application/json"
    assert second.json()["next"].startswith("http://testserver/api/v1/policies/?page=2")
    assert_matches_schema(second)


def test_each_query_and_host_is_its_own_page(store):
    for _ in range(3):
        PolicyVersionFactory(published=True)
    client = APIClient()

    assert len(ids(client.get(f"{URL}?page_size=1"))) == 1
    assert len(ids(client.get(f"{URL}?page_size=3"))) == 3
    assert client.get(URL, HTTP_HOST="example.test").json()["results"] == client.get(URL).json()["results"]
    assert client.get(f"{URL}?page_size=1", HTTP_HOST="example.test").json()["next"].startswith("http://example.test/")


def test_invalid_filters_are_still_refused_and_not_stored(store):
    client = APIClient()
    for _ in range(2):
        response = client.get(f"{URL}?size=huge")
        assert response.status_code == 400
        assert response.json()["error"]["fields"][0]["field"] == "size"


def test_publishing_drops_the_stored_pages_once_it_commits(
    store, make_draft, publish, django_capture_on_commit_callbacks
):
    listed = PolicyVersionFactory(published=True)
    client = APIClient()
    assert ids(client.get(URL)) == [listed.policy_id]

    draft = make_draft()
    with django_capture_on_commit_callbacks(execute=True):
        publish(draft)

    assert sorted(ids(client.get(URL))) == sorted([listed.policy_id, draft.policy_id])


def test_retiring_drops_the_stored_pages_once_it_commits(
    store, make_draft, publish, staff_reviewer, django_capture_on_commit_callbacks
):
    version = publish(make_draft())
    client = APIClient()
    assert ids(client.get(URL)) == [version.policy_id]

    with django_capture_on_commit_callbacks(execute=True):
        services.policy_retire(version=version, by=staff_reviewer, comment="政策到期")

    assert ids(client.get(URL)) == []


def test_a_change_around_the_services_shows_when_the_page_ages_out(store, monkeypatch):
    client = APIClient()
    assert ids(client.get(URL)) == []
    later = PolicyVersionFactory(published=True)  # written directly: no new catalogue version
    assert ids(client.get(URL)) == []  # the stored page, until its age limit

    started = public_cache._clock()
    monkeypatch.setattr(public_cache, "_clock", lambda: started + 301)
    assert ids(client.get(URL)) == [later.policy_id]


def test_a_new_day_is_a_new_page(store, monkeypatch):
    today = dt.date.today()
    ending = PolicyVersionFactory(published=True, effective_from=dt.date(2020, 1, 1), effective_to=today)
    client = APIClient()
    monkeypatch.setattr(public_cache.timezone, "localdate", lambda: today)
    assert ids(client.get(URL)) == [ending.policy_id]

    monkeypatch.setattr(public_cache.timezone, "localdate", lambda: today + dt.timedelta(days=1))
    assert ids(client.get(URL)) == []  # out of effect tomorrow: not yesterday's page


def test_without_the_shared_cache_the_list_is_built_each_time(store, monkeypatch):
    version = PolicyVersionFactory(published=True)

    def unreachable() -> str:
        raise ConnectionError("redis down")

    monkeypatch.setattr(public_cache, "catalogue_version", unreachable)
    assert ids(APIClient().get(URL)) == [version.policy_id]
