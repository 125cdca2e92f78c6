"""An expired or not-yet-effective version does not match: policy_in_effect and the callers that skip it."""

from __future__ import annotations

import datetime as dt

import pytest

from matching.core.calculator import profile_from_declared
from policies.selectors import eligibility_check, policy_in_effect, policy_list, published_versions_in_effect
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 6, 1)
SMALL_RULE = {"all": [{"fact": "size", "op": "in", "value": ["small"]}]}


@pytest.mark.parametrize(
    ("effective_from", "effective_to", "expected"),
    [
        (dt.date(2026, 1, 1), None, True),
        (dt.date(2026, 6, 1), dt.date(2026, 6, 1), True),  # both ends inclusive
        (dt.date(2026, 6, 2), None, False),  # not yet effective
        (dt.date(2025, 1, 1), dt.date(2026, 5, 31), False),  # expired
    ],
)
def test_policy_in_effect(effective_from, effective_to, expected):
    version = PolicyVersionFactory.build(published=True, effective_from=effective_from, effective_to=effective_to)

    assert policy_in_effect(version, ON) is expected


def test_only_published_versions_are_in_effect():
    version = PolicyVersionFactory.build(effective_from=dt.date(2026, 1, 1))

    assert policy_in_effect(version, ON) is False


def test_expired_and_future_versions_do_not_match():
    current = PolicyVersionFactory(published=True, rule=SMALL_RULE, effective_from=dt.date(2026, 1, 1))
    PolicyVersionFactory(published=True, rule=SMALL_RULE, effective_from=dt.date(2026, 7, 1))
    PolicyVersionFactory(published=True, rule=SMALL_RULE, effective_to=dt.date(2026, 5, 31))
    profile = profile_from_declared({"size": "small"}, on=ON)

    assert list(published_versions_in_effect(on=ON)) == [current]
    assert policy_list(on=ON) == [current]
    assert [r.version for r in eligibility_check(profile=profile, on=ON)] == [current]
