"""The preview task through Redis to a real worker process on PostgreSQL."""

from __future__ import annotations

import pytest

from policies import services
from policies.models import PreviewRun
from policies.selectors import policy_preview
from portal.accounts.roles import Role
from tests.enterprises.factories import EnterpriseFactory, StaffUserFactory
from tests.frontend.support import software_enterprise
from tests.policies.factories import PolicyVersionFactory
from tests.support.services import wait_for

pytestmark = pytest.mark.services


def test_a_worker_computes_the_preview_and_a_duplicate_message_changes_nothing(start_worker) -> None:
    start_worker()
    software_enterprise()
    EnterpriseFactory()
    version = PolicyVersionFactory(mode="exempt")
    staff = StaffUserFactory(roles=[Role.REVIEWER])

    run = services.preview_run_request(version=version, by=staff)  # no transaction: sent at once

    done = wait_for(lambda: PreviewRun.objects.filter(pk=run.pk, status=PreviewRun.Status.DONE).first(), timeout=30)
    assert done.result == policy_preview(version=version, on=done.on, sample_size=services.PREVIEW_SAMPLE_SIZE)
    assert (done.result["eligible"], done.result["ineligible"]) == (1, 1)

    # The same message again (a redelivery), then a marker run: the worker takes tasks in order.
    from policies.tasks import preview_run_task

    preview_run_task.delay(run.pk)
    marker = services.preview_run_request(version=version, by=staff)
    wait_for(lambda: PreviewRun.objects.filter(pk=marker.pk, status=PreviewRun.Status.DONE).exists(), timeout=30)
    again = PreviewRun.objects.get(pk=run.pk)
    assert (again.finished_at, again.result) == (done.finished_at, done.result)
