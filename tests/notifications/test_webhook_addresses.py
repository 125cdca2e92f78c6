"""Webhooks reach only public addresses (SSRF): checked at registration, and again at each send,
where the connection goes to the address that was checked."""

from __future__ import annotations

import socket

import pytest

from portal.api.exceptions import ApplicationError
from portal.notifications import services, webhooks
from portal.notifications.delivery import deliveries_send
from portal.notifications.models import Delivery, WebhookEndpoint

from .receiver import Receiver
from .test_webhook_delivery import webhook_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "192.168.0.10", "169.254.169.254", "100.64.0.1", "::1", "::ffff:127.0.0.1"]
)
def test_internal_addresses_are_refused(address: str) -> None:
    with pytest.raises(webhooks.UnsafeAddress, match="内网或本机"):
        webhooks.vetted_address(address, 80, allow_private=False)
    assert webhooks.vetted_address(address, 80, allow_private=True) == address


def test_a_public_address_is_used_as_it_is() -> None:
    assert webhooks.vetted_address("8.8.8.8", 443, allow_private=False) == "8.8.8.8"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9000/hook", "http://localhost/hook", "https://api.localhost/x", "http://[::1]/h"]
)
def test_registration_refuses_plainly_internal_urls(url: str, enterprise, settings) -> None:
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(ApplicationError) as caught:
        services.webhook_endpoint_create(enterprise_id=enterprise.pk, url=url)
    assert (caught.value.code, caught.value.field) == ("internal_address", "url")
    assert not WebhookEndpoint.objects.exists()


def test_registration_accepts_a_public_name(enterprise, settings) -> None:
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE = False
    endpoint = services.webhook_endpoint_create(enterprise_id=enterprise.pk, url="https://hooks.example.com/huiqi")
    assert endpoint.url == "https://hooks.example.com/huiqi"


def test_a_send_to_an_internal_address_ends_dead_and_nothing_is_posted(enterprise, receiver, settings) -> None:
    # Registered while allowed (or by a name that later resolves inside): the send itself refuses.
    row, _ = webhook_row(enterprise, receiver.url)
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE = False

    deliveries_send(delivery_ids=[row.pk])

    row.refresh_from_db()
    assert row.status == Delivery.Status.DEAD  # permanent: retrying cannot make it safe
    assert "内网或本机" in row.last_error
    assert receiver.requests == []


def test_the_connection_goes_to_the_address_that_was_checked(enterprise, receiver, monkeypatch) -> None:
    # A name only our resolver knows: the request reaches the receiver only if the connection uses
    # the checked address instead of resolving the name again.
    port = int(receiver.url.split(":")[2].split("/")[0])
    real = socket.getaddrinfo
    calls = []

    def resolver(host, *args, **kwargs):
        if host == "hooks.huiqi.test":
            calls.append(host)
            return real("127.0.0.1", port, type=socket.SOCK_STREAM)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", resolver)
    row, _ = webhook_row(enterprise, receiver.url.replace("127.0.0.1", "hooks.huiqi.test"))

    assert deliveries_send(delivery_ids=[row.pk]) == {"claimed": 1, "sent": 1}
    assert calls == ["hooks.huiqi.test"]  # resolved once, by the check
    [request] = receiver.requests
    assert request.headers["Host"].startswith("hooks.huiqi.test")
