"""No decision without its current reasons (PostgreSQL).

- The bulk path writes each changed record's explanation in the decision's own transaction: a crash
  anywhere in that transaction leaves nothing behind, and the re-run leaves every record and
  entitlement with its explanation.
- A department figure replacing a self-declared one, with every outcome unchanged, refreshes every
  explanation that showed it (records and entitlements, not a disbursed entitlement), in the
  incremental path and in the bulk branch of an enterprises run, and sends nothing.
- `check_invariants` counts what breaks these rules, and exits non-zero when anything does.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command

from matching import services
from matching.core.profile import EnterpriseProfile, Fact
from matching.models import MatchRecord
from matching.selectors import today
from portal import events
from portal.enterprises.models import Enterprise
from portal.enterprises.services import enterprise_update_facts
from portal.entitlements.models import Entitlement
from portal.notifications.models import Delivery, Notification
from portal.ops.invariants import invariant_counts
from portal.ops.models import InvariantCheck
from tests.matching.db_support import publish_version, store_profile
from tests.support.services import need_postgres

pytestmark = pytest.mark.django_db

OLD = date(2024, 3, 1)
NEW = date(2025, 9, 30)

# Eligible and verified on the credit office's data alone; the self-declared headcount is shown
# (and met) but does not decide, so replacing it changes no outcome, only what the reasons show.
EXEMPT_RULE = {
    "any": [
        {"fact": "employees", "op": "gte", "value": 10},
        {"fact": "dishonest", "op": "eq", "value": False},
    ]
}
APPLY_RULE = {
    "any": [{"fact": "employees", "op": "lte", "value": 200}, {"fact": "dishonest", "op": "eq", "value": False}]
}
BOTH_RULE = {"all": [{"fact": "employees", "op": "gte", "value": 5}, {"fact": "dishonest", "op": "eq", "value": False}]}


@pytest.fixture(autouse=True)
def _postgres() -> None:
    need_postgres()


def enterprise(employees_source: str = "self_declared", employees: int = 50) -> Enterprise:
    return store_profile(
        EnterpriseProfile(
            credit_code="",
            facts={
                "employees": Fact(employees, employees_source, OLD),
                "dishonest": Fact(False, "credit", OLD),
            },
        )
    )


def condition(explanation: dict, fact: str) -> dict:
    return next(c for c in explanation["conditions"] if c["fact"] == fact)


def assert_invariants_hold() -> None:
    counts = invariant_counts()
    assert counts == dict.fromkeys(counts, 0), counts


# --- The decision and its explanation commit together ----------------------------------------------


class Crash(Exception):
    pass


@pytest.mark.parametrize("where", ["after_explanations", "in_the_pushes"])
def test_a_crash_in_the_decision_transaction_commits_nothing_and_the_rerun_explains_everything(
    monkeypatch, where: str
) -> None:
    ids = [enterprise().pk for _ in range(3)]
    services.match_profiles_refresh()
    version = publish_version(EXEMPT_RULE, mode="exempt")

    def crash(*args, **kwargs):
        raise Crash

    if where == "after_explanations":
        # decide_and_write has written the records, each with its explanation; the crash comes before
        # the change is even signalled (no entitlement, no push yet).
        def written_then_crash(*, version_id, changes, run_id):
            assert len(changes) == 3
            assert MatchRecord.objects.filter(policy_version=version, explanation__isnull=False).count() == 3
            raise Crash

        monkeypatch.setitem(events.HANDLERS, events.MATCH_RECORDS_CHANGED.name, [written_then_crash])
    else:
        # The entitlements are created (with their explanation); the notifications fail.
        monkeypatch.setattr("portal.entitlements.services.notifications_create_bulk", crash)

    with pytest.raises(Crash):
        services.policy_version_match(version_id=version.pk)

    assert not MatchRecord.objects.filter(policy_version=version).exists()
    assert not Entitlement.objects.filter(policy_version=version).exists()
    assert not Notification.objects.exists()

    monkeypatch.undo()
    summary = services.policy_version_match(version_id=version.pk)

    assert summary.changed_records == 3
    records = MatchRecord.objects.filter(policy_version=version)
    assert sorted(records.values_list("enterprise_id", flat=True)) == sorted(ids)
    for record in records:
        assert record.outcome == "eligible" and record.verified
        assert record.explanation["status"] == "eligible" and record.explanation["verified"] is True
        assert condition(record.explanation, "dishonest")["source_label"] == "信用办（公共信用信息平台）"
        entitlement = Entitlement.objects.get(policy_version=version, enterprise_id=record.enterprise_id)
        assert entitlement.explanation == record.explanation
    assert_invariants_hold()


def test_bulk_explanations_equal_the_evaluators_for_every_changed_record() -> None:
    """The bulk writer's explanations (plain rows, one evaluation per distinct row) are the evaluator's own."""
    from portal.enterprises.selectors import enterprise_profiles_by_id

    for n, source in enumerate(["self_declared", "statistics", "statistics", "tax"]):
        enterprise(employees_source=source, employees=3 + 4 * n)
    services.match_profiles_refresh()
    version = publish_version(BOTH_RULE)
    services.policy_version_match(version_id=version.pk)

    compiled = services._compiled(version)
    on = today()
    stored = dict(MatchRecord.objects.filter(policy_version=version).values_list("enterprise_id", "explanation"))
    assert len(stored) == 3  # 3 employees is below 5: ineligible, no record
    for pk, profile in enterprise_profiles_by_id():
        if pk in stored:
            assert stored[pk] == compiled.evaluate(profile, on=on).to_dict()


# --- A department figure replaces a self-declared one ------------------------------------------------


def _granted_setup() -> tuple[list[Enterprise], object, object, Entitlement]:
    """Two enterprises with a self-declared headcount, an exempt and an apply policy decided for them,
    and the second enterprise's entitlement already disbursed."""
    firms = [enterprise(), enterprise()]
    services.match_profiles_refresh()
    exempt = publish_version(EXEMPT_RULE, mode="exempt")
    apply = publish_version(APPLY_RULE)
    services.policy_version_match(version_id=exempt.pk)
    services.policy_version_match(version_id=apply.pk)
    for record in MatchRecord.objects.all():
        assert condition(record.explanation, "employees")["source"] == "self_declared"
    disbursed = Entitlement.objects.get(enterprise=firms[1], policy_version=exempt)
    Entitlement.objects.filter(pk=disbursed.pk).update(status=Entitlement.Status.DISBURSED)
    disbursed.refresh_from_db()
    return firms, exempt, apply, disbursed


def _statistics_replace_headcounts(firms: list[Enterprise]) -> None:
    for firm in firms:
        changed = enterprise_update_facts(enterprise=firm, facts={"employees": 50}, source="statistics", as_of=NEW)
        assert changed == [] or changed == ["employees"]  # the value stands; its source and date move


def _assert_refreshed(firms: list[Enterprise], exempt, disbursed: Entitlement, outcomes_before: dict) -> None:
    records = MatchRecord.objects.filter(enterprise__in=firms)
    assert dict(records.values_list("pk", "outcome")) == outcomes_before  # no outcome changed
    for record in records:
        shown = condition(record.explanation, "employees")
        assert (shown["source"], shown["source_label"], shown["as_of"]) == ("statistics", "统计局", NEW.isoformat())
        assert shown["verified"] is True
    live = Entitlement.objects.get(enterprise=firms[0], policy_version=exempt)
    assert live.explanation == MatchRecord.objects.get(enterprise=firms[0], policy_version=exempt).explanation
    disbursed_now = Entitlement.objects.get(pk=disbursed.pk)
    assert disbursed_now.explanation == disbursed.explanation  # paid on its original basis, kept
    assert condition(disbursed_now.explanation, "employees")["source"] == "self_declared"


def test_incremental_a_department_figure_refreshes_every_explanation_that_showed_it_and_pushes_nothing() -> None:
    firms, exempt, _apply, disbursed = _granted_setup()
    outcomes_before = dict(MatchRecord.objects.values_list("pk", "outcome"))
    pushed = (Notification.objects.count(), Delivery.objects.count())

    _statistics_replace_headcounts(firms)
    changes = [c for firm in firms for c in services.enterprise_match(enterprise_id=firm.pk)]

    assert changes == []  # nothing changed for matching: no change reported, so nothing pushed
    _assert_refreshed(firms, exempt, disbursed, outcomes_before)
    assert (Notification.objects.count(), Delivery.objects.count()) == pushed
    # Diff-only: asked again, nothing is rewritten.
    stamp = list(MatchRecord.objects.order_by("pk").values_list("explanation", flat=True))
    assert [c for firm in firms for c in services.enterprise_match(enterprise_id=firm.pk)] == []
    assert list(MatchRecord.objects.order_by("pk").values_list("explanation", flat=True)) == stamp
    assert_invariants_hold()


def test_bulk_branch_of_an_enterprises_run_refreshes_explanations_and_pushes_nothing(monkeypatch) -> None:
    firms, exempt, _apply, disbursed = _granted_setup()
    outcomes_before = dict(MatchRecord.objects.values_list("pk", "outcome"))
    pushed = (Notification.objects.count(), Delivery.objects.count())

    _statistics_replace_headcounts(firms)
    monkeypatch.setattr(services, "BULK_THRESHOLD", 1)  # two enterprises take the bulk branch
    summary = services.enterprises_match(enterprise_ids=[f.pk for f in firms])

    assert summary.changed_records == 0
    _assert_refreshed(firms, exempt, disbursed, outcomes_before)
    assert (Notification.objects.count(), Delivery.objects.count()) == pushed
    assert services.explanations_refresh(enterprise_ids=[f.pk for f in firms]) == 0  # diff-only
    assert_invariants_hold()


# --- check_invariants ------------------------------------------------------------------------------


def test_check_invariants_counts_each_broken_rule_and_exits_non_zero(capsys) -> None:
    from policies.models import PolicyVersion

    need_postgres()  # drops a PostgreSQL index inside the test's transaction
    firm = enterprise()
    services.match_profiles_refresh()
    version = publish_version(EXEMPT_RULE, mode="exempt")
    services.policy_version_match(version_id=version.pk)

    call_command("check_invariants")  # all zero: returns normally (exit status 0)
    assert InvariantCheck.objects.get().ok is True

    # (1) a decision without its reasons; (2) a benefit on no current decision; (3) payable twice.
    MatchRecord.objects.filter(policy_version=version).update(explanation=None)
    Entitlement.objects.filter(policy_version=version).update(explanation=None)
    second = PolicyVersion.objects.create(
        policy=version.policy, number=2, rule=EXEMPT_RULE, title="测试政策（第二版）", benefit_kind="subsidy",
        mode="exempt", effective_from=date(2000, 1, 1), author=version.author, status=PolicyVersion.Status.RETIRED,
    )  # fmt: skip
    benefit = {"policy": version.policy, "period": version.benefit_period}
    # The database itself refuses a second payable entitlement for one benefit; the check is the
    # second line, so to see it count, the unique index is dropped inside this test's transaction.
    from django.db import IntegrityError, connection, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Entitlement.objects.create(
            enterprise=firm, policy_version=second, status=Entitlement.Status.CONFIRMED,
            determined_at=version.updated_at, explanation={"schema": 1}, **benefit,
        )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX entitlement_once_per_benefit")
    Entitlement.objects.create(
        enterprise=firm, policy_version=second, status=Entitlement.Status.CONFIRMED, determined_at=version.updated_at,
        explanation={"schema": 1}, **benefit,
    )  # fmt: skip
    revoked = Entitlement.objects.create(
        enterprise=enterprise(), policy_version=second, status=Entitlement.Status.REVOKED,
        determined_at=version.updated_at, explanation={"schema": 1}, **benefit,
    )  # fmt: skip

    with pytest.raises(SystemExit) as exited:
        call_command("check_invariants")
    assert exited.value.code == 1
    latest = InvariantCheck.objects.order_by("-checked_at", "-id").first()
    assert latest.ok is False
    assert latest.counts == {
        "unexplained_entitlements": 1,
        "unexplained_records": 1,
        "undecided_entitlements": 1,  # the second version's confirmed one; the revoked one is closed
        "duplicate_payable_entitlements": 1,
        "duplicate_exclusive_benefits": 0,  # no exclusion groups here (tests/exclusions)
    }
    out = capsys.readouterr()
    assert "同一企业同一政策同一兑现期重复的可兑现记录（duplicate_payable_entitlements）：1" in out.out
    assert "未通过" in out.err
    assert revoked.status == Entitlement.Status.REVOKED


def test_a_confirmation_with_a_newer_date_is_announced_and_refreshes_the_dates_shown(
    django_capture_on_commit_callbacks, monkeypatch
) -> None:
    """Same value, same department, a newer date: no outcome moves, the explanations' date does."""
    firms, exempt, _apply, _disbursed = _granted_setup()
    announced: list[list[int]] = []
    monkeypatch.setitem(
        events.HANDLERS,
        events.FACTS_CHANGED.name,
        [lambda *, enterprise_ids: announced.append(enterprise_ids)],
    )
    pushed = Notification.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        changed = enterprise_update_facts(enterprise=firms[0], facts={"dishonest": False}, source="credit", as_of=NEW)
    assert changed == []
    assert announced == [[firms[0].pk]]  # re-matched although no value changed

    assert services.enterprise_match(enterprise_id=firms[0].pk) == []
    for record in MatchRecord.objects.filter(enterprise=firms[0]):
        assert condition(record.explanation, "dishonest")["as_of"] == NEW.isoformat()
    live = Entitlement.objects.get(enterprise=firms[0], policy_version=exempt)
    assert condition(live.explanation, "dishonest")["as_of"] == NEW.isoformat()
    assert Notification.objects.count() == pushed


def test_explanation_stale_ignores_the_day_and_the_json_form_but_not_a_shown_fact() -> None:
    from matching.core.evaluator import evaluate

    profile = EnterpriseProfile(credit_code="", facts={"employees": Fact(50, "statistics", OLD)})
    rule = {"fact": "employees", "op": "between", "value": [10, 100]}
    fresh = evaluate(rule, profile, on=date(2026, 1, 1)).to_dict()
    stored = evaluate(rule, profile, on=date(2025, 1, 1)).to_dict()
    import json

    stored = json.loads(json.dumps(stored))  # as read back from the database
    assert not services.explanation_stale(fresh, stored)
    moved = EnterpriseProfile(credit_code="", facts={"employees": Fact(50, "statistics", NEW)})
    assert services.explanation_stale(evaluate(rule, moved, on=date(2026, 1, 1)).to_dict(), stored)
    assert services.explanation_stale(fresh, None) and not services.explanation_stale(None, None)
