"""Response headers: no-store for one user's data; the Content-Security-Policy, built once."""

from __future__ import annotations

from collections.abc import Callable

import csp.middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import add_never_cache_headers


class NoStoreForPrivateResponses:
    """`Cache-Control: no-store` on every API response and on every page served to a signed-in user.

    Public pages for anonymous visitors (the 政策清单, static files) stay cacheable.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = bool(user is not None and user.is_authenticated)
        if request.path.startswith("/api/") or signed_in:
            add_never_cache_headers(response)  # no-cache, no-store, must-revalidate, private, max-age=0
        return response


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's middleware, with the site's policy built once instead of for every response.

    django-csp rebuilds the header from the settings on each response (a deep copy of the directives,
    then the string): a tenth of a stored API page's CPU. A response or request with anything of its
    own — a nonce used, a view's update, replace or config (django-csp's decorators) — goes through
    django-csp unchanged; the rest get the same header, built once per settings.
    """

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, name, None) is not None for name in _PER_RESPONSE_PARTS
        ):
            return super().process_response(request, response)
        if response.status_code in (500, 404) and settings.DEBUG:
            return response
        for header, exempt, setting, report_only in _HEADERS:
            policy = _site_policy(report_only)
            if not policy or header in response or getattr(response, exempt, False) is not False:
                continue
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
            if not request.path_info.startswith(tuple(prefixes)):
                response[header] = policy
        # As django-csp: a nonce asked for after the header is written is an error, not a silent gap.
        request.csp_nonce = csp.middleware.CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response


_PER_RESPONSE_PARTS = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
_HEADERS = (
    (HEADER, "_csp_exempt", "CONTENT_SECURITY_POLICY", False),
    (HEADER_REPORT_ONLY, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY", True),
)
_policies: dict[bool, str] = {}


def _site_policy(report_only: bool) -> str:
    policy = _policies.get(report_only)
    if policy is None:
        policy = _policies[report_only] = build_policy(report_only=report_only)
    return policy


@receiver(setting_changed)
def _forget_policies(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _policies.clear()
