"""Only the development tools may remove notices: no production module imports the purge."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from portal.notices.models import DecisionNotice
from portal.notices.purge import notices_purge
from portal.notices.services import NoticeSpec, notices_issue
from tests.applications.support import apply_policy

ROOT = Path(__file__).resolve().parents[2]


def test_no_production_module_imports_the_purge() -> None:
    users = [
        path.relative_to(ROOT).as_posix()
        for package in ("matching", "policies", "portal", "frontend")
        for path in (ROOT / package).rglob("*.py")
        if "import notices_purge" in path.read_text(encoding="utf-8")
        or "from portal.notices.purge" in path.read_text(encoding="utf-8")
        or "from .purge" in path.read_text(encoding="utf-8")
    ]
    assert users == []


@pytest.mark.django_db
def test_the_purge_deletes_and_nothing_else_does(alice) -> None:
    version = apply_policy()
    [notice] = notices_issue(items=[NoticeSpec(alice.enterprise.pk, "granted", "k", version.pk, decision="予以享受。")])
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
            DecisionNotice.objects.filter(pk=notice.pk)._raw_delete(DecisionNotice.objects.db)
    assert notices_purge(DecisionNotice.objects.filter(pk=notice.pk)) == 1
    assert not DecisionNotice.objects.exists()
    # The setting was local to the purge's transaction: deleting is refused again.
    [again] = notices_issue(items=[NoticeSpec(alice.enterprise.pk, "granted", "k2", version.pk, decision="予以享受。")])
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
            DecisionNotice.objects.filter(pk=again.pk)._raw_delete(DecisionNotice.objects.db)
