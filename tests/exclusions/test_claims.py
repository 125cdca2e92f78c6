"""同一事项不重复享受: the claim table's unique key, the losers of a fan-out, the enterprise's choice, approvals."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from policies.models import PolicyVersion
from portal.api.exceptions import ApplicationError
from portal.applications.models import Application
from portal.applications.services import application_approve
from portal.entitlements import services
from portal.entitlements.models import Entitlement
from portal.exclusions.models import ExclusionClaim
from portal.notifications.models import Notification
from tests.applications.support import apply_policy
from tests.enterprises.factories import EnterpriseFactory
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db

Status = Entitlement.Status
RULE = {"fact": "dishonest", "op": "eq", "value": False}


def exempt(title: str, groups: list[str], **fields) -> object:
    return PolicyVersionFactory(
        published=True, mode="exempt", rule=dict(RULE), title=title, exclusion_groups=groups, **fields
    )


def grant(version, enterprise_ids: list[int]) -> dict[int, str]:
    """What on_match_changes does with new verified-eligible decisions (inside one transaction)."""
    with transaction.atomic():
        created = services._entitlements_create(version=version, enterprise_ids=enterprise_ids)
        return services._entitlements_exclude_losers(version=version, enterprise_ids=created)


def claim(enterprise, version, entitlement, group="研发补助", period="2026") -> ExclusionClaim:
    return ExclusionClaim.objects.create(
        enterprise=enterprise,
        group=group,
        period=period,
        policy_id=version.policy_id,
        policy_version=version,
        entitlement=entitlement,
        claimed_at=timezone.now(),
    )


def test_the_database_refuses_a_second_claim_on_one_group_and_period() -> None:
    enterprise = EnterpriseFactory()
    first, second = exempt("甲补贴（示例）", ["研发补助"]), exempt("乙补贴（示例）", ["研发补助"])
    a = Entitlement.objects.create(enterprise=enterprise, policy_version=first, determined_at=timezone.now())
    b = Entitlement.objects.create(enterprise=enterprise, policy_version=second, determined_at=timezone.now())
    claim(enterprise, first, a)
    with pytest.raises(IntegrityError), transaction.atomic():
        claim(enterprise, second, b)
    # Another period, another group or another enterprise is another claim.
    claim(enterprise, second, b, period="2027")
    claim(enterprise, second, b, group="人才奖励")
    assert ExclusionClaim.objects.count() == 3
    # A claim has exactly one holder.
    with pytest.raises(IntegrityError), transaction.atomic():
        ExclusionClaim.objects.create(
            enterprise=EnterpriseFactory(),
            group="研发补助",
            period="2026",
            policy_id=first.policy_id,
            policy_version=first,
            claimed_at=timezone.now(),
        )


def test_a_second_exclusive_policy_sets_its_entitlements_aside_with_a_clear_note() -> None:
    enterprises = [EnterpriseFactory() for _ in range(3)]
    ids = [e.pk for e in enterprises]
    first = exempt("研发费用补助（示例）", ["研发投入"])
    second = exempt("研发机构奖励（示例）", ["研发投入", "其他"])

    assert grant(first, ids[:2]) == {}
    notes = grant(second, ids)

    assert set(notes) == set(ids[:2])
    assert notes[ids[0]] == "与「研发费用补助（示例）」同属一类事项，不重复享受"
    lost = Entitlement.objects.filter(policy_id=second.policy_id, enterprise_id__in=ids[:2])
    assert {e.status for e in lost} == {Status.EXCLUDED}
    assert all(e.exclusion_note == notes[ids[0]] for e in lost)
    assert lost[0].transitions.order_by("-at", "-id")[0].reason == notes[ids[0]]
    # The third enterprise holds both groups with the second policy; losers keep no partial claim.
    assert Entitlement.objects.get(policy_id=second.policy_id, enterprise_id=ids[2]).status == Status.NOTIFIED
    assert sorted(ExclusionClaim.objects.filter(enterprise_id=ids[2]).values_list("group", flat=True)) == [
        "其他",
        "研发投入",
    ]
    assert not ExclusionClaim.objects.filter(entitlement__in=lost).exists()
    payable = Entitlement.objects.exclude(status__in=[Status.EXCLUDED, Status.REVOKED])
    assert sorted(payable.values_list("enterprise_id", flat=True)) == sorted(ids)  # one each


def test_on_match_changes_pushes_the_loser_a_notice_instead_of_a_grant() -> None:
    from matching.bulk import ChangedRecord
    from matching.models import MatchOutcome

    enterprise = EnterpriseFactory()
    first, second = exempt("甲补贴（示例）", ["同类"]), exempt("乙补贴（示例）", ["同类"])
    for version in (first, second):
        change = ChangedRecord(
            record_id=0,
            enterprise_id=enterprise.pk,
            outcome=MatchOutcome.ELIGIBLE,
            verified=True,
            previous_outcome="",
            previous_verified=False,
        )
        with transaction.atomic():
            services.on_match_changes(version_id=version.pk, changes=[change], run_id=None)
    kinds = list(Notification.objects.filter(enterprise=enterprise).order_by("id").values_list("kind", "title"))
    assert kinds == [
        (Notification.Kind.EXEMPT_GRANTED, "免申即享：甲补贴（示例）"),
        (Notification.Kind.ENTITLEMENT_UPDATE, "同类事项不重复享受：乙补贴（示例）"),
    ]
    body = Notification.objects.get(kind=Notification.Kind.ENTITLEMENT_UPDATE).body
    assert "与「甲补贴（示例）」同属一类事项，不重复享受" in body


def test_the_enterprise_may_choose_the_other_until_the_first_is_paid(alice, bob, charlie) -> None:
    first, second = exempt("甲补贴（示例）", ["同类"]), exempt("乙补贴（示例）", ["同类"])
    grant(first, [alice.enterprise_id])
    grant(second, [alice.enterprise_id])
    held = Entitlement.objects.get(policy_id=first.policy_id)
    lost = Entitlement.objects.get(policy_id=second.policy_id)

    with pytest.raises(ApplicationError):  # a stranger: refused, nothing changed
        services.entitlement_choose(entitlement=lost, by=charlie)
    assert Entitlement.objects.get(pk=lost.pk).status == Status.EXCLUDED
    assert ExclusionClaim.objects.get().entitlement_id == held.pk

    chosen = services.entitlement_choose(entitlement=lost, by=bob)

    assert chosen.status == Status.CONFIRMED and chosen.exclusion_note == ""
    held.refresh_from_db()
    assert held.status == Status.EXCLUDED and "企业选择享受「乙补贴（示例）」" in held.exclusion_note
    assert ExclusionClaim.objects.get().entitlement_id == lost.pk
    # Paid: no switching back.
    services.entitlement_disburse(entitlement=chosen, by=_deciding())
    with pytest.raises(ApplicationError) as refused:
        services.entitlement_choose(entitlement=held, by=bob)
    assert refused.value.code == "exclusive_locked"
    assert Entitlement.objects.get(pk=held.pk).status == Status.EXCLUDED


def test_revoking_frees_the_group() -> None:
    enterprise = EnterpriseFactory()
    first = exempt("甲补贴（示例）", ["同类"])
    grant(first, [enterprise.pk])
    services.entitlement_revoke(entitlement=Entitlement.objects.get(), by=_deciding(), reason="数据有误")
    assert not ExclusionClaim.objects.exists()


def test_an_approval_in_a_held_group_is_refused_and_nothing_changes(staff_reviewer) -> None:
    enterprise = EnterpriseFactory()
    held = exempt("甲补贴（示例）", ["同类"], benefit_period="once")
    grant(held, [enterprise.pk])
    version = apply_policy(title="乙申报（示例）", exclusion_groups=["同类"])
    application = Application.objects.create(
        enterprise=enterprise,
        policy_version=version,
        status=Application.Status.ACCEPTED,
        contact_name="王五",
        contact_phone="13800000000",
        submitted_at=timezone.now(),
    )
    with pytest.raises(ApplicationError) as refused:
        application_approve(application=application, by=staff_reviewer)
    assert refused.value.code == "exclusive_conflict" and refused.value.http_status == 409
    assert "与「甲补贴（示例）」同属一类事项，不重复享受" in refused.value.message
    application.refresh_from_db()
    assert application.status == Application.Status.ACCEPTED and not application.transitions.exists()
    assert ExclusionClaim.objects.count() == 1


def test_an_approved_application_holds_the_group_against_a_later_entitlement(staff_reviewer) -> None:
    enterprise = EnterpriseFactory()
    version = apply_policy(title="乙申报（示例）", exclusion_groups=["同类"])
    application = Application.objects.create(
        enterprise=enterprise,
        policy_version=version,
        status=Application.Status.ACCEPTED,
        contact_name="王五",
        contact_phone="13800000000",
        submitted_at=timezone.now(),
    )
    application_approve(application=application, by=staff_reviewer)
    later = exempt("甲补贴（示例）", ["同类"], benefit_period="once")
    assert grant(later, [enterprise.pk]) == {enterprise.pk: "与「乙申报（示例）」同属一类事项，不重复享受"}


def _deciding():
    from portal.accounts.roles import Role
    from tests.enterprises.factories import StaffUserFactory

    return StaffUserFactory(roles=[Role.DATA_OFFICER])


def test_the_nightly_check_counts_benefits_that_bypassed_the_claims(staff_reviewer) -> None:
    from portal.ops.invariants import invariant_counts

    enterprise = EnterpriseFactory()
    first, second = exempt("甲补贴（示例）", ["同类"]), exempt("乙补贴（示例）", ["同类"])
    grant(first, [enterprise.pk])
    grant(second, [enterprise.pk])
    assert invariant_counts()["duplicate_exclusive_benefits"] == 0  # the loser is not payable
    # Groups added to a policy after both were granted: nothing claimed, both payable.
    Entitlement.objects.filter(policy_id=second.policy_id).update(status=Status.NOTIFIED)
    assert invariant_counts()["duplicate_exclusive_benefits"] == 1
    version = apply_policy(title="丙申报（示例）", exclusion_groups=["同类"], benefit_period="once")
    Application.objects.create(
        enterprise=enterprise,
        policy_version=version,
        status=Application.Status.APPROVED,
        contact_name="王五",
        contact_phone="13800000000",
        submitted_at=timezone.now(),
    )
    assert invariant_counts()["duplicate_exclusive_benefits"] == 2


def test_a_corrected_version_that_adds_groups_claims_them_for_standing_entitlements() -> None:
    enterprise, other = EnterpriseFactory(), EnterpriseFactory()
    v1 = exempt("甲补贴（示例）", [])
    grant(v1, [enterprise.pk, other.pk])
    holder = exempt("乙补贴（示例）", ["同类"])
    grant(holder, [other.pk])
    PolicyVersion.objects.filter(pk=v1.pk).update(status="retired")
    v2 = PolicyVersionFactory(
        policy=v1.policy, number=2, published=True, mode="exempt", rule=dict(RULE), exclusion_groups=["同类"]
    )
    with transaction.atomic():
        services._entitlements_rebase(version=v2, enterprise_ids=[enterprise.pk, other.pk])
    claims = dict(ExclusionClaim.objects.values_list("enterprise_id", "policy_id"))
    assert claims == {enterprise.pk: v1.policy_id, other.pk: holder.policy_id}  # the held one stays held
