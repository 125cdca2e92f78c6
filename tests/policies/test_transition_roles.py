"""Every timeline row (portal.lifecycle.Transition) records the role its actor held at that moment."""

from __future__ import annotations

import pytest

from policies.models import PolicyTransition
from portal.lifecycle import ActorRole
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db


def test_a_row_written_without_a_role_takes_its_actors(staff_editor, staff_reviewer) -> None:
    version = PolicyVersionFactory(author=staff_editor)
    created = PolicyTransition.objects.create(version=version, action="create", to_status="draft", by=staff_editor)
    approved = PolicyTransition.objects.create(
        version=version, action="approve", from_status="in_review", to_status="in_review", by=staff_reviewer
    )
    assert (created.by_role, approved.by_role) == (ActorRole.POLICY_EDITOR, ActorRole.REVIEWER)
    assert [t.pk for t in version.transitions.all()] == [created.pk, approved.pk]  # oldest first
    assert str(approved) == "审核通过：in_review → in_review"
