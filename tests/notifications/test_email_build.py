"""The notification e-mail is the message Django's EmailMessage builds, byte for byte, with the delivery's ids
in its headers; only the shared part (subject, body, From) is encoded once per content."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from email import message_from_bytes
from email.generator import BytesGenerator
from email.header import decode_header, make_header
from email.policy import compat32
from io import BytesIO

import pytest
from django.core.mail import BadHeaderError, EmailMessage, get_connection

from portal.notifications import mail
from portal.notifications.channels import EmailChannel, Outgoing, message_id
from portal.notifications.mail import NotificationEmail

FIXED_DATE = "Thu, 26 Nov 2026 08:00:00 -0000"
BODY = "根据相关部门共享的数据，贵企业符合“守信企业示例”的条件，无需申报即可享受。"


def outgoing(
    delivery_id: int, address: str, *, title: str = "免申即享：守信企业示例（示例）", body: str = BODY
) -> Outgoing:
    return Outgoing(
        delivery_id=delivery_id,
        channel="email",
        address=address,
        notification_id=delivery_id + 1000,
        kind="exempt_granted",
        title=title,
        body=body,
        link="/workspace/",
        created_at=datetime(2026, 11, 26, tzinfo=UTC),
        enterprise_credit_code="",
        enterprise_name="",
    )


@pytest.fixture
def fixed_date(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both builders stamp the same Date, so the messages can be compared byte for byte."""
    monkeypatch.setattr(mail, "formatdate", lambda localtime=False: FIXED_DATE)
    monkeypatch.setattr("django.core.mail.message.formatdate", lambda localtime=False: FIXED_DATE)


def stock(message: EmailMessage) -> EmailMessage:
    """Django's own EmailMessage with the same fields."""
    return EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=message.from_email,
        to=message.to,
        cc=message.cc,
        headers=dict(message.extra_headers),
    )


def generated(msg, linesep: str) -> bytes:
    """What the email package's generator writes for `msg`, as Django's as_bytes calls it."""
    fp = BytesIO()
    BytesGenerator(fp, mangle_from_=False).flatten(msg, linesep=linesep)
    return fp.getvalue()


@pytest.mark.parametrize(
    ("address", "title", "body"),
    [
        ("user1@bench.example.com", "免申即享：守信企业示例（示例）", BODY),
        ("张三 <zhang@例子.公司>", "免申即享：守信企业示例（示例）", BODY),  # non-ASCII name and domain: sanitised
        ("ascii@example.com", "Plain ASCII subject " * 6, "plain ascii body"),  # long ASCII subject: folded
        ("a-very-long-local-part-" * 3 + "@example.com", "短", "长行" * 600),  # long To; a line > 998: QP body
        ("x@example.com", "From the start", "From here on\n.\nline"),  # not mangled, dots as they are
    ],
)
@pytest.mark.parametrize("linesep", ["\n", "\r\n"])
def test_message_and_bytes_are_those_email_message_builds(fixed_date, address, title, body, linesep) -> None:
    message = EmailChannel().render(outgoing(7, address, title=title, body=body))
    assert isinstance(message, NotificationEmail)

    built, expected = message.message(), stock(message).message()
    assert built.items() == expected.items()
    assert built.as_bytes(linesep=linesep) == expected.as_bytes(linesep=linesep)
    assert built._shared.serialised(linesep) is not None  # so as_bytes took the shortcut
    assert built.as_bytes(linesep=linesep) == generated(built, linesep)
    assert built.as_string() == expected.as_string()


def test_the_delivery_headers_and_text_are_in_the_message() -> None:
    message = EmailChannel().render(outgoing(7, "user1@bench.example.com"))
    parsed = message_from_bytes(message.message().as_bytes(linesep="\r\n"))

    assert str(make_header(decode_header(parsed["Subject"]))) == "【惠企通】免申即享：守信企业示例（示例）"
    assert parsed["Message-ID"] == message_id(7)
    assert parsed["X-Huiqi-Delivery"] == "7" and parsed["X-Huiqi-Notification"] == "1007"
    assert parsed["Date"] and parsed["From"]
    text = parsed.get_payload(decode=True).decode(parsed.get_content_charset())
    assert "查看详情：" in text and text.rstrip().endswith("如需调整通知方式，请登录平台“消息设置”。")


def test_each_message_has_its_own_recipient_and_ids_and_the_shared_part_stays_as_built(fixed_date) -> None:
    channel = EmailChannel()
    first = channel.render(outgoing(1, "a@example.com")).message()
    second = channel.render(outgoing(2, "b@example.com")).message()

    assert first["To"] == "a@example.com" and second["To"] == "b@example.com"
    assert first["X-Huiqi-Delivery"] == "1" and second["X-Huiqi-Delivery"] == "2"
    assert first.get_all("To") == ["a@example.com"]  # the second build did not append to the first
    assert first._shared is second._shared
    shared = first._shared.message
    assert shared["To"] is None and shared["Message-ID"] is None
    assert b"b@example.com" not in first.as_bytes() and b"a@example.com" in first.as_bytes()


def test_a_message_changed_after_it_was_built_is_written_by_the_generator(fixed_date) -> None:
    msg = EmailChannel().render(outgoing(3, "c@example.com")).message()
    msg.replace_header("Subject", "另一个主题")
    msg["X-Extra"] = "  two  spaces "
    assert msg.as_bytes(linesep="\r\n") == generated(msg, "\r\n")
    assert b"X-Extra:   two  spaces " in msg.as_bytes()

    other = EmailChannel().render(outgoing(4, "d@example.com")).message()
    other.set_payload("新的正文", "utf-8")
    assert other.as_bytes() == generated(other, "\n")


def test_a_header_injection_is_still_refused() -> None:
    with pytest.raises(BadHeaderError):
        EmailChannel().render(outgoing(4, "x@example.com\nBcc: victim@example.com")).message()
    with pytest.raises(BadHeaderError):
        EmailChannel().render(outgoing(5, "x@example.com", title="主题\nBcc: victim@example.com")).message()


def test_messages_the_shortcut_does_not_cover_are_built_by_email_message(fixed_date) -> None:
    for fields in (
        {"cc": ["b@example.com"], "headers": {"Message-ID": "<x@localhost>"}},
        {"headers": {"Message-ID": "<x@localhost>", "Date": "Wed, 25 Nov 2026 08:00:00 -0000"}},
        {"headers": {}},  # no Message-ID of its own: EmailMessage makes one up
    ):
        message = NotificationEmail(subject="主题", body="正文", to=["a@example.com"], **fields)
        built = message.message()
        assert not isinstance(built, mail._NotificationMIMEText)
        if "Message-ID" in fields["headers"]:
            assert built.as_bytes() == stock(message).message().as_bytes()


@pytest.mark.parametrize(
    "value",
    [
        "a@example.com",
        FIXED_DATE,
        "<huiqi.delivery.123456789@huiqi.example.gov.cn>",
        "x" * 60,
        "x" * 61,  # with "X-Huiqi-Delivery: " just over 78: folded (or not) by Header
        "word " * 12 + "end",
        "word " * 20 + "end",  # longer than a line: folded at the spaces
        "two  spaces",
        "tab\there",
        " leading",
        "trailing ",
        "",
        "中文",
        "semi;colon,comma",
        "=?utf-8?b?5Lit5paH?=",
    ],
)
@pytest.mark.parametrize("linesep", ["\n", "\r\n"])
def test_header_folding_shortcut_matches_the_policy(value: str, linesep: str) -> None:
    policy = compat32.clone(linesep=linesep)
    assert mail._fold(policy, "X-Huiqi-Delivery", value) == policy.fold_binary("X-Huiqi-Delivery", value)


def test_the_locmem_outbox_keeps_an_independent_copy() -> None:
    message = EmailChannel().render(outgoing(8, "e@example.com"))
    clone = copy.deepcopy(message)
    assert type(clone) is NotificationEmail and clone is not message
    assert vars(clone) == vars(message)
    assert clone.to is not message.to and clone.extra_headers is not message.extra_headers

    connection = get_connection("django.core.mail.backends.locmem.EmailBackend")
    from django.core import mail as django_mail

    django_mail.outbox = []
    assert connection.send_messages([message]) == 1
    message.to.append("late@example.com")
    assert django_mail.outbox[0].to == ["e@example.com"]
