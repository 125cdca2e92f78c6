"""Real Celery processes started by a program (a test, a benchmark) on this project's database and a broker.

`WorkerProcess` runs `celery -A portal worker` in its own process group, with the caller's database (the
one Django is connected to) and settings module unless told otherwise; `kill()` is SIGKILL for the whole
group (the worker and its pool children), `stop()` a warm shutdown. Used by the suite's real-worker tests
(tests/support/services.py) and by bench_matching's spread pass.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """URL of the database Django is connected to (the test database under pytest-django), for processes
    started from here."""
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class CeleryProcess:
    """A real `celery` subprocess (its own process group) on this database and the given broker."""

    kind = "celery"
    ready_marker = b""

    def __init__(
        self,
        *,
        broker_url: str,
        args: list[str],
        extra_env: dict[str, str] | None = None,
        settings_module: str | None = None,
    ) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings_module
            or os.environ.get("DJANGO_SETTINGS_MODULE", "portal.settings.local"),
            "DATABASE_URL": database_url(),
            "REDIS_URL": broker_url,
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        self.log_path = Path(tempfile.gettempdir()) / f"huiqi-{self.kind}-{uuid.uuid4().hex[:8]}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - a fixed argv: this interpreter running celery
            [sys.executable, "-m", "celery", "-A", "portal", *args],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited early:\n{self.log()}")
            if self.ready_marker in self.log_path.read_bytes():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.kind} not ready after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group (a worker and its pool children)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


class WorkerProcess(CeleryProcess):
    """A real `celery worker` subprocess on this database and the given broker."""

    kind = "worker"
    ready_marker = b"ready."

    def __init__(
        self,
        *,
        broker_url: str,
        concurrency: int = 1,
        extra_env: dict[str, str] | None = None,
        settings_module: str | None = None,
    ) -> None:
        self.name = f"test-{uuid.uuid4().hex[:8]}@%h"
        args = [
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            "--pool=prefork",
            "-n",
            self.name,
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ]
        super().__init__(broker_url=broker_url, args=args, extra_env=extra_env, settings_module=settings_module)
