"""A department API batch through a real worker: the request answers 202 before anything is applied (the web
process never calls feed_apply), a `celery worker` process applies it, and the status URL gives each record's
result once done."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from portal.accounts.services import api_key_create
from portal.enterprises import feeds
from portal.enterprises.models import Enterprise, FeedImport
from tests.enterprises.factories import EnterpriseFactory
from tests.support.services import wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_applies_the_batch_the_request_only_stored(start_worker, settings, tmp_path, monkeypatch) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    # In this (the web) process feed_apply must never run; the worker process has the real one.
    applied_here: list[dict[str, Any]] = []
    monkeypatch.setattr(feeds, "feed_apply", lambda **kwargs: applied_here.append(kwargs))
    monkeypatch.setattr(feeds, "_feed_apply", lambda **kwargs: applied_here.append(kwargs))
    good, bad = EnterpriseFactory(employees=150), EnterpriseFactory(employees=150)
    key = api_key_create(name="统计局数据接口", source="statistics")[1]
    client = APIClient(HTTP_AUTHORIZATION=f"Api-Key {key}")
    records = [
        {"credit_code": good.credit_code, "as_of": "2026-01-31", "employees": 9},
        {"credit_code": bad.credit_code, "employees": -1},
    ]

    response = client.post("/api/v1/feeds/statistics/records/", {"records": records}, format="json")

    assert response.status_code == 202
    # Answered before any processing: no worker runs yet, and this process applied nothing.
    assert (response.json()["status"], response.json()["processed"]) == ("queued", 0)
    assert applied_here == [] and Enterprise.objects.get(pk=good.pk).employees == 150
    assert FeedImport.objects.get(pk=response.json()["import_id"]).file.name.endswith(".json")

    start_worker(extra_env={"DJANGO_MEDIA_ROOT": str(tmp_path)})
    status_url = response.json()["status_url"]
    status = wait_for(lambda: (body := client.get(status_url).json())["status"] == "done" and body, timeout=60)

    assert applied_here == []
    assert status["accepted"] == [
        {"index": 0, "credit_code": good.credit_code, "status": "updated", "changed": ["employees"]}
    ]
    assert [(r["index"], [e["code"] for e in r["errors"]]) for r in status["rejected"]] == [(1, ["min_value"])]
    assert (status["accepted_count"], status["rejected_count"], status["changed_count"]) == (1, 1, 1)
    assert Enterprise.objects.get(pk=good.pk).employees == 9
    assert Enterprise.objects.get(pk=bad.pk).employees == 150
