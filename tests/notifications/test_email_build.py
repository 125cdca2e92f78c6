"""The notification e-mail is built from a cached shared part, and is the same message EmailMessage builds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.mail import BadHeaderError, EmailMessage

from portal.notifications import channels
from portal.notifications.channels import EmailChannel, NotificationEmail, Outgoing

FIXED_DATE = "Thu, 26 Nov 2026 08:00:00 -0000"


def outgoing(delivery_id: int, address: str, *, title: str = "免申即享：守信企业示例（示例）") -> Outgoing:
    return Outgoing(
        delivery_id=delivery_id,
        channel="email",
        address=address,
        notification_id=delivery_id + 1000,
        kind="exempt_granted",
        title=title,
        body="根据相关部门共享的数据，贵企业符合“守信企业示例”的条件，无需申报即可享受。",
        link="/workspace/",
        created_at=datetime(2026, 11, 26, tzinfo=UTC),
        enterprise_credit_code="",
        enterprise_name="",
    )


@pytest.fixture
def fixed_date(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both builders stamp the same Date, so the messages can be compared byte for byte."""
    monkeypatch.setattr(channels, "formatdate", lambda localtime=False: FIXED_DATE)
    monkeypatch.setattr("django.core.mail.message.formatdate", lambda localtime=False: FIXED_DATE)


def stock(message: EmailMessage) -> bytes:
    """What Django's own EmailMessage builds from the same fields."""
    plain = EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=message.from_email,
        to=message.to,
        headers=dict(message.extra_headers),
    )
    return plain.message().as_bytes()


@pytest.mark.parametrize(
    ("address", "title"),
    [
        ("user1@bench.example.com", "免申即享：守信企业示例（示例）"),
        ("张三 <zhang@例子.公司>", "免申即享：守信企业示例（示例）"),  # non-ASCII name and domain: sanitised
        ("ascii@example.com", "Plain ASCII subject " * 6),  # long ASCII subject: folded by Header
    ],
)
def test_fast_build_is_byte_for_byte_the_stock_message(fixed_date, address: str, title: str) -> None:
    channel = EmailChannel()
    message = channel.render(outgoing(7, address, title=title))
    assert isinstance(message, NotificationEmail)
    assert message.message().as_bytes() == stock(message)


def test_the_shared_part_is_not_changed_by_building_many_messages(fixed_date) -> None:
    channel = EmailChannel()
    first = channel.render(outgoing(1, "a@example.com")).message()
    second = channel.render(outgoing(2, "b@example.com")).message()

    assert first["To"] == "a@example.com" and second["To"] == "b@example.com"
    assert first["X-Huiqi-Delivery"] == "1" and second["X-Huiqi-Delivery"] == "2"
    assert first.get_all("To") == ["a@example.com"]  # the second build did not append to the first
    shared = channels._prototype(
        "【惠企通】免申即享：守信企业示例（示例）",
        channel.render(outgoing(3, "c@example.com")).body,
        first["From"],
        "utf-8",
    )
    assert shared["To"] is None and shared["Message-ID"] is None


def test_a_header_injection_in_the_address_is_still_refused(fixed_date) -> None:
    message = EmailChannel().render(outgoing(4, "x@example.com\nBcc: victim@example.com"))
    with pytest.raises(BadHeaderError):
        message.message()


def test_messages_the_fast_path_does_not_cover_are_built_by_email_message(fixed_date) -> None:
    message = NotificationEmail(
        subject="主题",
        body="正文",
        to=["a@example.com"],
        cc=["b@example.com"],
        headers={"Message-ID": "<x@localhost>"},
    )
    built = message.message()
    assert built["Cc"] == "b@example.com"
    assert (
        built.as_bytes()
        == EmailMessage(
            subject="主题",
            body="正文",
            to=["a@example.com"],
            cc=["b@example.com"],
            headers={"Message-ID": "<x@localhost>"},
        )
        .message()
        .as_bytes()
    )
