"""The preview before publishing as a Celery task: claim once, progress as it goes, same result as policy_preview."""

from __future__ import annotations

import pytest

from policies import services
from policies.models import PreviewRun
from policies.selectors import policy_preview
from policies.tasks import preview_run_task
from tests.enterprises.factories import EnterpriseFactory, StaffUserFactory
from tests.frontend.support import software_enterprise
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db

RULE = {
    "all": [
        {"fact": "industry", "op": "under", "value": ["65"]},
        {"fact": "qualification", "op": "has", "value": "high_tech"},
    ]
}


def district() -> None:
    """Seven enterprises: three eligible software firms, four manufacturers (excluded by industry)."""
    for _ in range(3):
        software_enterprise()
    for _ in range(4):
        EnterpriseFactory()


@pytest.fixture
def version():
    return PolicyVersionFactory(rule=RULE, mode="exempt")


@pytest.fixture
def staff(db):
    from portal.accounts.roles import Role

    return StaffUserFactory(roles=[Role.REVIEWER])


def queued(version, staff) -> PreviewRun:
    return PreviewRun.objects.create(version=version, requested_by=staff, on=version.effective_from.replace(year=2026))


def test_request_sends_the_task_after_commit_and_the_result_equals_policy_preview(
    version, staff, celery_eager, django_capture_on_commit_callbacks
) -> None:
    district()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run = services.preview_run_request(version=version, by=staff)
        assert PreviewRun.objects.get(pk=run.pk).status == PreviewRun.Status.QUEUED

    assert len(callbacks) == 1
    run.refresh_from_db()
    assert run.status == PreviewRun.Status.DONE
    assert run.result == policy_preview(version=version, on=run.on, sample_size=services.PREVIEW_SAMPLE_SIZE)
    assert (run.result["eligible"], run.result["ineligible"], run.result["verified"]) == (3, 4, 3)
    assert (run.processed, run.total) == (7, 7)


def test_the_task_twice_computes_once(version, staff, monkeypatch) -> None:
    district()
    run = queued(version, staff)
    calls = []
    execute = services.preview_run_execute
    monkeypatch.setattr(services, "preview_run_execute", lambda **kw: calls.append(kw) or execute(**kw))

    preview_run_task(run.pk)
    first = PreviewRun.objects.get(pk=run.pk)
    preview_run_task(run.pk)  # a redelivered message
    second = PreviewRun.objects.get(pk=run.pk)

    assert len(calls) == 1
    assert second.status == PreviewRun.Status.DONE
    assert (second.result, second.finished_at, second.started_at) == (first.result, first.finished_at, first.started_at)


def test_a_running_run_is_not_claimed_again_unless_its_heartbeat_is_stale(version, staff) -> None:
    from datetime import timedelta

    from django.utils import timezone

    run = queued(version, staff)
    assert services.preview_run_claim(run_id=run.pk) is not None
    assert services.preview_run_claim(run_id=run.pk) is None

    # long running is not lost: only a heartbeat (progress) older than JOB_STALE_AFTER_SECONDS is
    PreviewRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(hours=1))
    assert services.preview_run_claim(run_id=run.pk) is None
    PreviewRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))
    assert services.preview_run_claim(run_id=run.pk) is not None


def test_progress_is_saved_chunk_by_chunk(version, staff, monkeypatch) -> None:
    district()
    run = services.preview_run_claim(run_id=queued(version, staff).pk)
    assert run.total == 7
    seen: list[int] = []
    from portal.enterprises import selectors

    real = selectors.enterprise_profiles

    def watched(**kwargs):
        for profile in real(**kwargs):
            seen.append(PreviewRun.objects.get(pk=run.pk).processed)  # what the polling page would read
            yield profile

    monkeypatch.setattr(selectors, "enterprise_profiles", watched)

    services.preview_run_execute(run=run, chunk=2)

    assert seen == [0, 0, 2, 2, 4, 4, 6]
    run.refresh_from_db()
    assert (run.status, run.processed, run.percent) == (PreviewRun.Status.DONE, 7, 100)


def test_an_error_marks_the_run_failed(version, staff, monkeypatch) -> None:
    run = queued(version, staff)

    def boom(**kwargs):
        raise RuntimeError("数据库不可用")

    monkeypatch.setattr(services, "preview_run_execute", boom)
    with pytest.raises(RuntimeError):
        preview_run_task(run.pk)

    run.refresh_from_db()
    assert run.status == PreviewRun.Status.FAILED and "数据库不可用" in run.error


def test_only_staff_may_ask(version, alice) -> None:
    from portal.api.exceptions import ApplicationError

    with pytest.raises(ApplicationError):
        services.preview_run_request(version=version, by=alice)
    assert not PreviewRun.objects.exists()


def test_sweep_sends_again_previews_whose_task_was_lost(version, staff, celery_eager) -> None:
    from datetime import timedelta

    from django.utils import timezone

    district()
    lost, fresh, abandoned = queued(version, staff), queued(version, staff), queued(version, staff)
    long_ago = timezone.now() - timedelta(hours=1)
    PreviewRun.objects.filter(pk=lost.pk).update(created_at=long_ago)  # its message never reached a worker
    PreviewRun.objects.filter(pk=abandoned.pk).update(status=PreviewRun.Status.RUNNING, started_at=long_ago)

    assert services.preview_runs_sweep() == 2

    statuses = dict(PreviewRun.objects.values_list("pk", "status"))
    assert statuses == {lost.pk: "done", fresh.pk: "queued", abandoned.pk: "done"}
    assert services.preview_runs_sweep() == 0  # nothing left to send
