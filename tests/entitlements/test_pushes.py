"""Pushes that follow a match decision, in the same transaction: once per (enterprise, version, kind)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from matching.bulk import ChangedRecord
from matching.services import enterprise_match, match_profiles_refresh, policy_version_match
from portal.enterprises.services import enterprise_update_facts
from portal.entitlements import services as entitlement_services
from portal.entitlements.models import Entitlement
from portal.entitlements.reminders import apply_deadline_reminders, qualification_expiry_reminders
from portal.notifications.models import Notification
from tests.enterprises.factories import EnterpriseFactory, QualificationFactory
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db

RULE = {
    "all": [{"fact": "industry", "op": "under", "value": ["39"]}, {"fact": "rd_expense_ratio", "op": "gte", "value": 3}]
}


def kinds(enterprise) -> list[str]:
    return sorted(Notification.objects.filter(enterprise=enterprise).values_list("kind", flat=True))


def test_apply_policy_tells_eligible_to_apply_and_others_what_is_missing() -> None:
    eligible = EnterpriseFactory()
    unknown = EnterpriseFactory(rd_expense_ratio=None)
    match_profiles_refresh()
    today = timezone.localdate()
    version = PolicyVersionFactory(published=True, rule=RULE, application_end=today + timedelta(days=2))

    policy_version_match(version_id=version.pk)
    policy_version_match(version_id=version.pk)

    assert kinds(eligible) == ["may_apply"]
    assert kinds(unknown) == ["needs_info"]
    body = Notification.objects.get(enterprise=unknown).body
    assert "研发费用" in body
    assert Entitlement.objects.count() == 0  # apply policies never create entitlements
    # Reminder before the window closes, once.
    assert apply_deadline_reminders(today=today) == 1
    assert apply_deadline_reminders(today=today) == 0
    assert kinds(eligible) == ["apply_deadline", "may_apply"]


def test_self_declared_eligibility_asks_for_confirmation_not_an_entitlement() -> None:
    verified = EnterpriseFactory()
    declared = EnterpriseFactory(facts_source="self_declared")
    match_profiles_refresh()
    version = PolicyVersionFactory(published=True, rule=RULE, mode="exempt")

    policy_version_match(version_id=version.pk)

    assert list(Entitlement.objects.values_list("enterprise_id", flat=True)) == [verified.pk]
    assert Entitlement.objects.get().explanation["status"] == "eligible"
    assert kinds(verified) == ["exempt_granted"]
    assert kinds(declared) == ["confirm_fact"]


def test_one_call_for_many_versions_names_each_versions_own_pending_facts_and_contact() -> None:
    """The nightly run hands every version's changes to one handler call (events.emit_many), which reads
    the enterprises' profiles once for all of them: each 请核验 still names its own version's self-declared
    fact and contact, and no other version's."""
    declared = [EnterpriseFactory(facts_source="self_declared") for _ in range(2)]
    match_profiles_refresh()
    rd = PolicyVersionFactory(published=True, mode="exempt", rule=RULE, title="研发补助（示例）")
    staff = PolicyVersionFactory(
        published=True,
        mode="exempt",
        rule={"all": [{"fact": "employees", "op": "gte", "value": 100}]},
        title="稳岗奖励（示例）",
        department="区人社局",
        contact_name="李强（示例）",
    )
    payloads = [
        {
            "version_id": version.pk,
            # A newly eligible decision on self-declared data (the record id is read only for needs-info).
            "changes": [ChangedRecord(0, e.pk, "eligible", False, "ineligible", False) for e in declared],
            "run_id": None,
        }
        for version in (rd, staff)
    ]

    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        entitlement_services.on_match_changes.many(payloads)

    qualification_reads = [q for q in queries.captured_queries if '"enterprises_qualification"' in q["sql"]]
    assert len(qualification_reads) == 1  # the profiles, read once for both versions
    assert Entitlement.objects.count() == 0  # self-declared: nothing granted
    for enterprise in declared:
        bodies = dict(
            Notification.objects.filter(enterprise=enterprise, kind="confirm_fact").values_list("title", "body")
        )
        assert set(bodies) == {"请核验信息以享受：研发补助（示例）", "请核验信息以享受：稳岗奖励（示例）"}
        rd_body, staff_body = bodies["请核验信息以享受：研发补助（示例）"], bodies["请核验信息以享受：稳岗奖励（示例）"]
        assert "研发费用占营业收入比例" in rd_body and "王敏（示例）" in rd_body
        assert "从业人员" not in rd_body and "李强（示例）" not in rd_body
        assert "从业人员" in staff_body and "区人社局，联系人李强（示例）" in staff_body
        assert "研发费用占营业收入比例" not in staff_body and "王敏（示例）" not in staff_body


def test_department_data_arriving_later_grants_the_entitlement_once() -> None:
    enterprise = EnterpriseFactory(rd_expense_ratio=None)
    match_profiles_refresh()
    version = PolicyVersionFactory(published=True, rule=RULE, mode="exempt")
    policy_version_match(version_id=version.pk)
    assert Entitlement.objects.count() == 0

    enterprise_update_facts(enterprise=enterprise, facts={"rd_expense_ratio": "5"}, source="science_tech")
    enterprise_match(enterprise_id=enterprise.pk)
    enterprise_match(enterprise_id=enterprise.pk)

    entitlement = Entitlement.objects.get()
    assert entitlement.enterprise == enterprise and entitlement.explanation["verified"] is True
    assert kinds(enterprise) == ["exempt_granted", "needs_info"]


def test_expiring_qualification_that_a_match_rests_on_is_reminded_once() -> None:
    enterprise = EnterpriseFactory()
    today = timezone.localdate()
    QualificationFactory(enterprise=enterprise, valid_to=today + timedelta(days=30))
    match_profiles_refresh()
    rule = {"fact": "qualification", "op": "has", "value": "high_tech"}
    policy_version_match(version_id=PolicyVersionFactory(published=True, rule=rule).pk)

    assert qualification_expiry_reminders(today=today) == 1
    assert qualification_expiry_reminders(today=today) == 0
    assert "high_tech" not in Notification.objects.get(kind="qualification_expiring").body
    assert qualification_expiry_reminders(today=today, lead_days=10) == 0
