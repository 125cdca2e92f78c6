from __future__ import annotations

from pathlib import Path

import pytest

from .support import apply_policy, decide


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """Uploaded files go to a temporary MEDIA_ROOT, never into the repository."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def version(alice):
    """A published 申报 policy, window open, that alice's enterprise is eligible for."""
    version = apply_policy()
    decide(alice.enterprise, version)
    return version


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())
