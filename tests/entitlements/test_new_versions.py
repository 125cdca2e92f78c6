"""A corrected version of a live 免申即享 policy never pays twice and pushes only what changed (PostgreSQL).

Every version goes through the real workflow (create → submit → approve → publish); publishing's
on-commit hook requests the bulk run, which runs inline (Celery eager) inside
`django_capture_on_commit_callbacks(execute=True)`.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from matching.bulk import ChangedRecord, Decided
from matching.core.evaluator import compile_rule
from matching.core.receipt import rule_hash
from matching.models import MatchRecord, MatchRun
from matching.services import decided_record, enterprise_match, match_profiles_refresh, policy_version_match
from policies.models import PolicyVersion
from policies.services import (
    policy_approve,
    policy_create,
    policy_publish,
    policy_submit,
    policy_version_create_draft,
    policy_version_update,
)
from portal import events
from portal.enterprises.selectors import enterprise_profiles_read
from portal.entitlements import services
from portal.entitlements.models import Entitlement, EntitlementTransition
from portal.notifications.models import Delivery, Notification
from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory
from tests.support.services import need_postgres

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

Status = Entitlement.Status


def rule(min_rd: int) -> dict:
    return {
        "all": [
            {"fact": "industry", "op": "under", "value": ["39"]},
            {"fact": "rd_expense_ratio", "op": "gte", "value": min_rd},
        ]
    }


@pytest.fixture(autouse=True)
def _postgres() -> None:
    need_postgres()


@pytest.fixture
def district():
    """Enterprises with R&D ratio 6.5, 4.0, 2.5, unknown, and 6.5 self-declared; each with a user so pushes
    reach the outbox."""
    made = {
        "strong": EnterpriseFactory(rd_expense_ratio=Decimal("6.5")),
        "middle": EnterpriseFactory(rd_expense_ratio=Decimal("4.0")),
        "weak": EnterpriseFactory(rd_expense_ratio=Decimal("2.5")),
        "unknown": EnterpriseFactory(rd_expense_ratio=None),
        "declared": EnterpriseFactory(rd_expense_ratio=Decimal("6.5"), facts_source="self_declared"),
    }
    for enterprise in made.values():
        EnterpriseUserFactory(enterprise=enterprise)
    match_profiles_refresh()
    return made


def _publish(version, editor, reviewer, django_capture_on_commit_callbacks, *, hold_run: bool = False):
    """Submit, approve and publish; the bulk run runs inline unless `hold_run` (the test then writes the
    version's decisions itself)."""
    policy_submit(version=version, by=editor)
    policy_approve(version=version, by=reviewer)
    with django_capture_on_commit_callbacks(execute=not hold_run):
        published = policy_publish(version=version, by=reviewer)
    if not hold_run:
        assert MatchRun.objects.filter(policy_version=published, status="done").exists()  # the real bulk run ran
    return published


def _exempt_draft(
    editor, *, key: str, title: str = "示例", min_rd: int = 3, benefit_period: str = "once"
) -> PolicyVersion:
    """A draft 免申即享 policy with its responsible contact (落实到人), effective since 2020."""
    return policy_create(
        by=editor,
        key=key,
        title=title,
        summary="示例",
        benefit_kind="subsidy",
        mode="exempt",
        benefit_period=benefit_period,
        effective_from=timezone.localdate().replace(year=2020),
        rule=rule(min_rd),
        department="区科技创新局",
        contact_name="韩杰（示例）",
        contact_phone="0512-0000-0026（示例）",
    )


@pytest.fixture
def publish(staff_editor, staff_reviewer, django_capture_on_commit_callbacks):
    """publish(min_rd, title=…) publishes the first version, or a new version of the same policy."""
    state: dict = {}

    def go(min_rd: int, *, title: str = "研发投入奖励（示例）", benefit_period: str = "once") -> PolicyVersion:
        if "policy" not in state:
            draft = _exempt_draft(
                staff_editor, key="rd-reward-exempt", title=title, min_rd=min_rd, benefit_period=benefit_period
            )
            state["policy"] = draft.policy
        else:
            draft = policy_version_create_draft(policy=state["policy"], by=staff_editor)
            draft = policy_version_update(
                version=draft, by=staff_editor, title=title, rule=rule(min_rd), benefit_period=benefit_period
            )
        return _publish(draft, staff_editor, staff_reviewer, django_capture_on_commit_callbacks)

    return go


def counts() -> tuple[int, int]:
    return Notification.objects.count(), Delivery.objects.count()


def entitlement_of(enterprise) -> Entitlement:
    return Entitlement.objects.get(enterprise=enterprise)


def test_same_conditions_keep_one_entitlement_each_and_push_nothing(district, publish) -> None:
    v1 = publish(3)
    assert {e.enterprise_id for e in Entitlement.objects.all()} == {district["strong"].pk, district["middle"].pk}
    before = counts()
    # Two grants, the unknown one's NEEDS_INFO, the self-declared one's CONFIRM_FACT, and their deliveries.
    assert sorted(Notification.objects.values_list("kind", flat=True)) == [
        "confirm_fact",
        "exempt_granted",
        "exempt_granted",
        "needs_info",
    ]
    assert before[1] >= 4

    v2 = publish(3, title="研发投入奖励（示例，更正联系方式）")

    assert PolicyVersion.objects.get(pk=v1.pk).status == PolicyVersion.Status.RETIRED
    assert Entitlement.objects.count() == 2  # one payable entitlement each
    for enterprise in (district["strong"], district["middle"]):
        entitlement = entitlement_of(enterprise)
        assert entitlement.policy_version_id == v2.pk and entitlement.status == Status.NOTIFIED
        assert entitlement.explanation["status"] == "eligible"
        rebase = entitlement.transitions.get(previous_version=v1)
        assert rebase.policy_version_id == v2.pk and rebase.previous_explanation["status"] == "eligible"
        assert rebase.by_role == "system" and "第2版" in rebase.reason
    assert counts() == before  # no inbox notice, no e-mail / SMS / webhook row


def test_tightened_conditions_send_the_dropped_to_review_never_revoked(district, publish, staff_reviewer) -> None:
    publish(3)
    services.entitlement_confirm(
        entitlement=entitlement_of(district["middle"]),
        by=EnterpriseUserFactory(enterprise=district["middle"]),
    )
    notices = Notification.objects.count()

    v2 = publish(5)

    kept, dropped = entitlement_of(district["strong"]), entitlement_of(district["middle"])
    assert kept.status == Status.NOTIFIED and kept.policy_version_id == v2.pk
    assert dropped.status == Status.PENDING_REVIEW and dropped.status_before_review == Status.CONFIRMED
    assert dropped.policy_version_id != v2.pk and dropped.review_version_id == v2.pk
    assert dropped.explanation["status"] == "eligible"  # both decisions, side by side
    assert dropped.review_explanation["status"] == "ineligible"
    assert not Entitlement.objects.filter(status__in=[Status.REVOKED, Status.DISBURSED]).exists()
    assert Entitlement.objects.count() == 2
    # The dropped enterprise is told its record is under review; nobody else hears anything.
    new = Notification.objects.filter(pk__gt=0).order_by("-id")[: Notification.objects.count() - notices]
    assert [(n.enterprise_id, n.kind) for n in new] == [(district["middle"].pk, "entitlement_update")]

    # Running the version again (nightly) changes nothing; staff keep it, and it stays kept.
    policy_version_match(version_id=v2.pk)
    assert entitlement_of(district["middle"]).status == Status.PENDING_REVIEW
    with pytest.raises(Exception, match="请填写理由"):
        services.entitlement_review_resolve(entitlement=dropped, by=staff_reviewer, decision="keep", reason=" ")
    services.entitlement_review_resolve(
        entitlement=dropped, by=staff_reviewer, decision="keep", reason="按第1版认定时的数据兑现"
    )
    policy_version_match(version_id=v2.pk)
    assert entitlement_of(district["middle"]).status == Status.CONFIRMED
    last = entitlement_of(district["middle"]).transitions.order_by("-id").first()
    assert (last.from_status, last.to_status, last.by_role) == (Status.PENDING_REVIEW, Status.CONFIRMED, "reviewer")


def test_loosened_conditions_grant_only_the_new_ones(district, publish) -> None:
    publish(3)
    before = Notification.objects.values_list("enterprise_id", "kind")
    before = set(before)

    v2 = publish(2)

    assert Entitlement.objects.count() == 3
    assert entitlement_of(district["weak"]).policy_version_id == v2.pk
    after = set(Notification.objects.values_list("enterprise_id", "kind"))
    assert after - before == {(district["weak"].pk, "exempt_granted")}
    assert Notification.objects.filter(kind="exempt_granted").count() == 3


def test_disbursed_and_no_longer_eligible_is_a_possible_recovery_case(district, publish, staff_reviewer) -> None:
    publish(3)
    middle = entitlement_of(district["middle"])
    services.entitlement_confirm(entitlement=middle, by=EnterpriseUserFactory(enterprise=district["middle"]))
    services.entitlement_disburse(entitlement=middle, by=staff_reviewer)

    v2 = publish(5)

    middle.refresh_from_db()
    assert middle.status == Status.DISBURSED  # never clawed back automatically
    assert middle.recovery_flagged_at is not None and middle.review_version_id == v2.pk
    assert list(services_recovery_cases()) == [middle.pk]
    # Staff note what they found; the case leaves the list, the status stays.
    services.entitlement_recovery_note(entitlement=middle, by=staff_reviewer, note="经核查按第1版条件兑现，无需追回")
    policy_version_match(version_id=v2.pk)
    middle.refresh_from_db()
    assert middle.status == Status.DISBURSED and middle.recovery_flagged_at is None


def services_recovery_cases():
    return Entitlement.objects.filter(recovery_flagged_at__isnull=False).values_list("pk", flat=True)


def test_a_new_period_is_a_new_entitlement(district, publish) -> None:
    publish(3, benefit_period="2026")
    publish(3, benefit_period="2027")

    periods = sorted(Entitlement.objects.filter(enterprise=district["strong"]).values_list("period", flat=True))
    assert periods == ["2026", "2027"]
    # The 2026 benefit is not re-decided by the 2027 version.
    assert Entitlement.objects.filter(status=Status.PENDING_REVIEW).count() == 0


@pytest.mark.parametrize("order", ["old-falls-first", "new-first", "incremental-in-between"])
def test_the_outcome_does_not_depend_on_the_order_of_arrival(
    district, staff_editor, staff_reviewer, django_capture_on_commit_callbacks, order
) -> None:
    """v1 retired (and its records falling to ineligible) and v2's chunks, in any order, give the same result."""
    v1 = _exempt_draft(staff_editor, key="order-test")
    v1 = _publish(v1, staff_editor, staff_reviewer, django_capture_on_commit_callbacks)
    draft = policy_version_create_draft(policy=v1.policy, by=staff_editor)
    policy_version_update(version=draft, by=staff_editor, rule=rule(5))
    v2 = _publish(draft, staff_editor, staff_reviewer, django_capture_on_commit_callbacks, hold_run=True)

    def old_falls() -> None:
        # Whatever retires v1's records (a sweep, a re-run): each eligible record falls to ineligible.
        with transaction.atomic():
            changes = []
            for record in MatchRecord.objects.filter(policy_version=v1, outcome="eligible"):
                MatchRecord.objects.filter(pk=record.pk).update(outcome="ineligible", verified=False)
                changes.append(ChangedRecord(record.pk, record.enterprise_id, "ineligible", False, "eligible", True))
            events.emit(events.MATCH_RECORDS_CHANGED, version_id=v1.pk, changes=changes, run_id=None)

    def new_run() -> None:
        policy_version_match(version_id=v2.pk, chunk_size=1)  # one enterprise per chunk

    if order == "old-falls-first":
        old_falls()
        new_run()
    elif order == "new-first":
        new_run()
        old_falls()
    else:
        enterprise_match(enterprise_id=district["strong"].pk)
        old_falls()
        enterprise_match(enterprise_id=district["middle"].pk)
        new_run()

    state = sorted(Entitlement.objects.values_list("enterprise_id", "status", "policy_version_id", "review_version_id"))
    assert state == [
        (district["strong"].pk, Status.NOTIFIED, v2.pk, None),
        (district["middle"].pk, Status.PENDING_REVIEW, v1.pk, v2.pk),
    ]
    assert Notification.objects.filter(kind="exempt_granted").count() == 2


def test_a_second_entitlement_to_the_same_benefit_is_refused_by_the_database(alice) -> None:
    from tests.policies.factories import PolicyVersionFactory

    v1 = PolicyVersionFactory(published=True, mode="exempt")
    v2 = PolicyVersionFactory(policy=v1.policy, number=2, mode="exempt")
    Entitlement.objects.create(enterprise=alice.enterprise, policy_version=v1, determined_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Entitlement.objects.create(
            enterprise=alice.enterprise,
            policy=v1.policy,
            period="once",
            policy_version=v2,
            status=Status.CONFIRMED,
            determined_at=timezone.now(),
        )
    # Revoked or not, a second row for the benefit is refused; another period is another benefit.
    Entitlement.objects.update(status=Status.REVOKED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Entitlement.objects.create(enterprise=alice.enterprise, policy_version=v2, determined_at=timezone.now())
    Entitlement.objects.create(
        enterprise=alice.enterprise, policy_version=v2, period="2026", determined_at=timezone.now()
    )
    assert Entitlement.objects.count() == 2
    assert EntitlementTransition.objects.count() == 0


def test_the_nightly_runs_one_call_for_many_versions_rebases_as_a_call_per_version_does(
    district, staff_editor, staff_reviewer, django_capture_on_commit_callbacks
) -> None:
    """The nightly run hands every version's changes to one handler call (events.emit_many), which looks up
    in one query which granted enterprises hold the benefit under another version. v2 of a policy, whose
    decisions the run writes, moves the entitlements v1 granted (no push); in the same call another policy's
    version grants new ones; and only the version with something to move takes the entitlements' locks."""
    v1 = _publish(
        _exempt_draft(staff_editor, key="rd-reward-nightly", title="研发投入奖励（示例）"),
        staff_editor,
        staff_reviewer,
        django_capture_on_commit_callbacks,
    )
    entitled = sorted(Entitlement.objects.filter(policy_version=v1).values_list("enterprise_id", flat=True))
    assert entitled == sorted([district["strong"].pk, district["middle"].pk])
    draft = policy_version_create_draft(policy=v1.policy, by=staff_editor)
    policy_version_update(version=draft, by=staff_editor, title="研发投入奖励（示例，第2版）")
    # Published, with their runs held back: the nightly run's write below decides them.
    v2 = _publish(draft, staff_editor, staff_reviewer, django_capture_on_commit_callbacks, hold_run=True)
    other = _exempt_draft(staff_editor, key="another-exempt", title="另一项免申即享（示例）")
    other = _publish(other, staff_editor, staff_reviewer, django_capture_on_commit_callbacks, hold_run=True)
    before = counts()

    # The nightly run's write: the evaluator's decisions of both versions in one statement (decided_record),
    # which announces them with events.emit_many.
    profiles = enterprise_profiles_read(enterprise_ids=entitled)
    rows = []
    for pk in entitled:
        for version in (v2, other):
            outcome = compile_rule(version.rule).evaluate(profiles[pk], on=timezone.localdate())
            assert (outcome.status, outcome.verified) == ("eligible", True)
            text = json.dumps(outcome.to_dict(), ensure_ascii=False)
            rows.append(Decided(version.pk, pk, "eligible", True, outcome.state_letters, text, None, None))
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        decided_record(rows=rows, rule_hashes={v.pk: rule_hash(v.rule) for v in (v2, other)}, run_id=None)

    for pk in entitled:
        moved = Entitlement.objects.get(enterprise_id=pk, policy_id=v2.policy_id)
        assert moved.policy_version_id == v2.pk and moved.status == Status.NOTIFIED
        assert moved.transitions.get(previous_version=v1).policy_version_id == v2.pk
        assert Entitlement.objects.get(enterprise_id=pk, policy_id=other.policy_id).policy_version_id == other.pk
    # The new benefit is told (one 享受 each); the moved one is not.
    assert Notification.objects.count() - before[0] == 2
    locking = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"] and "entitlement" in q["sql"]]
    assert len(locking) == 1 and str(v2.pk) in locking[0]
