"""Fixtures for notification tests. Users come from tests/enterprises/fixtures.py (alice and bob share
`enterprise_a`; charlie is the stranger; staff_data_officer, staff_auditor)."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import backends


@pytest.fixture
def enterprise(enterprise_a):
    """Alice's and bob's enterprise."""
    return enterprise_a


@pytest.fixture
def staff(staff_data_officer):
    return staff_data_officer


@pytest.fixture
def auditor(staff_auditor):
    return staff_auditor


@pytest.fixture
def send_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the test e-mail backends record what they did (also passed on to worker processes)."""
    path = tmp_path / "sends.log"
    monkeypatch.setenv(backends.LOG_ENV, str(path))
    return path
