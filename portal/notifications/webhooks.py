"""Webhook signing: how a receiver checks that a request came from the portal.

Each request carries

    X-Huiqi-Signature: sha256=<hex HMAC-SHA256 of the raw request body, keyed with the endpoint secret>
    X-Huiqi-Timestamp: <unix seconds when it was sent>  (also inside the signed body as "timestamp")
    Idempotency-Key: <delivery id>                      (same value on every retry of one delivery)

A receiver recomputes the HMAC over the bytes it received, compares in constant time, rejects old
timestamps (replays), and ignores a second request with an Idempotency-Key it has already processed.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import http.client
import ipaddress
import socket
import time
import urllib.request
from typing import Any
from urllib.parse import urlsplit

SIGNATURE_HEADER = "X-Huiqi-Signature"
TIMESTAMP_HEADER = "X-Huiqi-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DELIVERY_HEADER = "X-Huiqi-Delivery"
EVENT_HEADER = "X-Huiqi-Event"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    body: bytes,
    signature: str,
    *,
    timestamp: str | int | None = None,
    tolerance: float = 300.0,
    now: float | None = None,
) -> bool:
    """True when `signature` is ours for `body` (and `timestamp`, if given, is within `tolerance`)."""
    if not hmac.compare_digest(sign(secret, body), signature or ""):
        return False
    if timestamp is not None:
        try:
            age = (time.time() if now is None else now) - int(timestamp)
        except (TypeError, ValueError):
            return False
        if abs(age) > tolerance:
            return False
    return True


def url_is_allowed(url: str) -> bool:
    """Only absolute http(s) URLs: never file:, ftp: or anything urllib would also open."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# --- Where a webhook may go (SSRF) ---------------------------------------------------------------
# An enterprise user types the URL, and the worker POSTs to it from inside the network: without a
# check it could reach the database, Redis or a cloud metadata address. Each send resolves the host,
# refuses unless every address is public, and connects to the address it checked (so a DNS answer
# that changes between the check and the connection cannot point it elsewhere).


class UnsafeAddress(ValueError):
    pass


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _legacy_ipv4(host: str) -> str | None:
    """`127.1`, `2130706433`, `0x7f000001`, `017700000001`: forms inet_aton (and so the resolver and
    urllib) read as an IPv4 address although ipaddress does not. The dotted-quad address, or None."""
    if not host or any(c not in "0123456789abcdefx." for c in host) or not host[0].isdigit():
        return None
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except OSError:
        return None


def internal_address_of(url: str, *, resolve: bool = True) -> str | None:
    """The non-public address `url`'s host is or resolves to, or None when every address is public.

    The one check of every entry point (service, admin, send): `localhost` names, IP literals in any
    notation, and names whose DNS answer points inside. A name that does not resolve now passes here;
    the send resolves again and refuses then (vetted_address).
    """
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return host
    candidates: list[str] = []
    try:
        candidates = [str(ipaddress.ip_address(host.split("%", 1)[0]))]
    except ValueError:
        legacy = _legacy_ipv4(host)
        if legacy is not None:
            candidates = [legacy]
        elif resolve:
            try:
                candidates = [str(info[4][0]) for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)]
            except (OSError, UnicodeError):
                candidates = []
    for address in candidates:
        if not _public(address):
            return address
    return None


def vetted_address(host: str, port: int, *, allow_private: bool) -> str:
    """The address to connect to; UnsafeAddress when any address of `host` is not public."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [str(info[4][0]) for info in infos]
    if not allow_private:
        internal = [a for a in addresses if not _public(a)]
        if internal:
            raise UnsafeAddress(f"接收地址解析到内网或本机地址（{internal[0]}），不予投递")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, pinned: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pinned = pinned

    def connect(self) -> None:
        # source_address is set by HTTPConnection.__init__ but missing from typeshed's stub
        self.sock = socket.create_connection((self.pinned, self.port), self.timeout, self.source_address)  # type: ignore[attr-defined]


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, pinned: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pinned = pinned

    def connect(self) -> None:
        # source_address and _context (the SSL context) are set by HTTPSConnection.__init__; typeshed omits them
        sock = socket.create_connection((self.pinned, self.port), self.timeout, self.source_address)  # type: ignore[attr-defined]
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, pinned: str) -> None:
        super().__init__()
        self.pinned = pinned

    def http_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(functools.partial(_PinnedHTTPConnection, pinned=self.pinned), req)


class _PinnedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, pinned: str) -> None:
        super().__init__()
        self.pinned = pinned

    def https_open(self, req: urllib.request.Request) -> Any:
        # HTTPSHandler keeps its SSL context in _context (set in __init__, not in typeshed)
        context = self._context  # type: ignore[attr-defined]
        return self.do_open(functools.partial(_PinnedHTTPSConnection, pinned=self.pinned), req, context=context)


def pinned_handlers(pinned: str) -> list[urllib.request.BaseHandler]:
    """urllib handlers that connect to `pinned` whatever the URL's host resolves to later."""
    return [_PinnedHTTPHandler(pinned), _PinnedHTTPSHandler(pinned)]
