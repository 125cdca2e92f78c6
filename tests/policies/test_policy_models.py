"""Database constraints of policy versions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from policies.models import PolicyVersion
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db


def test_at_most_one_published_version_per_policy():
    first = PolicyVersionFactory(published=True)
    PolicyVersionFactory(policy=first.policy, number=2, status=PolicyVersion.Status.RETIRED)

    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersionFactory(policy=first.policy, number=3, published=True)


def test_version_numbers_are_unique_per_policy():
    first = PolicyVersionFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersionFactory(policy=first.policy, number=1)
    PolicyVersionFactory(number=1)  # another policy's first version is fine


def test_effective_period_is_ordered():
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersionFactory(effective_from=dt.date(2026, 6, 1), effective_to=dt.date(2026, 1, 1))


def test_current_published():
    version = PolicyVersionFactory(published=True)
    draft = PolicyVersionFactory(policy=version.policy, number=2)

    assert version.policy.current_published == version
    assert draft.policy.current_published == version
