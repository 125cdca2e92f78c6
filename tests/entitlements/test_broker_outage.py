"""A broker outage during a publish delays the pushes but loses none (real worker, private Redis)."""

from __future__ import annotations

import shutil

import pytest

from matching.models import MatchRun
from portal.entitlements.models import Entitlement
from portal.notifications.models import Delivery, Notification
from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory, QualificationFactory
from tests.policies.factories import PolicyVersionFactory
from tests.support.services import PrivateRedis, WorkerProcess, manage_shell, need, need_postgres, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

RULE = {"fact": "qualification", "op": "has", "value": "high_tech"}


def test_publish_while_redis_is_down_then_everything_arrives(staff_reviewer) -> None:
    need_postgres()
    need(shutil.which("redis-server") is not None, "redis-server is not installed")
    from matching.services import match_profiles_refresh

    eligible = []
    for _ in range(5):
        enterprise = EnterpriseFactory()
        QualificationFactory(enterprise=enterprise)
        EnterpriseUserFactory(enterprise=enterprise)
        eligible.append(enterprise.pk)
    EnterpriseFactory()  # no qualification: not eligible
    match_profiles_refresh()
    version = PolicyVersionFactory(rule=RULE, mode="exempt", status="in_review", approved_by=staff_reviewer)
    broker = PrivateRedis()
    broker.start()
    worker = None
    try:
        broker.stop()
        published = manage_shell(
            "from policies.models import PolicyVersion; from policies.services import policy_publish; "
            "from django.contrib.auth import get_user_model; "
            f"policy_publish(version=PolicyVersion.objects.get(pk={version.pk}), "
            f"by=get_user_model().objects.get(pk={staff_reviewer.pk}))",
            broker.url,
        )
        assert published.returncode == 0, published.stderr
        run = MatchRun.objects.get(policy_version=version)
        assert run.status == "queued"  # recorded, not lost
        assert Entitlement.objects.count() == 0

        broker.start()
        worker = WorkerProcess(broker_url=broker.url)
        worker.wait_ready()
        swept = manage_shell(
            "from matching.services import match_runs_sweep; match_runs_sweep(pending_after_seconds=0)", broker.url
        )
        assert swept.returncode == 0, swept.stderr
        wait_for(lambda: MatchRun.objects.filter(pk=run.pk, status="done").exists(), timeout=60)
        assert sorted(Entitlement.objects.values_list("enterprise_id", flat=True)) == sorted(eligible)
        assert Notification.objects.filter(kind="exempt_granted").count() == 5
        wait_for(
            lambda: Delivery.objects.count() == 5 and not Delivery.objects.exclude(status="sent").exists(), timeout=60
        )
    finally:
        if worker is not None:
            worker.stop()
        broker.stop()
