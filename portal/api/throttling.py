"""Rate limits whose counting is atomic, so concurrent requests cannot slip past the limit.

DRF's SimpleRateThrottle reads a history list, appends and writes it back: two requests that read
at once both pass. Here each request is one `incr` on a counter per (client, window), which Redis
(and the local-memory cache, under its lock) performs atomically.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import AnonRateThrottle


class AtomicAnonRateThrottle(AnonRateThrottle):
    """The "anon" rate (settings DEFAULT_THROTTLE_RATES) in fixed windows, counted with one atomic incr."""

    # Set by SimpleRateThrottle.__init__ from the rate (absent from drf-stubs).
    num_requests: int
    duration: int

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        ident = self.get_cache_key(request, view)
        if ident is None:  # a signed-in user: not an anonymous caller
            return True
        window = int(time.time() // self.duration)
        key = f"{ident}:{window}"
        # add() creates the counter with its expiry only if absent; incr() is then atomic.
        cache.add(key, 0, timeout=self.duration + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: start the window again
            cache.add(key, 1, timeout=self.duration + 1)
            count = 1
        self._window_end = (window + 1) * self.duration
        return count <= self.num_requests

    def wait(self) -> float | None:
        return max(0.0, getattr(self, "_window_end", time.time()) - time.time())
