"""portal.redis_cache: Django's Redis cache, with one redis-py client per pool, reused across calls."""

from __future__ import annotations

from portal.redis_cache import RedisCache
from tests.support.services import need_redis


def test_one_client_per_pool_and_the_cache_still_works() -> None:
    url = need_redis()
    cache = RedisCache(url, {"KEY_PREFIX": "test-redis-cache"})
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client() is client  # one server: reads and writes share the pool and client

    cache.set("k", {"v": 1}, timeout=30)
    assert cache.get("k") == {"v": 1}
    assert cache.get_many(["k", "missing"]) == {"k": {"v": 1}}
    assert cache.add("k", 2) is False
    cache.delete("k")
    assert cache.get("k") is None
