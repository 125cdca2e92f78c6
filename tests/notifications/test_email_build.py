"""The notification e-mail is a plain Django EmailMessage, carrying the delivery's ids in its headers."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from django.core.mail import BadHeaderError, EmailMessage

from portal.notifications.channels import EmailChannel, Outgoing, message_id


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


@pytest.mark.parametrize(
    ("address", "title"),
    [
        ("user1@bench.example.com", "免申即享：守信企业示例（示例）"),
        ("张三 <zhang@例子.公司>", "免申即享：守信企业示例（示例）"),  # non-ASCII name and domain: sanitised
        ("ascii@example.com", "Plain ASCII subject " * 6),  # long ASCII subject: folded by Header
    ],
)
def test_the_message_is_built_by_django_with_the_delivery_headers(address: str, title: str) -> None:
    message = EmailChannel().render(outgoing(7, address, title=title))
    assert type(message) is EmailMessage  # Django's public API, nothing of ours in between

    parsed = message_from_bytes(message.message().as_bytes())
    assert str(make_header(decode_header(parsed["Subject"]))) == f"【惠企通】{title}"
    assert parsed["Message-ID"] == message_id(7)
    assert parsed["X-Huiqi-Delivery"] == "7" and parsed["X-Huiqi-Notification"] == "1007"
    assert parsed["Date"] and parsed["From"]
    text = parsed.get_payload(decode=True).decode(parsed.get_content_charset())
    assert "查看详情：" in text and text.rstrip().endswith("如需调整通知方式，请登录平台“消息设置”。")


def test_each_message_has_its_own_recipient_and_ids() -> None:
    channel = EmailChannel()
    first = channel.render(outgoing(1, "a@example.com")).message()
    second = channel.render(outgoing(2, "b@example.com")).message()

    assert first["To"] == "a@example.com" and second["To"] == "b@example.com"
    assert first["X-Huiqi-Delivery"] == "1" and second["X-Huiqi-Delivery"] == "2"
    assert first.get_all("To") == ["a@example.com"]


def test_a_header_injection_in_the_address_is_still_refused() -> None:
    message = EmailChannel().render(outgoing(4, "x@example.com\nBcc: victim@example.com"))
    with pytest.raises(BadHeaderError):
        message.message()
