"""deliveries_send in-process: claim, send once, record; transient vs permanent errors; retries; dead letter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from portal.accounts.models import User
from portal.notifications import services
from portal.notifications.delivery import deliveries_send, retry_delay
from portal.notifications.models import Delivery, Notification, SmsMessage

from . import backends
from .factories import ChannelPreferenceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def notification(enterprise, alice):
    return services.notification_create(
        enterprise_id=enterprise.pk,
        kind=Notification.Kind.EXEMPT_GRANTED,
        dedupe_key="pv3:exempt_granted",
        title="示例政策已为贵企业免申兑现（示例）",
        body="兑现金额以部门核定为准。",
        link="/entitlements/3/",
    )


def email_row(notification) -> Delivery:
    return notification.deliveries.get(channel=Delivery.Channel.EMAIL)


def make_due(row: Delivery) -> None:
    Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_email_goes_out_once_with_the_delivery_id(notification, settings) -> None:
    settings.NOTIFICATIONS_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    row = email_row(notification)

    first = deliveries_send(delivery_ids=[row.pk])
    second = deliveries_send(delivery_ids=[row.pk])  # a redelivered task

    assert first == {"claimed": 1, "sent": 1}
    assert second == {}
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert message.subject == "【惠企通】示例政策已为贵企业免申兑现（示例）"
    assert message.extra_headers["X-Huiqi-Delivery"] == str(row.pk)
    assert message.extra_headers["Message-ID"] == f"<huiqi.delivery.{row.pk}@localhost>"
    assert "http://127.0.0.1:8000/entitlements/3/" in message.body
    row.refresh_from_db()
    assert (row.status, row.attempts, row.provider_message_id) == (
        Delivery.Status.SENT,
        1,
        f"<huiqi.delivery.{row.pk}@localhost>",
    )
    assert row.sent_at is not None


def test_rows_not_due_or_taken_are_not_sent(notification, settings) -> None:
    settings.NOTIFICATIONS_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    row = email_row(notification)
    Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert deliveries_send(delivery_ids=[row.pk]) == {}
    Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now(), status=Delivery.Status.SENDING)
    assert deliveries_send(delivery_ids=[row.pk]) == {}
    assert mail.outbox == []


def test_transient_error_retries_with_backoff_then_dead(notification, settings, send_log) -> None:
    # given
    backends.use_backend(settings, "FailingEmailBackend")
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    settings.NOTIFICATIONS_RETRY_BASE_DELAY = 60
    row = email_row(notification)

    # when: the first attempt fails
    before = timezone.now()
    assert deliveries_send(delivery_ids=[row.pk]) == {"claimed": 1, "failed": 1}

    # then: failed, retried no sooner than half the base delay, not before it is due
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Delivery.Status.FAILED, 1)
    assert "SMTPServerDisconnected" in row.last_error
    assert before + timedelta(seconds=30) <= row.next_attempt_at <= timezone.now() + timedelta(seconds=60)
    assert deliveries_send(delivery_ids=[row.pk]) == {}

    # when: the remaining attempts fail too
    for _ in range(2):
        make_due(row)
        deliveries_send(delivery_ids=[row.pk])

    # then: dead after exactly MAX attempts, and nothing more is tried
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Delivery.Status.DEAD, 3)
    make_due(row)
    assert deliveries_send(delivery_ids=[row.pk]) == {}
    assert backends.counts(send_log, "fail")[row.pk] == 3


def test_flaky_backend_is_sent_once_after_retries(notification, settings, send_log, monkeypatch) -> None:
    backends.use_backend(settings, "FlakyEmailBackend")
    monkeypatch.setenv(backends.FAIL_TIMES_ENV, "2")
    settings.NOTIFICATIONS_RETRY_BASE_DELAY = 0
    row = email_row(notification)

    for _ in range(5):
        deliveries_send(delivery_ids=[row.pk])

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Delivery.Status.SENT, 3)
    assert backends.counts(send_log, "fail")[row.pk] == 2
    assert backends.counts(send_log, "sent")[row.pk] == 1


def test_permanent_error_is_dead_at_once(notification, settings, send_log) -> None:
    backends.use_backend(settings, "RejectingEmailBackend")
    row = email_row(notification)

    assert deliveries_send(delivery_ids=[row.pk]) == {"claimed": 1, "dead": 1}

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Delivery.Status.DEAD, 1)
    assert "拒收" in row.last_error


def test_after_repeated_transient_errors_the_rest_of_the_batch_is_handed_back_untried(
    enterprise, settings, send_log
) -> None:
    # given: 6 recipients and an SMTP server that is down
    from tests.enterprises.factories import EnterpriseUserFactory

    for n in range(6):
        EnterpriseUserFactory(enterprise=enterprise, email=f"u{n}@example.com")
    notification = services.notification_create(
        enterprise_id=enterprise.pk, kind=Notification.Kind.MAY_APPLY, dedupe_key="k", title="示例"
    )
    backends.use_backend(settings, "FailingEmailBackend")
    ids = list(notification.deliveries.values_list("pk", flat=True))

    # when
    stats = deliveries_send(delivery_ids=ids)

    # then: three tries, three rows handed back without using up an attempt
    assert stats == {"claimed": 6, "failed": 3, "deferred": 3}
    assert len(backends.read_log(send_log)) == 3
    untried = Delivery.objects.filter(pk__in=ids, attempts=0)
    assert untried.count() == 3
    assert set(untried.values_list("status", flat=True)) == {Delivery.Status.PENDING}


def test_sms_through_the_database_backend_once(enterprise, alice) -> None:
    ChannelPreferenceFactory(user=alice, email_enabled=False, sms_enabled=True, phone="13912345678")
    notification = services.notification_create(
        enterprise_id=enterprise.pk, kind=Notification.Kind.APPLY_DEADLINE, dedupe_key="k", title="申报将于3天后截止"
    )
    row = notification.deliveries.get()

    deliveries_send(delivery_ids=[row.pk])
    Delivery.objects.filter(pk=row.pk).update(status=Delivery.Status.PENDING)  # as if the mark were lost
    deliveries_send(delivery_ids=[row.pk])

    message = SmsMessage.objects.get()
    assert (message.delivery_id, message.phone) == (row.pk, "13912345678")
    assert message.text.startswith("【惠企通】申报将于3天后截止")
    row.refresh_from_db()
    assert (row.status, row.provider_message_id) == (Delivery.Status.SENT, f"db-{message.pk}")


def test_sms_to_an_invalid_number_is_dead(enterprise, alice) -> None:
    ChannelPreferenceFactory(user=alice, email_enabled=False, sms_enabled=True, phone="12345")
    notification = services.notification_create(
        enterprise_id=enterprise.pk, kind=Notification.Kind.APPLY_DEADLINE, dedupe_key="k", title="示例"
    )
    row = notification.deliveries.get()

    deliveries_send(delivery_ids=[row.pk])

    row.refresh_from_db()
    assert row.status == Delivery.Status.DEAD
    assert not SmsMessage.objects.exists()


def test_retry_delay_grows_and_is_capped(settings) -> None:
    settings.NOTIFICATIONS_RETRY_BASE_DELAY = 10
    settings.NOTIFICATIONS_RETRY_MAX_DELAY = 100
    assert 5 <= retry_delay(1) <= 10
    assert 20 <= retry_delay(3) <= 40
    assert 50 <= retry_delay(12) <= 100


def test_a_slow_chunk_renews_its_claim_and_skips_rows_the_sweep_took_back(enterprise, alice, bob, settings) -> None:
    # given: two claimed rows; renew before every send (a third of a zero timeout has always passed)
    settings.NOTIFICATIONS_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFICATIONS_SENDING_TIMEOUT = 0
    notification = services.notification_create(
        enterprise_id=enterprise.pk, kind=Notification.Kind.MAY_APPLY, dedupe_key="k", title="示例"
    )
    first, second = notification.deliveries.order_by("pk")
    from portal.notifications import channels

    original = channels.EmailChannel.send

    def send_then_sweep(self, item):
        result = original(self, item)
        # meanwhile the sweep decides the worker is gone and takes the second row back
        Delivery.objects.filter(pk=second.pk).update(status=Delivery.Status.PENDING, claimed_at=None)
        return result

    # when
    channels.EmailChannel.send = send_then_sweep
    try:
        stats = deliveries_send(delivery_ids=[first.pk, second.pk])
    finally:
        channels.EmailChannel.send = original

    # then: only the first went out from here; the second is left for whoever holds it now
    assert stats == {"claimed": 2, "sent": 1}
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    second.refresh_from_db()
    assert (second.status, second.attempts) == (Delivery.Status.PENDING, 1)


def test_a_claim_takes_exactly_the_listed_due_rows_even_with_gaps(
    enterprise, settings, django_assert_max_num_queries
) -> None:
    # given: eight e-mail deliveries (one per user); the claim lists every other one, and one of those was sent
    settings.NOTIFICATIONS_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for n in range(8):
        User.objects.create(username=f"gap{n}", email=f"gap{n}@example.com", enterprise=enterprise)
    notification = services.notification_create(
        enterprise_id=enterprise.pk, kind=Notification.Kind.EXEMPT_GRANTED, dedupe_key="pv9:gaps", title="示例"
    )
    rows = list(notification.deliveries.order_by("pk").values_list("pk", flat=True))
    listed = rows[::2]
    Delivery.objects.filter(pk=listed[1]).update(status=Delivery.Status.SENT)

    # when: one batch is delivered (rows in between, inside the listed ids' range, are not listed)
    with django_assert_max_num_queries(6):  # claim, load, mark; no query per message
        stats = deliveries_send(delivery_ids=listed)

    # then: only the listed due rows went out, once each, marked with one statement
    assert stats == {"claimed": 3, "sent": 3}
    statuses = dict(Delivery.objects.filter(pk__in=rows).values_list("pk", "status"))
    assert {pk for pk, status in statuses.items() if status == Delivery.Status.SENT} == set(listed)
    assert {statuses[pk] for pk in rows if pk not in listed} == {Delivery.Status.PENDING}
    assert sorted(int(m.extra_headers["X-Huiqi-Delivery"]) for m in mail.outbox) == sorted(
        pk for pk in listed if pk != listed[1]
    )


def test_one_failing_address_in_a_batch_fails_alone(enterprise, settings) -> None:
    # given: a batch where one recipient's address cannot be put in a header
    settings.NOTIFICATIONS_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for n in range(4):
        User.objects.create(username=f"iso{n}", email=f"iso{n}@example.com", enterprise=enterprise)
    notification = services.notification_create(
        enterprise_id=enterprise.pk, kind=Notification.Kind.EXEMPT_GRANTED, dedupe_key="pv9:iso", title="示例"
    )
    rows = list(notification.deliveries.order_by("pk").values_list("pk", flat=True))
    bad = rows[1]
    Delivery.objects.filter(pk=bad).update(address="iso@example.com\nBcc: victim@example.com")

    stats = deliveries_send(delivery_ids=rows)

    # then: the bad one is dead (permanent), every other one sent once
    assert stats == {"claimed": len(rows), "sent": len(rows) - 1, "dead": 1}
    assert Delivery.objects.get(pk=bad).status == Delivery.Status.DEAD
    assert set(Delivery.objects.filter(pk__in=rows).exclude(pk=bad).values_list("status", flat=True)) == {"sent"}
    assert len(mail.outbox) == len(rows) - 1
