"""Shared fixtures. Per-app fixtures live in tests/<app>/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.enterprises.fixtures import *  # noqa: F403 - shared users (alice, bob, charlie, staff_*), api_client
from tests.support.services import WorkerProcess, need_postgres, need_redis


@pytest.fixture
def celery_eager() -> Iterator[None]:
    """Run tasks inline for a test of task bodies, whatever REDIS_URL says."""
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


@pytest.fixture
def broker_url() -> str:
    return need_redis()


@pytest.fixture
def start_worker(transactional_db, broker_url: str) -> Iterator:
    """Factory: start real `celery worker` processes on PostgreSQL + Redis; all stopped at teardown.

    Leftover messages from earlier tests are purged first, so a worker only sees this test's tasks.
    """
    need_postgres()
    from portal.celery import app

    app.control.purge()
    workers: list[WorkerProcess] = []

    def start(**kwargs: object) -> WorkerProcess:
        worker = WorkerProcess(broker_url=broker_url, **kwargs)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture(autouse=True)
def _seed_data_present(request: pytest.FixtureRequest) -> None:
    """Zones, townships, parks and the role groups come from data migrations, and transactional tests
    (browser and worker tests) flush every table when they end; put them back before any database test."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if marker is None and not names & {"db", "transactional_db", "live_server"}:
        return
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        names & {"transactional_db", "live_server"}
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    from portal.enterprises.models import Township

    if not Township.objects.exists():
        import importlib

        from django.apps import apps

        importlib.import_module("portal.enterprises.migrations.0002_seed_places").seed(apps, None)
    from django.contrib.auth.models import Group

    if not Group.objects.exists():  # the role groups come from a data migration too
        import importlib

        from django.apps import apps

        importlib.import_module("portal.accounts.migrations.0002_api_keys_and_roles").create_role_groups(apps, None)


@pytest.fixture(autouse=True)
def _initial_place_names() -> Iterator[None]:
    """The rule wording holds the database's zone and park names (portal.enterprises.place_names); a test
    that renamed one rolls the rename back, so the next test starts from the initial names again."""
    yield
    from portal.enterprises.place_names import place_names_reset

    place_names_reset()
