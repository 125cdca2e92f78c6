"""免申即享 end to end with a real Redis broker and real worker processes (PostgreSQL).

Publishing an exempt policy over a few thousand enterprises creates entitlements and notifications
for exactly the verified-eligible ones; running it again, or delivering the task twice, adds nothing;
a worker killed mid fan-out loses nothing and duplicates nothing.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from devtools.bench import district as synthetic_district
from matching.core.evaluator import compile_rule
from matching.models import MatchRecord, MatchRun
from matching.selectors import today
from matching.services import match_profiles_refresh, match_runs_sweep, policy_version_match
from matching.tasks import match_run_task
from policies.services import policy_approve, policy_create, policy_publish, policy_submit
from portal.enterprises.selectors import enterprise_profiles_by_id
from portal.entitlements.models import Entitlement
from portal.notifications.models import Notification
from portal.ops.models import InvariantCheck
from tests.support.services import need_postgres, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

EXEMPT_RULE = {
    "all": [
        {"fact": "industry", "op": "under", "value": ["39", "65"]},
        {"fact": "qualification", "op": "has", "value": "high_tech"},
        {"fact": "tax_credit_rating", "op": "in", "value": ["A", "B"]},
    ]
}


def publish_exempt(editor, reviewer):
    version = policy_create(
        by=editor,
        key="high-tech-exempt-test",
        title="高新技术企业认定奖励（示例）",
        summary="示例",
        benefit_kind="subsidy",
        mode="exempt",
        effective_from=today().replace(year=2020),
        rule=EXEMPT_RULE,
        department="区科技局",
        contact_name="王敏（示例）",
        contact_phone="0512-0000-0000（示例）",
    )
    policy_submit(version=version, by=editor)
    policy_approve(version=version, by=reviewer)
    return policy_publish(version=version, by=reviewer)


def expected_verified_eligible() -> set[int]:
    compiled = compile_rule(EXEMPT_RULE)
    on = today()
    return {
        pk
        for pk, profile in enterprise_profiles_by_id()
        if (o := compiled.evaluate(profile, on=on)).status == "eligible" and o.verified
    }


def granted() -> tuple[set[int], int, int]:
    entitlements = list(Entitlement.objects.values_list("enterprise_id", flat=True))
    notified = Notification.objects.filter(kind=Notification.Kind.EXEMPT_GRANTED).count()
    return set(entitlements), len(entitlements), notified


@pytest.fixture
def district() -> None:
    need_postgres()
    synthetic_district.build_district(3000, seed=11)
    match_profiles_refresh()


def test_publish_creates_exactly_the_verified_eligible_entitlements(
    district, start_worker, staff_editor, staff_reviewer
) -> None:
    start_worker()
    expected = expected_verified_eligible()
    assert 20 < len(expected) < 3000  # a realistic share, not everyone

    version = publish_exempt(staff_editor, staff_reviewer)
    run = wait_for(lambda: MatchRun.objects.filter(policy_version=version, status="done").first(), timeout=120)

    assert run.processed == run.total
    ids, count, notified = granted()
    assert ids == expected and count == len(expected) and notified == len(expected)
    assert not Entitlement.objects.filter(explanation__isnull=True).exists()
    # Running again and delivering the same task twice add nothing.
    policy_version_match(version_id=version.pk)
    MatchRun.objects.filter(pk=run.pk).update(status="queued")
    match_run_task.delay(run.pk)
    match_run_task.delay(run.pk)
    wait_for(lambda: MatchRun.objects.filter(pk=run.pk, status="done").exists(), timeout=60)
    assert granted() == (expected, len(expected), len(expected))


def test_a_worker_killed_mid_fanout_loses_and_duplicates_nothing(
    district, start_worker, staff_editor, staff_reviewer
) -> None:
    expected = expected_verified_eligible()
    # Small chunks make the run long enough to be killed in the middle.
    worker = start_worker(extra_env={"MATCH_CHUNK_SIZE": "50"})
    version = publish_exempt(staff_editor, staff_reviewer)
    wait_for(lambda: Entitlement.objects.count() > 0, timeout=60)

    worker.kill()
    partial = Entitlement.objects.count()
    assert partial < len(expected), "the run finished before the kill: make chunks smaller"
    run = MatchRun.objects.get(policy_version=version)
    assert run.status == "running"
    start_worker()
    match_runs_sweep(running_after_seconds=0)  # the beat would do this after its timeout
    wait_for(lambda: MatchRun.objects.filter(pk=run.pk, status="done").exists(), timeout=180)

    ids, count, notified = granted()
    assert ids == expected and count == len(expected) and notified == len(expected)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT enterprise_id FROM notifications_notification "
            "GROUP BY enterprise_id, dedupe_key HAVING count(*) > 1) d"
        )
        assert cursor.fetchone()[0] == 0
    # After the fault: every decision and entitlement has its reasons, every entitlement stands on a
    # current eligible and verified decision, nothing is payable twice (exit status 0, all zero).
    call_command("check_invariants")
    check = InvariantCheck.objects.latest("checked_at")
    assert check.ok and check.counts == dict.fromkeys(check.counts, 0)
    assert not MatchRecord.objects.filter(outcome__in=["eligible", "needs_info"], explanation__isnull=True).exists()
