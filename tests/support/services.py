"""Real services for tests: PostgreSQL, the Redis broker and Celery worker processes.

Without services a test that needs them is skipped, unless REQUIRE_SERVICES=1 (CI),
where it fails instead: CI must never go green by skipping.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import TypeVar

import pytest
from django.conf import settings
from django.db import connection

from devtools.processes import ROOT, CeleryProcess, database_url
from devtools.processes import WorkerProcess as _WorkerProcess

T = TypeVar("T")


def services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def need(condition: bool, reason: str) -> None:
    """Skip (or, with REQUIRE_SERVICES=1, fail) unless `condition` holds."""
    if condition:
        return
    if services_required():
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def need_postgres() -> None:
    need(connection.vendor == "postgresql", "the test database is not PostgreSQL (set DATABASE_URL)")


def redis_reachable(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def need_redis() -> str:
    url = settings.REDIS_URL
    need(bool(url), "REDIS_URL is not set")
    need(redis_reachable(url), f"Redis at {url} does not answer")
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """URL of the database pytest-django created, for processes started by a test."""
    return database_url()


test_database_url.__test__ = False  # not a test, despite the name

TEST_SETTINGS = "portal.settings.test"


class _CeleryProcess(CeleryProcess):
    """A real `celery` subprocess on the test database (devtools.processes), with the test settings."""

    def __init__(self, *, broker_url: str, args: list[str], extra_env: dict[str, str] | None = None) -> None:
        super().__init__(broker_url=broker_url, args=args, extra_env=extra_env, settings_module=TEST_SETTINGS)


class WorkerProcess(_WorkerProcess):
    """A real `celery worker` subprocess on the test database and the test broker."""

    def __init__(self, *, broker_url: str, concurrency: int = 1, extra_env: dict[str, str] | None = None) -> None:
        super().__init__(
            broker_url=broker_url, concurrency=concurrency, extra_env=extra_env, settings_module=TEST_SETTINGS
        )


def wait_for(predicate: Callable[[], T], timeout: float = 20.0, interval: float = 0.1) -> T:
    """Poll `predicate` until it returns a truthy value; fail with a message after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(interval)


class PrivateRedis:
    """A throwaway redis-server on a free port (never the shared one)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_for(up, timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class BeatProcess(_CeleryProcess):
    """The single real `celery beat` subprocess (the project's DatabaseScheduler) on the test database and broker.

    `extra_env` carries short intervals for a test (e.g. JOB_SWEEP_INTERVAL_SECONDS).
    """

    kind = "beat"
    ready_marker = b"beat: Starting"

    def __init__(self, *, broker_url: str, extra_env: dict[str, str] | None = None) -> None:
        args = ["beat", "--loglevel=INFO", "--pidfile=", "--max-interval=1"]
        super().__init__(broker_url=broker_url, args=args, extra_env=extra_env)


def manage_shell(code: str, broker_url: str) -> subprocess.CompletedProcess[str]:
    """Run code in a separate web-like process on the test database and the given broker."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": broker_url,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def database_connections() -> int:
    """The connections to the test database now, this one included (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def database_connections_settled(expected: int, *, timeout: float = 5.0) -> int:
    """The connections to the test database once a closed one has gone (its backend exits just after the close),
    or as they are after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while (found := database_connections()) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def threads_named(prefix: str) -> list[str]:
    """The live threads of this process whose name starts with `prefix`."""
    import threading

    return [t.name for t in threading.enumerate() if t.name.startswith(prefix)]
