"""Webhook signing: how a receiver checks that a request came from the portal.

Each request carries

    X-Huiqi-Signature: sha256=<hex HMAC-SHA256 of the raw request body, keyed with the endpoint secret>
    X-Huiqi-Timestamp: <unix seconds when it was sent>  (also inside the signed body as "timestamp")
    Idempotency-Key: <delivery id>                      (same value on every retry of one delivery)

A receiver recomputes the HMAC over the bytes it received, compares in constant time, rejects old
timestamps (replays), and ignores a second request with an Idempotency-Key it has already processed.
"""

from __future__ import annotations

import hashlib
import hmac
import time
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
