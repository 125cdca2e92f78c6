"""portal/urls.py puts the most read APIs' includes first; that is safe only while no API path is matched by
patterns of two includes (then the first include would win where another used to)."""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

SAMPLE = {"int": "7", "str": "x7", "slug": "x-7", "path": "x/7"}


def leaves(resolver: URLResolver, prefix: str = "") -> list[str]:
    found = []
    for item in resolver.url_patterns:
        route = prefix + str(item.pattern)
        if isinstance(item, URLResolver):
            found += leaves(item, route)
        elif isinstance(item, URLPattern):
            found.append(route)
    return found


def test_every_api_path_is_matched_by_one_pattern_only() -> None:
    api = next(p for p in get_resolver().url_patterns if str(p.pattern) == "api/v1/")
    routes = leaves(api, "api/v1/")
    assert "api/v1/policies/" in routes and "api/v1/enterprises/<str:credit_code>/matches/" in routes
    patterns = [RoutePattern(route, is_endpoint=True) for route in routes]
    for route in routes:
        sample = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE[m.group(1) or "str"], route)
        matching = [r for r, p in zip(routes, patterns, strict=True) if p.match(sample)]
        assert matching == [route], sample
