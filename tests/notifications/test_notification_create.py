"""notification_create / notifications_create_bulk: exactly once, outbox rows per user and channel, on commit."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from portal.notifications import services
from portal.notifications.models import Delivery, Notification
from portal.notifications.services import NotificationSpec
from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory

from .factories import ChannelPreferenceFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db

KIND = Notification.Kind.MAY_APPLY


def create(enterprise, key="pv7:may_apply", **kwargs):
    return services.notification_create(
        enterprise_id=enterprise.pk, kind=KIND, dedupe_key=key, title="您的企业可申报示例政策（示例）", **kwargs
    )


def test_same_key_twice_gives_one_notification_and_one_delivery_per_user(
    enterprise, alice, bob, django_capture_on_commit_callbacks
) -> None:
    # given / when
    with django_capture_on_commit_callbacks() as callbacks:
        first = create(enterprise)
        second = create(enterprise)

    # then
    assert first is not None and first.pk
    assert second is None
    assert Notification.objects.filter(enterprise=enterprise).count() == 1
    rows = Delivery.objects.filter(notification=first)
    assert sorted(rows.values_list("user__email", "channel")) == [
        ("alice@example.com", "email"),
        ("bob@example.com", "email"),
    ]
    assert set(rows.values_list("status", flat=True)) == {Delivery.Status.PENDING}
    assert len(callbacks) == 1  # the repeat enqueues nothing


def test_same_key_for_another_enterprise_is_another_notification(enterprise, alice, charlie) -> None:
    assert create(enterprise) is not None
    assert create(charlie.enterprise) is not None
    assert Notification.objects.count() == 2


def test_preferences_decide_the_channels(enterprise, alice, bob) -> None:
    # given: alice wants SMS and no e-mail; bob has no preference row (the defaults)
    ChannelPreferenceFactory(user=alice, email_enabled=False, sms_enabled=True, phone="13800138000")
    EnterpriseUserFactory(enterprise=enterprise, email="", username="no-mail")
    EnterpriseUserFactory(enterprise=enterprise, email="gone@example.com", is_active=False)

    # when
    notification = create(enterprise)

    # then
    assert sorted(notification.deliveries.values_list("user__username", "channel", "address")) == sorted(
        [(alice.username, "sms", "13800138000"), (bob.username, "email", "bob@example.com")]
    )


def test_active_webhook_endpoints_get_a_delivery_each(enterprise, alice) -> None:
    hook = WebhookEndpointFactory(enterprise=enterprise, url="https://a.example.com/hook")
    WebhookEndpointFactory(enterprise=enterprise, url="https://b.example.com/hook", active=False)
    WebhookEndpointFactory(url="https://other.example.com/hook")  # another enterprise's

    notification = create(enterprise)

    webhook_rows = notification.deliveries.filter(channel=Delivery.Channel.WEBHOOK)
    assert list(webhook_rows.values_list("endpoint_id", "address", "user_id")) == [
        (hook.pk, "https://a.example.com/hook", None)
    ]


def test_joins_the_callers_transaction_and_rolls_back_with_it(
    enterprise, alice, django_capture_on_commit_callbacks
) -> None:
    class DecisionFailed(Exception):
        pass

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(DecisionFailed), transaction.atomic():
        create(enterprise)
        raise DecisionFailed

    assert not Notification.objects.exists()
    assert not Delivery.objects.exists()
    assert callbacks == []  # nothing is enqueued for a decision that did not commit
    # and the key is free again for the decision that does commit
    assert create(enterprise) is not None


def test_delivery_is_enqueued_after_commit_in_batches(
    enterprise, settings, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    # given
    settings.NOTIFICATIONS_BATCH_SIZE = 2
    for n in range(5):
        EnterpriseUserFactory(enterprise=enterprise, email=f"u{n}@example.com")
    sent_batches = []
    from portal.notifications import tasks

    monkeypatch.setattr(tasks.deliver_batch, "apply_async", lambda args, **kw: sent_batches.append(args[0]))

    # when
    with django_capture_on_commit_callbacks(execute=True):
        notification = create(enterprise)
        assert sent_batches == []  # not before commit

    # then
    ids = sorted(notification.deliveries.values_list("pk", flat=True))
    assert [len(b) for b in sent_batches] == [2, 2, 1]
    assert sorted(pk for batch in sent_batches for pk in batch) == ids


def test_unknown_kind_is_a_programming_error(enterprise) -> None:
    with pytest.raises(ValueError, match="unknown notification kind"):
        services.notification_create(enterprise_id=enterprise.pk, kind="spam", dedupe_key="k", title="t")


def test_bulk_creates_once_and_skips_existing_and_repeated_keys(enterprise, alice, charlie) -> None:
    # given: one of the notifications exists already
    create(enterprise, key="pv9:may_apply")
    items = [
        NotificationSpec(enterprise.pk, KIND, "pv9:may_apply", "重复"),
        NotificationSpec(enterprise.pk, KIND, "pv10:may_apply", "新的"),
        NotificationSpec(enterprise.pk, KIND, "pv10:may_apply", "同批次重复"),
        NotificationSpec(charlie.enterprise_id, KIND, "pv9:may_apply", "另一企业"),
    ]

    # when
    created = services.notifications_create_bulk(items=items)
    again = services.notifications_create_bulk(items=items)

    # then
    assert (created, again) == (2, 0)
    assert Notification.objects.count() == 3
    assert Notification.objects.get(enterprise=enterprise, dedupe_key="pv10:may_apply").title == "新的"
    assert Delivery.objects.count() == 3  # alice ×2, charlie ×1


def _bulk_queries(n: int, prefix: str) -> int:
    enterprises = [EnterpriseFactory() for _ in range(n)]
    for e in enterprises:
        EnterpriseUserFactory(enterprise=e)
    items = [NotificationSpec(e.pk, KIND, f"{prefix}:may_apply", "示例") for e in enterprises]
    with CaptureQueriesContext(connection) as ctx:
        assert services.notifications_create_bulk(items=items) == n
    return len(ctx.captured_queries)


def test_bulk_runs_a_constant_number_of_queries_per_chunk(settings) -> None:
    few = _bulk_queries(3, "a")
    many = _bulk_queries(40, "b")

    # one set-based statement on PostgreSQL; insert, users, endpoints, outbox insert elsewhere
    assert few == many == (1 if connection.vendor == "postgresql" else 4)
    assert Delivery.objects.count() == 43
