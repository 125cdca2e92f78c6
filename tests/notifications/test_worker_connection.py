"""A worker process keeps its database connection between delivery tasks, and replaces one that died.

Celery's own Django fix-up closes the connection before and after every task; portal/celery.py keeps
it (as Django keeps a web process's between requests) and checks it before each task uses it.
"""

from __future__ import annotations

import gc

import pytest
from django.db import connection

from portal.accounts.models import User
from portal.notifications import services
from portal.notifications.models import Delivery, Notification
from portal.notifications.tasks import _without_cyclic_gc
from tests.support.services import wait_for


def other_backends() -> set[int]:
    """PostgreSQL backends on the test database other than this test's own connection."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        )
        return {pid for (pid,) in cursor.fetchall()}


def notify_and_wait(enterprise, key: str) -> None:
    notification = services.notification_create(
        enterprise_id=enterprise.pk, kind=Notification.Kind.MAY_APPLY, dedupe_key=key, title="可申报示例政策（示例）"
    )
    assert notification is not None
    ids = list(notification.deliveries.values_list("pk", flat=True))
    assert ids
    wait_for(lambda: Delivery.objects.filter(pk__in=ids, status=Delivery.Status.SENT).count() == len(ids))


@pytest.fixture
def recipients(enterprise) -> None:
    User.objects.bulk_create(
        User(username=f"w{n}-{enterprise.pk}", email=f"w{n}@example.com", enterprise=enterprise) for n in range(3)
    )


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_keeps_its_connection_between_tasks(start_worker, enterprise, recipients) -> None:
    # given: a worker that has delivered one batch (its backends: the ones that were not there before it)
    before = other_backends()
    start_worker(extra_env={"NOTIFICATIONS_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"})
    notify_and_wait(enterprise, "pv1:may_apply")
    after_first = wait_for(lambda: other_backends() - before)

    # when: it delivers two more batches
    notify_and_wait(enterprise, "pv2:may_apply")
    notify_and_wait(enterprise, "pv3:may_apply")

    # then: on the same connection (one backend, still open)
    assert len(after_first) == 1
    assert other_backends() - before == after_first


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_connection_that_died_between_tasks_is_replaced_before_the_next_task_uses_it(
    start_worker, enterprise, recipients
) -> None:
    # given: a worker whose kept connection the server ended between two tasks (a restart, an administrator)
    before = other_backends()
    worker = start_worker(extra_env={"NOTIFICATIONS_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"})
    notify_and_wait(enterprise, "pv1:may_apply")
    (dead,) = wait_for(lambda: other_backends() - before)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [dead])
    wait_for(lambda: dead not in other_backends())

    # when: the next batch comes
    notify_and_wait(enterprise, "pv2:may_apply")

    # then: it went out on a new connection at the first try: no task failed on the dead one and was retried
    assert other_backends() - before - {dead}
    assert "Retry in" not in worker.log()
    second = Delivery.objects.filter(notification__dedupe_key="pv2:may_apply")
    assert second.count() >= 3
    assert set(second.values_list("attempts", flat=True)) == {1}


@pytest.mark.parametrize("was_enabled", [True, False])
def test_a_batch_turns_the_cyclic_collector_off_and_back_to_how_it_was(was_enabled: bool) -> None:
    (gc.enable if was_enabled else gc.disable)()
    try:
        with pytest.raises(RuntimeError), _without_cyclic_gc():
            assert not gc.isenabled()
            raise RuntimeError("a batch that fails")
        assert gc.isenabled() is was_enabled
    finally:
        gc.enable()
