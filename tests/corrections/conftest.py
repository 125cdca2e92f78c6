from __future__ import annotations

from pathlib import Path

import pytest

from portal.accounts.roles import Role
from portal.corrections.services import department_assign
from tests.enterprises.factories import StaffUserFactory


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """Evidence files go to a temporary MEDIA_ROOT, never into the repository."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def stats_officer(db):
    """A 数据专员 of 统计局 (owns 从业人员)."""
    user = StaffUserFactory(username="stats_officer", roles=[Role.DATA_OFFICER])
    department_assign(user=user, department="statistics")
    return user


@pytest.fixture
def tax_officer(db):
    """A 数据专员 of 税务局: another department's officer, a stranger to 统计局's queue."""
    user = StaffUserFactory(username="tax_officer", roles=[Role.DATA_OFFICER])
    department_assign(user=user, department="tax")
    return user


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())
