"""The public policy list, rendered once per catalogue version, day and query, and kept in each process.

The list is the same for every visitor and changes only when a version is published or retired, so
its JSON is kept, ready to send, in a small per-process store. What makes a stored page valid:

- the catalogue version, a token in the shared cache (Redis) replaced after
  every publish and retire commits (`catalogue_changed`, in portal/events.py); each request reads it once, so every
  process sees a change at once;
- the day (which versions are in effect moves at midnight);
- the scheme and host (the page's next/previous links are absolute) and the whole query string;
- an age limit (PUBLIC_POLICY_LIST_CACHE_SECONDS), so a change made around the services (the
  database by hand, a bulk script) shows within that time. 0 turns the store off (the tests' default).

If the shared cache cannot be reached, the list is built for each request as it was before.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

VERSION_KEY = "policies:public-catalogue-version"
MAX_ENTRIES = 512

_pages: OrderedDict[str, tuple[float, bytes, str]] = OrderedDict()
_lock = threading.Lock()
_clock = time.monotonic  # replaced in tests


def enabled() -> bool:
    return getattr(settings, "PUBLIC_POLICY_LIST_CACHE_SECONDS", 0) > 0


def catalogue_version() -> str:
    """The current catalogue token (a new one is made when the shared cache has none)."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, secrets.token_hex(8), timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def _replace_version() -> None:
    try:
        cache.set(VERSION_KEY, secrets.token_hex(8), timeout=None)
    except Exception:  # a committed publish must not fail on the cache; the age limit bounds staleness
        logger.exception("could not replace the public catalogue version; stored pages expire by age")


def catalogue_changed(*, version_id: int) -> None:
    """A version was published or retired (portal.events: POLICY_PUBLISHED / POLICY_RETIRED, after
    commit): pages stored so far are dropped. Not before the commit, or a request in between would
    store the old list under the new token."""
    _replace_version()


def page_key(*, version: str, base_url: str, query: str) -> str:
    return f"{version}|{timezone.localdate().isoformat()}|{base_url}|{query}"


def cached_page(key: str, build: Callable[[], tuple[bytes, str]]) -> tuple[bytes, str]:
    """(body, content type) for `key`: the stored one while young enough, else `build()`, then stored."""
    now = _clock()
    with _lock:
        entry = _pages.get(key)
        if entry is not None and entry[0] > now:
            _pages.move_to_end(key)
            return entry[1], entry[2]
    body, content_type = build()
    with _lock:
        _pages[key] = (now + settings.PUBLIC_POLICY_LIST_CACHE_SECONDS, body, content_type)
        _pages.move_to_end(key)
        while len(_pages) > MAX_ENTRIES:
            _pages.popitem(last=False)
    return body, content_type


def clear() -> None:
    """Forget every stored page in this process (tests)."""
    with _lock:
        _pages.clear()
