"""Helpers for registry tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from tempfile import TemporaryDirectory
from typing import Any

import pytest
from django.test import TestCase, override_settings
from rest_framework.response import Response
from rest_framework.test import APIClient

from portal import events
from portal.enterprises.models import FeedImport


class FactsChanged:
    """Records the handler calls of events.FACTS_CHANGED (the re-match hook)."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def __call__(self, *, enterprise_ids: list[int]) -> None:
        self.calls.append(list(enterprise_ids))

    @property
    def ids(self) -> set[int]:
        return {i for call in self.calls for i in call}


@pytest.fixture
def facts_changed(monkeypatch) -> FactsChanged:
    recorder = FactsChanged()
    monkeypatch.setitem(events.HANDLERS, events.FACTS_CHANGED.name, [recorder])
    return recorder


def seed_places() -> None:
    """The zones, townships and parks a migration seeds (a transactional browser test may have flushed them)."""
    from importlib import import_module

    from django.apps import apps

    import_module("portal.enterprises.migrations.0002_seed_places").seed(apps, None)


FEED_RECORDS_URL = "/api/v1/feeds/{source}/records/"


def feed_batch_send(source: str, body: Any, key: str | None) -> Response:
    """POST a department batch as it is sent: the raw answer (202 for a batch taken, 4xx for a refused one)."""
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key}"} if key else {}
    return APIClient().post(FEED_RECORDS_URL.format(source=source), body, format="json", **headers)


@contextmanager
def tasks_inline() -> Iterator[None]:
    """Run sent tasks inline (as a worker would, in this process), whatever REDIS_URL says."""
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


def feed_batch_post(source: str, records: Any, key: str, *, as_of: str | None = None) -> Response:
    """Submit a department batch the way a client does and read its result where the client reads it.

    The request only stores the batch and answers 202 (queued: nothing applied yet); its task is sent once
    the submission commits and runs inline here, as a worker would; the answer is the batch's status
    (its `status_url`), with each record's result.
    """
    from tests.api.openapi import assert_matches_schema

    body: dict[str, Any] = {"records": records}
    if as_of is not None:
        body["as_of"] = as_of
    with TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media), tasks_inline():
        with TestCase.captureOnCommitCallbacks(execute=True):
            submitted = feed_batch_send(source, body, key)
            assert submitted.status_code == 202, submitted.json()
            assert_matches_schema(submitted)
            taken = submitted.json()
            # Nothing was applied in the request: the batch waits for its task (sent on commit).
            assert (taken["status"], taken["processed"], taken["accepted"]) == ("queued", 0, [])
            assert FeedImport.objects.get(pk=taken["import_id"]).status == FeedImport.Status.QUEUED
        assert submitted["Location"] == taken["status_url"]
        response = APIClient().get(taken["status_url"], HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 200, response.json()
    assert_matches_schema(response)
    status = response.json()
    assert status["import_id"] == taken["import_id"] and status["status"] == "done", status
    assert (status["total"], status["processed"], status["percent"]) == (len(records), len(records), 100)
    return response
