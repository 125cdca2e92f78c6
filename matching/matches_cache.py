"""The matched-policies API page of one enterprise, rendered once per data stamp and query, kept in each process.

GET /api/v1/enterprises/{code}/matches/ is read far more often than an enterprise's records change, and
rendering it (the records with their explanations, as JSON) is most of its cost. The rendered page is kept,
ready to send, in a small per-process store, under a key made of:

- the enterprise id — and the view checks that the caller may see that enterprise (404 otherwise)
  *before* it looks here, on every request: a stored page is never a way round the authorisation;
- two stamps in the shared cache (Redis), read together once per request (one MGET):
  the enterprise's own stamp, replaced after its match records, explanations or facts change, and the
  district stamp, replaced when the catalogue changes (a version published or retired, the whole
  district decided) or when a change touches more than BULK_THRESHOLD enterprises at once;
- the scheme and host (the page's next/previous links are absolute) and the whole query string;
- an age limit (MATCHES_API_CACHE_SECONDS), so a change made around the services (the database by
  hand) shows within that time. 0 turns the store off (the tests' default).

The stamps are replaced only once the change has *committed* (the handlers below are wired in
portal/events.py). A request reads the stamps before it reads the records, so a page built from data
older than a change is stored under the stamp that change replaced, and is never served again.
A stamp that is missing (expired, or Redis restarted) is created afresh, which also misses every page.
If the shared cache cannot be reached, the page is built for each request as it was before.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

if TYPE_CHECKING:
    from matching.bulk import ChangedRecord

logger = logging.getLogger(__name__)

DISTRICT_KEY = "matching:matches-page-stamp:district"
ENTERPRISE_PREFIX = "matching:matches-page-stamp:e:"
# A change to more enterprises than this replaces the district stamp instead of one stamp each.
BULK_THRESHOLD = 500
# Stamps outlive the pages they guard (MATCHES_API_CACHE_SECONDS); one that expires is made afresh.
STAMP_SECONDS = 24 * 60 * 60
MAX_BYTES = 32 * 1024 * 1024  # per process; the least recently used pages go first

_pages: OrderedDict[str, tuple[float, bytes, str]] = OrderedDict()
_bytes = 0
_lock = threading.Lock()
_clock = time.monotonic  # replaced in tests


def enabled() -> bool:
    return getattr(settings, "MATCHES_API_CACHE_SECONDS", 0) > 0


def _enterprise_key(enterprise_id: int) -> str:
    return f"{ENTERPRISE_PREFIX}{enterprise_id}"


def stamps(enterprise_id: int) -> str | None:
    """The district's and the enterprise's stamps, as one string (created when missing); None when a
    stamp is still missing after that (expiring that instant: the caller builds the page unstored)."""
    keys = [DISTRICT_KEY, _enterprise_key(enterprise_id)]
    found = cache.get_many(keys)
    if len(found) < len(keys):
        for key in keys:
            if key not in found:
                cache.add(key, secrets.token_hex(8), timeout=STAMP_SECONDS)
        found = cache.get_many(keys)
        if len(found) < len(keys):
            return None
    return f"{found[keys[0]]}.{found[keys[1]]}"


def page_key(*, enterprise_id: int, stamp: str, base_url: str, query: str) -> str:
    return f"{enterprise_id}|{stamp}|{base_url}|{query}"


def cached_page(key: str, build: Callable[[], tuple[bytes, str]]) -> tuple[bytes, str]:
    """(body, content type) for `key`: the stored one while young enough, else `build()`, then stored."""
    global _bytes
    now = _clock()
    with _lock:
        entry = _pages.get(key)
        if entry is not None and entry[0] > now:
            _pages.move_to_end(key)
            return entry[1], entry[2]
    body, content_type = build()
    with _lock:
        old = _pages.pop(key, None)
        if old is not None:
            _bytes -= len(old[1])
        _pages[key] = (now + settings.MATCHES_API_CACHE_SECONDS, body, content_type)
        _bytes += len(body)
        while _bytes > MAX_BYTES and _pages:
            _, dropped = _pages.popitem(last=False)
            _bytes -= len(dropped[1])
    return body, content_type


def clear() -> None:
    """Forget every stored page in this process (tests)."""
    global _bytes
    with _lock:
        _pages.clear()
        _bytes = 0


# --- Invalidation: the handlers of portal/events.py ---------------------------------------------------


def _replace(enterprise_ids: Iterable[int]) -> None:
    ids = set(enterprise_ids)
    if not ids:
        return
    try:
        if len(ids) > BULK_THRESHOLD:
            cache.set(DISTRICT_KEY, secrets.token_hex(8), timeout=STAMP_SECONDS)
        else:
            cache.set_many({_enterprise_key(i): secrets.token_hex(8) for i in ids}, timeout=STAMP_SECONDS)
    except Exception:  # a committed change must not fail on the cache; the age limit bounds staleness
        logger.exception("could not replace matched-policies page stamps; stored pages expire by age")


def _replace_after_commit(enterprise_ids: Iterable[int]) -> None:
    """Inside the writer's transaction: replace the stamps once it commits (nothing if it rolls back).
    Not before the commit, or a request in between would store the old records under the new stamp."""
    ids = set(enterprise_ids)
    if ids:
        transaction.on_commit(lambda: _replace(ids))


def _replace_district() -> None:
    try:
        cache.set(DISTRICT_KEY, secrets.token_hex(8), timeout=STAMP_SECONDS)
    except Exception:
        logger.exception("could not replace the district's matched-policies page stamp; pages expire by age")


def records_changed(*, version_id: int, changes: Sequence[ChangedRecord], run_id: int | None) -> None:
    """MATCH_RECORDS_CHANGED (in the writer's transaction): those enterprises' pages, after commit."""
    _replace_after_commit(c.enterprise_id for c in changes)


def _records_changed_many(payloads: Sequence[dict]) -> None:
    """MATCH_RECORDS_CHANGED for many versions at once (events.emit_many): one replacement after commit."""
    _replace_after_commit(c.enterprise_id for p in payloads for c in p["changes"])


records_changed.many = _records_changed_many  # type: ignore[attr-defined]


def explanations_filled(*, version_id: int, enterprise_ids: Sequence[int]) -> None:
    """MATCH_EXPLANATIONS_FILLED (in the writer's transaction): those enterprises' pages, after commit."""
    _replace_after_commit(enterprise_ids)


def _explanations_filled_many(payloads: Sequence[dict]) -> None:
    """MATCH_EXPLANATIONS_FILLED for many versions at once (events.emit_many): one replacement after commit."""
    _replace_after_commit(e for p in payloads for e in p["enterprise_ids"])


explanations_filled.many = _explanations_filled_many  # type: ignore[attr-defined]


def facts_changed(*, enterprise_ids: Sequence[int]) -> None:
    """FACTS_CHANGED (after commit): those enterprises' pages (their re-match replaces them again)."""
    _replace(enterprise_ids)


def catalogue_changed(*, version_id: int) -> None:
    """POLICY_PUBLISHED / POLICY_RETIRED (after commit): every page (the list shows published versions)."""
    _replace_district()


def catalogue_decided(*, version_ids: Sequence[int]) -> None:
    """CATALOGUE_DECIDED (once the district's runs committed): every page."""
    _replace_district()
