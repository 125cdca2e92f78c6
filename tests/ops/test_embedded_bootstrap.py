"""`make run`'s set-up on the embedded defaults: SQLite, tasks inline, demo data, every policy matched.

CI's own tests run on PostgreSQL, so this is the test that keeps the SQLite path (the bulk matcher's
portable SQL included) working end to end.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.support.services import ROOT


def _embedded(tmp_path: Path) -> dict[str, str]:
    """The environment of `make run` on a fresh machine: SQLite in tmp_path, tasks inline (no REDIS_URL)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k not in ("REDIS_URL",)}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.sqlite3'}", DJANGO_MEDIA_ROOT=str(tmp_path / "media"))
    return env


def _manage(env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_bootstrap_on_sqlite_loads_the_demo_and_matches_it(tmp_path: Path) -> None:
    database = tmp_path / "embedded.sqlite3"
    result = _manage(_embedded(tmp_path), "bootstrap", "--url", "http://127.0.0.1:8000/")

    assert "http://127.0.0.1:8000/" in result.stdout
    assert "task_always_eager" in result.stdout  # says how tasks run, and how to switch
    assert "qiye_a" in result.stdout  # the demo logins are printed
    with sqlite3.connect(database) as db:
        outcomes = dict(db.execute("SELECT outcome, count(*) FROM matching_matchrecord GROUP BY outcome").fetchall())
        (entitlements,) = db.execute("SELECT count(*) FROM entitlements_entitlement").fetchone()
        (explained,) = db.execute("SELECT count(*) FROM matching_matchrecord WHERE explanation IS NULL").fetchone()
    assert outcomes.get("eligible", 0) > 0 and outcomes.get("needs_info", 0) > 0
    # The summary is the true count of what this run decided (every record is new on a fresh
    # database), labelled in Chinese, never "0 条…有变化 {}" or change-kind codes.
    changed = sum(outcomes.values())
    assert f"本次 {changed} 条匹配结果有变化" in result.stdout, result.stdout[-3000:]
    assert f"新符合条件 {outcomes['eligible']} 条" in result.stdout
    assert f"符合条件 {outcomes['eligible']} 条，需补充信息 {outcomes['needs_info']} 条" in result.stdout
    assert "newly_eligible" not in result.stdout and "{}" not in result.stdout
    assert entitlements > 0  # 免申即享 granted from the demo's department data
    assert explained == 0  # every decision carries its explanation


RESTATE_SCRIPT = """
from datetime import date
from matching.models import MatchRecord, MatchRun
from matching.services import match_run_execute
from policies.models import PolicyVersion
from portal.enterprises.models import Enterprise, Qualification

firm = Enterprise.objects.get(name="苏州澄芯微电子科技有限公司")
Qualification.objects.filter(enterprise=firm, kind="tech_sme").update(valid_to=date(2026, 12, 6))  # its last day
version = PolicyVersion.objects.get(status="published", title__contains="科技创新专板")
for day in (date(2026, 12, 6), date(2026, 12, 7)):
    MatchRun.objects.filter(nightly_for__isnull=False).update(nightly_for=None)
    run = MatchRun.objects.create(kind=MatchRun.Kind.NIGHTLY, nightly_for=day)
    match_run_execute(run=run, on=day)
    record = MatchRecord.objects.get(enterprise=firm, policy_version=version)
    shown = ",".join(c["value"] + ":" + c["result"] for c in record.explanation["conditions"][:2])
    print("DAY", day, record.outcome, record.states, record.explanation["on"], shown)
"""


def test_on_sqlite_a_full_pass_restates_a_condition_that_moved_while_the_decision_stood(tmp_path: Path) -> None:
    """科技创新专板 asks for 高新技术企业 or 科技型中小企业: the demo enterprise holds both until its 科技型中小企业
    qualification lapses. Eligible either way; each day's record shows that day's result of each."""
    env = _embedded(tmp_path)
    _manage(env, "bootstrap", "--url", "http://127.0.0.1:8000/")
    result = _manage(env, "shell", "-c", RESTATE_SCRIPT)
    days = [line.split()[1:] for line in result.stdout.splitlines() if line.startswith("DAY ")]
    # The first day a full pass (SQLite: version by version, then the stale explanations restated); the
    # next the changed-only run. The outcome stands; the letters and what the page explains follow the day.
    assert days == [
        ["2026-12-06", "eligible", "MMMM", "2026-12-06", "high_tech:met,tech_sme:met"],
        ["2026-12-07", "eligible", "MNMM", "2026-12-07", "high_tech:met,tech_sme:unmet"],
    ]
