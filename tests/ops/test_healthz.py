"""GET /healthz: database, broker and worker status; 503 when a needed part is down."""

from __future__ import annotations

import pytest

from tests.support.services import free_port

pytestmark = pytest.mark.django_db


def test_inline_mode_needs_only_the_database(client, celery_eager) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["worker"]["required"] is False


def test_broker_down_is_503(client) -> None:
    from portal.celery import app

    previous = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    try:
        response = client.get("/healthz")
    finally:
        app.conf.task_always_eager, app.conf.broker_url = previous

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["broker"]["ok"] is False
    assert body["worker"]["ok"] is False


@pytest.mark.services
def test_broker_up_without_worker_is_503_then_200_with_worker(client, start_worker, staff_data_officer) -> None:
    from portal.celery import app

    anonymous = type(client)()
    client.force_login(staff_data_officer)  # staff see each part's detail; anonymous callers only up/down

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        down = client.get("/healthz")
        down_anonymous = anonymous.get("/healthz")
        start_worker()
        up = client.get("/healthz")
    finally:
        app.conf.task_always_eager = previous

    assert down.status_code == 503
    assert down.json()["worker"] == {"ok": False, "detail": "no worker answered", "required": True}
    assert down_anonymous.status_code == 503
    assert down_anonymous.json()["worker"] == {"ok": False, "required": True}
    assert up.status_code == 200, up.json()
    assert up.json()["worker"]["ok"] is True
