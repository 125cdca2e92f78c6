"""The matched-policies API page kept rendered per enterprise (matching/matches_cache.py).

- a stored page is the same bytes and headers as a built one, and reads no match record;
- who may see the enterprise is checked on every request before the store: a stranger gets 404,
  an anonymous caller 401/403, whatever is stored, and nothing is written or changed;
- each event of portal/events.py that can change what the page shows drops it once the change
  commits (never before: a request in between would store the old records under the new stamp);
- a change made around the services shows when the page ages out; without Redis it is built each time.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from matching import matches_cache, services
from matching.bulk import ChangedRecord
from matching.core.profile import EnterpriseProfile, Fact
from matching.models import MatchRecord
from policies.services import policy_retire
from portal import events
from portal.audit.models import AuditEvent
from portal.enterprises.models import Enterprise
from portal.enterprises.services import enterprise_update_facts
from tests.api.openapi import assert_matches_schema
from tests.enterprises.factories import EnterpriseUserFactory
from tests.matching.db_support import publish_version, store_profile

pytestmark = pytest.mark.django_db

OLD = date(2024, 3, 1)
NEW = date(2025, 9, 30)
# Eligible on the credit office's data; the self-declared headcount is shown (and met) but does not decide.
RULE = {"any": [{"fact": "employees", "op": "lte", "value": 200}, {"fact": "dishonest", "op": "eq", "value": False}]}
OTHER_RULE = {
    "any": [{"fact": "employees", "op": "gte", "value": 10}, {"fact": "dishonest", "op": "eq", "value": False}]
}


@pytest.fixture
def store(settings):
    settings.MATCHES_API_CACHE_SECONDS = 300
    matches_cache.clear()
    cache.delete(matches_cache.DISTRICT_KEY)
    yield
    matches_cache.clear()
    cache.delete(matches_cache.DISTRICT_KEY)


def firm() -> Enterprise:
    return store_profile(
        EnterpriseProfile(
            credit_code="",
            facts={"employees": Fact(50, "self_declared", OLD), "dishonest": Fact(False, "credit", OLD)},
        )
    )


@pytest.fixture
def matched() -> dict[str, Any]:
    """Two enterprises, each with a user, matched against two published versions."""
    firms = [firm(), firm()]
    services.match_profiles_refresh()
    versions = [publish_version(RULE), publish_version(OTHER_RULE)]
    for version in versions:
        services.policy_version_match(version_id=version.pk)
    users = [EnterpriseUserFactory(enterprise=f) for f in firms]
    return {"firm": firms[0], "other": firms[1], "user": users[0], "stranger": users[1], "versions": versions}


def url(enterprise: Enterprise, query: str = "") -> str:
    return f"/api/v1/enterprises/{enterprise.credit_code}/matches/{query}"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def summaries(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(r["summary"] for r in response.json()["results"])


def mark_records(enterprise: Enterprise, summary: str) -> None:
    """A change written around the services: no event, so only the age limit would show it."""
    for record in MatchRecord.objects.filter(enterprise=enterprise):
        record.explanation = {**record.explanation, "summary": summary}
        record.save(update_fields=["explanation"])


def test_a_stored_page_is_the_same_bytes_and_reads_no_record(store, settings, matched) -> None:
    client = client_for(matched["user"])
    settings.MATCHES_API_CACHE_SECONDS = 0
    built = client.get(url(matched["firm"], "?page_size=1"))
    settings.MATCHES_API_CACHE_SECONDS = 300

    first = client.get(url(matched["firm"], "?page_size=1"))
    with CaptureQueriesContext(connection) as queries:
        second = client.get(url(matched["firm"], "?page_size=1"))

    assert built.status_code == first.status_code == second.status_code == 200
    assert built.content == first.content == second.content
    for header in ("Content-Type", "Vary", "Allow", "Cache-Control"):
        assert built[header] == first[header] == second[header], header
    assert second.json()["next"].startswith("http://testserver/api/v1/enterprises/")
    assert_matches_schema(second)
    assert not [q for q in queries.captured_queries if MatchRecord._meta.db_table in q["sql"]]
    assert len(queries.captured_queries) <= 2  # the user's roles and the enterprise the user may see


def test_each_query_and_host_is_its_own_page(store, matched) -> None:
    client = client_for(matched["user"])
    assert len(client.get(url(matched["firm"], "?page_size=1")).json()["results"]) == 1
    assert len(client.get(url(matched["firm"], "?page_size=2")).json()["results"]) == 2
    assert client.get(url(matched["firm"], "?outcome=ineligible")).json()["results"] == []
    other_host = client.get(url(matched["firm"], "?page_size=1"), HTTP_HOST="example.test")
    assert other_host.json()["next"].startswith("http://example.test/")


def test_a_stranger_is_refused_whatever_is_stored_and_nothing_changes(store, matched) -> None:
    owner = client_for(matched["user"])
    mine = owner.get(url(matched["firm"]))
    assert mine.status_code == 200
    stored = dict(matches_cache._pages)
    records = list(MatchRecord.objects.order_by("pk").values())
    audit = AuditEvent.objects.count()

    for client in (client_for(matched["stranger"]), APIClient()):
        for query in ("", "?page_size=1", "?outcome=eligible"):
            response = client.get(url(matched["firm"], query))
            assert response.status_code in (401, 403, 404)
            assert matched["firm"].credit_code not in response.content.decode()
            assert "results" not in response.json()

    assert dict(matches_cache._pages) == stored  # nothing stored, nothing dropped
    assert list(MatchRecord.objects.order_by("pk").values()) == records
    assert AuditEvent.objects.count() == audit
    # The stranger's own page is its own enterprise's, never the stored one.
    theirs = client_for(matched["stranger"]).get(url(matched["other"]))
    assert theirs.status_code == 200 and theirs.content != mine.content
    shown = {r["id"] for r in theirs.json()["results"]}
    assert shown and shown <= set(MatchRecord.objects.filter(enterprise=matched["other"]).values_list("pk", flat=True))


def test_staff_read_the_stored_page_and_each_read_is_audited(store, matched, staff_reviewer) -> None:
    owner_page = client_for(matched["user"]).get(url(matched["firm"]))
    client = client_for(staff_reviewer)
    before = AuditEvent.objects.filter(action="enterprise.viewed").count()
    for _ in range(2):
        assert client.get(url(matched["firm"])).content == owner_page.content
    assert AuditEvent.objects.filter(action="enterprise.viewed").count() == before + 2


def _only_the_page_handlers(monkeypatch, event: events.Event) -> None:
    """Dispatch `event` to the matched-pages handlers the table names for it, and nothing else."""
    handlers = [events._resolve(h) for h in event.handlers if h.path.startswith("matching.matches_cache.")]
    assert handlers, f"{event.name} drops no matched-policies page"
    monkeypatch.setitem(events.HANDLERS, event.name, handlers)


def _payload(event: events.Event, matched: dict[str, Any]) -> dict[str, Any]:
    enterprise_id, version_id = matched["firm"].pk, matched["versions"][0].pk
    return {
        events.MATCH_RECORDS_CHANGED.name: {
            "version_id": version_id,
            "changes": [ChangedRecord(1, enterprise_id, "eligible", True, "needs_info", False)],
            "run_id": None,
        },
        events.MATCH_EXPLANATIONS_FILLED.name: {"version_id": version_id, "enterprise_ids": [enterprise_id]},
        events.FACTS_CHANGED.name: {"enterprise_ids": [enterprise_id]},
        events.POLICY_PUBLISHED.name: {"version_id": version_id},
        events.POLICY_RETIRED.name: {"version_id": version_id},
        events.CATALOGUE_DECIDED.name: {"version_ids": [version_id]},
    }[event.name]


@pytest.mark.parametrize(
    "event",
    [
        events.MATCH_RECORDS_CHANGED,
        events.MATCH_EXPLANATIONS_FILLED,
        events.FACTS_CHANGED,
        events.POLICY_PUBLISHED,
        events.POLICY_RETIRED,
        events.CATALOGUE_DECIDED,
    ],
    ids=lambda e: e.name,
)
def test_each_event_drops_the_page_once_its_change_commits(
    store, matched, monkeypatch, event, django_capture_on_commit_callbacks
) -> None:
    client = client_for(matched["user"])
    page = url(matched["firm"])
    assert "改过" not in summaries(client.get(page))
    mark_records(matched["firm"], "改过")
    assert "改过" not in summaries(client.get(page))  # no event: the stored page (the age limit bounds it)

    _only_the_page_handlers(monkeypatch, event)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        events.emit(event, **_payload(event, matched))
    if event.timing is not events.Timing.NOW:
        # Not yet committed: a request now reads the old records, and must not store them under a new stamp.
        assert "改过" not in summaries(client.get(page))
        assert callbacks
    for callback in callbacks:
        callback()

    assert summaries(client.get(page)) == ["改过", "改过"]


def _two_stored_pages_then_changed(matched: dict[str, Any]) -> tuple[Any, Any]:
    """The firm's and the other enterprise's pages stored, then both enterprises' records changed around
    the services (no event yet): (the firm's client, the other's)."""
    mine, theirs = client_for(matched["user"]), client_for(matched["stranger"])
    mine.get(url(matched["firm"]))
    theirs.get(url(matched["other"]))
    mark_records(matched["firm"], "改过")
    mark_records(matched["other"], "改过")
    return mine, theirs


def test_one_enterprises_change_keeps_the_others_page_and_a_bulk_change_drops_every_page(
    store, matched, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    mine, theirs = _two_stored_pages_then_changed(matched)
    _only_the_page_handlers(monkeypatch, events.MATCH_EXPLANATIONS_FILLED)
    _only_the_page_handlers(monkeypatch, events.MATCH_RECORDS_CHANGED)

    with django_capture_on_commit_callbacks(execute=True):
        events.emit(
            events.MATCH_EXPLANATIONS_FILLED, version_id=matched["versions"][0].pk, enterprise_ids=[matched["firm"].pk]
        )
    assert summaries(mine.get(url(matched["firm"]))) == ["改过", "改过"]
    assert "改过" not in summaries(theirs.get(url(matched["other"])))

    many = [ChangedRecord(i, i, "eligible", True, "", False) for i in range(10**9, 10**9 + 600)]
    with django_capture_on_commit_callbacks(execute=True):
        events.emit(events.MATCH_RECORDS_CHANGED, version_id=matched["versions"][0].pk, changes=many, run_id=None)
    assert summaries(theirs.get(url(matched["other"]))) == ["改过", "改过"]  # more than BULK_THRESHOLD: all


def test_explanations_restated_for_many_versions_drop_each_page_with_one_replacement(
    store, matched, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    """The nightly run emits MATCH_EXPLANATIONS_FILLED for every version at once (events.emit_many): one
    replacement of the stamps after commit, covering every enterprise of every version."""
    mine, theirs = _two_stored_pages_then_changed(matched)
    _only_the_page_handlers(monkeypatch, events.MATCH_EXPLANATIONS_FILLED)
    first, second = (v.pk for v in matched["versions"][:2])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        events.emit_many(
            events.MATCH_EXPLANATIONS_FILLED,
            [
                {"version_id": first, "enterprise_ids": [matched["firm"].pk]},
                {"version_id": second, "enterprise_ids": [matched["other"].pk]},
            ],
        )
    assert len(callbacks) == 1
    assert "改过" not in summaries(mine.get(url(matched["firm"])))  # not before the commit
    callbacks[0]()

    assert summaries(mine.get(url(matched["firm"]))) == ["改过", "改过"]
    assert summaries(theirs.get(url(matched["other"]))) == ["改过", "改过"]


def test_a_rolled_back_change_drops_nothing(store, matched, django_capture_on_commit_callbacks) -> None:
    from django.db import transaction

    client = client_for(matched["user"])
    client.get(url(matched["firm"]))
    stamp = matches_cache.stamps(matched["firm"].pk)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        services.enterprise_match(enterprise_id=matched["firm"].pk)
        events.emit(
            events.MATCH_EXPLANATIONS_FILLED, version_id=matched["versions"][0].pk, enterprise_ids=[matched["firm"].pk]
        )
        raise RuntimeError("rolled back")
    assert matches_cache.stamps(matched["firm"].pk) == stamp


def test_a_department_figure_restating_an_explanation_shows_at_once(store, django_capture_on_commit_callbacks) -> None:
    """The real path: a statistics figure replaces the self-declared headcount; no outcome changes, the
    incremental re-match restates the explanation (MATCH_EXPLANATIONS_FILLED) and the page follows,
    also for a needs_info record, on which no entitlement rests."""

    def sources(response) -> set[str]:
        assert response.status_code == 200
        results = response.json()["results"]
        assert [r["outcome"] for r in results] == ["needs_info"]
        return {c["source"] for c in results[0]["explanation"]["conditions"] if c["fact"] == "employees"}

    enterprise = firm()
    services.match_profiles_refresh()
    # needs_info (no R&D ratio), showing the headcount.
    rule = {
        "all": [
            {"fact": "employees", "op": "lte", "value": 200},
            {"fact": "rd_expense_ratio", "op": "gte", "value": 3},
        ]
    }
    services.policy_version_match(version_id=publish_version(rule).pk)
    client = client_for(EnterpriseUserFactory(enterprise=enterprise))
    assert sources(client.get(url(enterprise))) == {"self_declared"}
    outcomes = dict(MatchRecord.objects.values_list("pk", "outcome"))
    enterprise_update_facts(enterprise=enterprise, facts={"employees": 50}, source="statistics", as_of=NEW)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.enterprise_match(enterprise_id=enterprise.pk) == []  # no decision changed

    assert dict(MatchRecord.objects.values_list("pk", "outcome")) == outcomes
    assert sources(client.get(url(enterprise))) == {"statistics"}


def test_retiring_a_version_takes_it_off_the_page_at_once(
    store, matched, staff_reviewer, django_capture_on_commit_callbacks
) -> None:
    client = client_for(matched["user"])
    retired = matched["versions"][0]
    assert retired.pk in {r["version_id"] for r in client.get(url(matched["firm"])).json()["results"]}
    with django_capture_on_commit_callbacks(execute=True):
        policy_retire(version=retired, by=staff_reviewer, comment="政策到期")
    assert retired.pk not in {r["version_id"] for r in client.get(url(matched["firm"])).json()["results"]}


def test_a_change_around_the_services_shows_when_the_page_ages_out(store, matched, monkeypatch) -> None:
    client = client_for(matched["user"])
    client.get(url(matched["firm"]))
    mark_records(matched["firm"], "改过")
    assert "改过" not in summaries(client.get(url(matched["firm"])))

    started = matches_cache._clock()
    monkeypatch.setattr(matches_cache, "_clock", lambda: started + 301)
    assert summaries(client.get(url(matched["firm"]))) == ["改过", "改过"]


def test_without_the_shared_cache_the_page_is_built_each_time(store, matched, monkeypatch) -> None:
    def unreachable(enterprise_id: int) -> str:
        raise ConnectionError("redis down")

    monkeypatch.setattr(matches_cache, "stamps", unreachable)
    client = client_for(matched["user"])
    client.get(url(matched["firm"]))
    mark_records(matched["firm"], "改过")
    assert summaries(client.get(url(matched["firm"]))) == ["改过", "改过"]
    assert matches_cache._pages == {}


def test_bad_input_is_refused_and_not_stored(store, matched) -> None:
    client = client_for(matched["user"])
    for _ in range(2):
        bad = client.get(url(matched["firm"], "?outcome=maybe"))
        assert bad.status_code == 400 and bad.json()["error"]["fields"][0]["field"] == "outcome"
        assert client.get(url(matched["firm"], "?page=99")).status_code == 404
    assert matches_cache._pages == {}
