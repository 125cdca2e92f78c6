"""关注 through the real path: a qualification filed in the web process, the re-match in a real worker
(Redis broker, PostgreSQL), the follow notice committed with the decision, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from matching.models import MatchRecord, MatchRun
from matching.services import match_profiles_refresh
from matching.tasks import match_run_task
from portal.enterprises.services import qualification_create
from portal.follows import services
from portal.notifications.models import Notification
from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory
from tests.frontend.support import match, published_policy
from tests.support.services import wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

RULE = {
    "all": [
        {"fact": "industry", "op": "under", "value": ["65"]},
        {"fact": "qualification", "op": "has", "value": "high_tech"},
    ]
}


def test_a_qualification_filed_makes_the_followed_policy_eligible_in_the_worker(start_worker) -> None:
    member = EnterpriseUserFactory(username="follow-worker", enterprise=EnterpriseFactory(industry_code="6513"))
    enterprise = member.enterprise
    version = published_policy(rule=RULE, title="高企软件补贴（示例）")
    match_profiles_refresh()
    match(enterprise)
    services.follow_create(user=member, enterprise=enterprise, policy=version.policy)
    start_worker()

    today = timezone.localdate()
    qualification_create(
        enterprise=enterprise,
        kind="high_tech",
        valid_from=today - timedelta(days=10),
        valid_to=today + timedelta(days=700),
        source="science_tech",
        as_of=today,
    )

    def notices() -> list[Notification]:
        return list(Notification.objects.filter(enterprise=enterprise, kind=Notification.Kind.FOLLOWED_POLICY))

    found = wait_for(notices, timeout=60)
    assert [n.title for n in found] == ["您关注的政策已符合条件：高企软件补贴（示例）"]
    assert MatchRecord.objects.get(enterprise=enterprise, policy_version=version).outcome == "eligible"

    # The run's task delivered again: nothing more.
    run = MatchRun.objects.order_by("-pk").first()
    assert run is not None
    match_run_task.delay(run.pk)
    wait_for(lambda: MatchRun.objects.get(pk=run.pk).status == "done", timeout=60)
    assert len(notices()) == 1
