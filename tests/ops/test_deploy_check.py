"""Production settings: `check --deploy` is clean, and missing secrets stop start-up."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from tests.support.services import ROOT

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "portal.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "huiqi.example.gov.cn",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/huiqi",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set in production" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_ALLOWED_HOSTS"}

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must be set in production" in result.stderr


def test_production_installs_no_development_tools() -> None:
    """Benchmarks, the synthetic district, the demo loader and bootstrap are devtools' alone, and
    production settings do not install it: `manage.py help` there lists none of their commands."""
    result = run_manage("help", "--commands", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    commands = set(result.stdout.split())
    assert "migrate" in commands and "rematch" in commands and "import_feed" in commands
    assert not commands & {"bootstrap", "load_demo", "bench_matching", "bench_feed", "bench_fanout"}


def test_the_development_settings_install_the_development_tools() -> None:
    result = run_manage("help", "--commands", env={"DJANGO_SETTINGS_MODULE": "portal.settings.local"})

    assert result.returncode == 0, result.stdout + result.stderr
    assert {"bootstrap", "load_demo", "bench_matching", "bench_feed", "bench_fanout"} <= set(result.stdout.split())
