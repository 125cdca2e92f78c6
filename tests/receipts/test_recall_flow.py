"""A corrected version, published: the recall runs (a task) and lists what the old decisions got wrong."""

from __future__ import annotations

import pytest

from matching.services import match_profiles_refresh, policy_version_match
from policies.models import PolicyVersion
from portal import events
from portal.entitlements.models import Entitlement
from portal.recall.models import Correction, RecallItem
from tests.enterprises.factories import EnterpriseFactory
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db

RULE = {"all": [{"fact": "employees", "op": "gte", "value": 100}]}
# The corrected rule: 200 or more, or (the sentence the first version missed) a small firm under 100.
CORRECTED = {"any": [{"fact": "employees", "op": "gte", "value": 200}, {"fact": "employees", "op": "lt", "value": 100}]}


def test_publishing_a_corrected_version_lists_recovery_and_reissue(celery_eager, django_capture_on_commit_callbacks):
    wrongly_granted = EnterpriseFactory(employees=150)
    EnterpriseFactory(employees=250)  # entitled under both
    missed = EnterpriseFactory(employees=60)
    match_profiles_refresh()
    old = PolicyVersionFactory(published=True, mode="exempt", rule=RULE)
    policy_version_match(version_id=old.pk)
    assert Entitlement.objects.filter(policy_version=old).count() == 2
    PolicyVersion.objects.filter(pk=old.pk).update(status=PolicyVersion.Status.RETIRED)
    new = PolicyVersionFactory(policy=old.policy, number=2, published=True, mode="exempt", rule=CORRECTED)

    with django_capture_on_commit_callbacks(execute=True):
        events.emit(events.POLICY_PUBLISHED, version_id=new.pk)

    correction = Correction.objects.get(kind="rule", version=new)
    assert correction.replaced_version == old
    items = {i.kind: i for i in RecallItem.objects.filter(correction=correction)}
    assert set(items) == {"recovery", "reissue"}
    reissue = items["reissue"]
    assert (reissue.enterprise, reissue.old_receipt, reissue.new_outcome) == (missed, None, "eligible")
    item = items["recovery"]
    assert (item.kind, item.enterprise, item.status) == ("recovery", wrongly_granted, "pending")
    assert item.old_receipt is not None and item.old_receipt.outcome == "eligible"
    assert item.new_outcome == "ineligible" and item.entitlement is not None
    # Nothing moved by the recall itself: the entitlement is settled by the usual reconcile (待复核), not revoked.
    assert Entitlement.objects.get(pk=item.entitlement.pk).status in ("notified", "pending_review")

    with django_capture_on_commit_callbacks(execute=True):
        events.emit(events.POLICY_PUBLISHED, version_id=new.pk)  # announced again: listed once
    assert Correction.objects.filter(version=new).count() == 1 and RecallItem.objects.count() == 2


def test_a_first_version_or_a_new_period_corrects_nothing(celery_eager, django_capture_on_commit_callbacks):
    first = PolicyVersionFactory(published=True, mode="exempt", rule=RULE)
    PolicyVersion.objects.filter(pk=first.pk).update(status=PolicyVersion.Status.RETIRED)
    next_year = PolicyVersionFactory(
        policy=first.policy, number=2, published=True, mode="exempt", rule=CORRECTED, benefit_period="2027"
    )
    with django_capture_on_commit_callbacks(execute=True):
        events.emit(events.POLICY_PUBLISHED, version_id=first.pk)
        events.emit(events.POLICY_PUBLISHED, version_id=next_year.pk)
    assert not Correction.objects.exists()
