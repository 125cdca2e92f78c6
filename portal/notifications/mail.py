"""The notification e-mail: what Django's EmailMessage builds, byte for byte, with the shared part encoded once.

In a fan-out every recipient of one notification gets the same subject and body. EmailMessage.message()
encodes both again for each message (the RFC 2047 Subject and the body's charset and parameters are ~90%
of its cost), and serialising the result (as_bytes, which Django's SMTP backend sends) folds every header
again, at about the same cost once more. NotificationEmail builds the shared part (Content-Type,
MIME-Version, Content-Transfer-Encoding, Subject, From and the body) once per process and content, and
each message is a copy of it with the recipient's headers appended through SafeMIMEText's own checks
(no newlines, non-ASCII addresses encoded). Its as_bytes reuses the shared part's serialised bytes and
folds only the recipient's headers.

It relies on two details of email.message.Message: the headers are the list `_headers` of (name, value)
pairs, in order, and the body is `_payload` (both true since Python 2). tests/notifications/
test_email_build.py compares messages and their bytes with what EmailMessage builds from the same
fields, so a Python or Django change that breaks this fails there. Anything but the plain one-part
message the channel sends is built by EmailMessage itself.
"""

from __future__ import annotations

import copy
import functools
import re
from email.message import Message
from email.policy import Compat32, Policy
from email.utils import formatdate
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import SafeMIMEText

# Headers that, given as extra headers, change the shared part or the order EmailMessage writes them in.
_OWN_HEADERS = frozenset({"from", "to", "cc", "reply-to", "date"})
# A header value that compat32 folding leaves as it is when the whole line fits: printable ASCII words
# separated by single spaces (no tabs, runs of spaces, line breaks or other characters Header treats
# specially). The recipient's headers (address, Date, Message-ID, ids) look like this.
_PLAIN_VALUE = re.compile(r"[!-~]+(?: [!-~]+)*")


def _headers(msg: Message) -> list[tuple[str, Any]]:
    """The message's header list itself (see the module docstring)."""
    return msg._headers  # type: ignore[attr-defined]  # private in the stubs, relied on by design here


def _payload(msg: Message) -> Any:
    return msg._payload  # type: ignore[attr-defined]  # private in the stubs; compared by identity only


class _Serialised:
    """The shared part's bytes for one line separator: its header lines, and the blank line with the body."""

    __slots__ = ("head", "policy", "tail")

    def __init__(self, head: bytes, tail: bytes, policy: Policy) -> None:
        self.head = head
        self.tail = tail
        self.policy = policy


class _SharedPart:
    """One prototype message and, per line separator, its serialised form. Never modified after building."""

    def __init__(self, message: _NotificationMIMEText) -> None:
        self.message = message
        self.headers = list(_headers(message))
        self._serialised: dict[str, _Serialised | None] = {}

    def serialised(self, linesep: str) -> _Serialised | None:
        try:
            return self._serialised[linesep]
        except KeyError:
            pass
        # The generator's own settings: Django's as_bytes (no From mangling), the message's policy with
        # this line separator; its headers are written with exactly these fold_binary calls.
        whole = self.message.as_bytes(linesep=linesep)
        policy = self.message.policy.clone(linesep=linesep)
        head = b"".join(policy.fold_binary(name, value) for name, value in self.headers)
        found = _Serialised(head, whole[len(head) :], policy) if whole.startswith(head) else None
        self._serialised[linesep] = found
        return found


@functools.lru_cache(maxsize=64)
def _shared_part(subject: str, body: str, from_email: str, encoding: str, subtype: str) -> _SharedPart:
    """What every recipient of one notification shares, in the order EmailMessage.message() writes it."""
    msg = _NotificationMIMEText(body, subtype, encoding)
    msg["Subject"] = subject
    msg["From"] = from_email
    return _SharedPart(msg)


def _fold(policy: Policy, name: str, value: Any) -> bytes:
    """policy.fold_binary(name, value), without building a Header for a short plain value under compat32
    (the policy Django's messages use), which that folding writes unchanged."""
    max_length = getattr(policy, "max_line_length", None) or 0
    if (
        type(policy) is Compat32
        and isinstance(value, str)
        and len(name) + 2 + len(value) <= max_length
        and _PLAIN_VALUE.fullmatch(value)
    ):
        return f"{name}: {value}{policy.linesep}".encode("ascii")
    return policy.fold_binary(name, value)


class _NotificationMIMEText(SafeMIMEText):
    """A copy of a shared part; as_bytes writes the shared part's bytes around this message's own headers."""

    _shared: _SharedPart | None = None

    # Django's MIMEMixin.as_bytes takes a line separator; the stubs know only Message.as_bytes(policy=).
    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:  # type: ignore[override]
        shared = self._shared
        serialised = shared.serialised(linesep) if shared is not None and not unixfrom else None
        if (
            shared is None
            or serialised is None
            # Changed since it was built (payload, policy, or any of the shared headers): the generator writes it.
            or _payload(self) is not _payload(shared.message)
            or self.policy is not shared.message.policy
            or _headers(self)[: len(shared.headers)] != shared.headers
        ):
            return super().as_bytes(unixfrom=unixfrom, linesep=linesep)
        policy = serialised.policy
        own = [_fold(policy, name, value) for name, value in _headers(self)[len(shared.headers) :]]
        return b"".join((serialised.head, *own, serialised.tail))


class NotificationEmail(EmailMessage):
    """EmailMessage whose message() and the message's as_bytes() take the shared part from a per-process cache.

    Only the plain one-part message the e-mail channel sends (one or more To addresses, its own Message-ID,
    no Cc, Reply-To, attachments, or From/To/Date among the extra headers) takes that path.
    """

    def message(self, **kwargs: Any) -> Any:
        headers = {name.lower() for name in self.extra_headers}
        if (
            kwargs  # options of later Django versions (policy=): theirs to apply
            or self.attachments
            or self.cc
            or self.reply_to
            or not self.to
            or "message-id" not in headers  # EmailMessage makes one up; ours always carry theirs
            or headers & _OWN_HEADERS
            or not all(isinstance(text, str) for text in (self.subject, self.body, self.from_email))
        ):
            return super().message(**kwargs)
        encoding = self.encoding or settings.DEFAULT_CHARSET
        shared = _shared_part(self.subject, self.body, self.from_email, encoding, self.content_subtype)
        msg = copy.copy(shared.message)
        msg._headers = list(shared.headers)  # type: ignore[attr-defined]  # its own list: the shared part's is never appended to
        msg.defects = list(shared.message.defects)
        msg._shared = shared
        msg["To"] = ", ".join(str(address) for address in self.to)
        msg["Date"] = formatdate(localtime=settings.EMAIL_USE_LOCALTIME)
        for name, value in self.extra_headers.items():
            msg[name] = value
        return msg

    def __deepcopy__(self, memo: dict[int, Any]) -> NotificationEmail:
        # What copy.deepcopy does (each attribute deep-copied), without its generic reduce/reconstruct
        # machinery: the locmem backend keeps a deep copy of every message it is given.
        clone = self.__class__.__new__(self.__class__)
        memo[id(self)] = clone
        for name, value in self.__dict__.items():
            clone.__dict__[name] = value if type(value) is str else copy.deepcopy(value, memo)
        return clone
