"""Two exclusive 免申即享 policies published together, decided by real workers over a real Redis broker
(PostgreSQL): every verified-eligible enterprise ends with exactly one payable entitlement of the group, the
other 同类不重复享受 with its notice, and the claims agree; however the two runs' chunks interleave."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count

from devtools.bench import district as synthetic_district
from matching.core.evaluator import compile_rule
from matching.models import MatchRun
from matching.selectors import today
from matching.services import match_profiles_refresh
from policies.services import policy_approve, policy_create, policy_publish, policy_submit
from portal.enterprises.selectors import enterprise_profiles_by_id
from portal.entitlements.models import Entitlement
from portal.exclusions.models import ExclusionClaim
from portal.notifications.models import Notification
from portal.ops.models import InvariantCheck
from tests.support.services import need_postgres, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

RULE = {
    "all": [
        {"fact": "industry", "op": "under", "value": ["39", "65"]},
        {"fact": "qualification", "op": "has", "value": "high_tech"},
    ]
}


def publish(editor, reviewer, key: str, title: str):
    version = policy_create(
        by=editor,
        key=key,
        title=title,
        summary="示例",
        benefit_kind="subsidy",
        mode="exempt",
        effective_from=today().replace(year=2020),
        rule=RULE,
        exclusion_groups=["研发投入奖补（示例）"],
        department="区科技局",
        contact_name="王敏（示例）",
        contact_phone="0512-0000-0000（示例）",
    )
    policy_submit(version=version, by=editor)
    policy_approve(version=version, by=reviewer)
    return version


def test_two_exclusive_policies_published_together_never_yield_two_payable_entitlements(
    start_worker, staff_editor, staff_reviewer
) -> None:
    need_postgres()
    synthetic_district.build_district(1500, seed=17)
    match_profiles_refresh()
    compiled = compile_rule(RULE)
    expected = {
        pk
        for pk, profile in enterprise_profiles_by_id()
        if (o := compiled.evaluate(profile, on=today())).status == "eligible" and o.verified
    }
    assert 20 < len(expected) < 1500
    # Two workers with two processes each and small chunks: the two runs' chunks race for the same enterprises.
    for _ in range(2):
        start_worker(concurrency=2, extra_env={"MATCH_CHUNK_SIZE": "40"})
    first = publish(staff_editor, staff_reviewer, "exclusive-a", "研发费用补助（示例）")
    second = publish(staff_editor, staff_reviewer, "exclusive-b", "研发机构奖励（示例）")
    policy_publish(version=first, by=staff_reviewer)
    policy_publish(version=second, by=staff_reviewer)
    wait_for(lambda: MatchRun.objects.filter(status="done").count() == 2, timeout=240)

    payable = Entitlement.objects.exclude(status__in=[Entitlement.Status.EXCLUDED, Entitlement.Status.REVOKED])
    per_enterprise = dict(payable.values_list("enterprise_id").annotate(n=Count("id")))
    assert set(per_enterprise) == expected and set(per_enterprise.values()) == {1}
    excluded = Entitlement.objects.filter(status=Entitlement.Status.EXCLUDED)
    assert set(excluded.values_list("enterprise_id", flat=True)) == expected
    assert Entitlement.objects.count() == 2 * len(expected)
    # The claims are exactly the payable ones, one per enterprise.
    claims = set(ExclusionClaim.objects.values_list("enterprise_id", "entitlement_id"))
    assert claims == set(payable.values_list("enterprise_id", "pk"))
    # One grant push per enterprise, and one 不重复享受 notice naming the other policy.
    granted = Notification.objects.filter(kind=Notification.Kind.EXEMPT_GRANTED)
    assert sorted(granted.values_list("enterprise_id", flat=True)) == sorted(expected)
    notices = Notification.objects.filter(title__startswith="同类事项不重复享受")
    assert notices.count() == len(expected)
    for entitlement in excluded.select_related("policy_version")[:20]:
        other = "研发费用补助（示例）" if entitlement.policy_version_id == second.pk else "研发机构奖励（示例）"
        assert entitlement.exclusion_note == f"与「{other}」同属一类事项，不重复享受"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM notifications_notification "
            "GROUP BY enterprise_id, dedupe_key HAVING count(*) > 1) d"
        )
        assert cursor.fetchone()[0] == 0
    call_command("check_invariants")
    assert InvariantCheck.objects.latest("checked_at").ok
