"""Staff sessions end after a short idle time (等保2.0: 会话超时); enterprise sessions are unchanged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from .roles import is_staff_user

# Set at sign-in, so the middleware needs no role query on every request.
STAFF_SESSION_KEY = "huiqi_staff_idle_timeout"


@receiver(user_logged_in, dispatch_uid="huiqi_staff_session_marker")
def _mark_staff_session(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session") and is_staff_user(user):
        request.session[STAFF_SESSION_KEY] = True
        request.session.set_expiry(settings.STAFF_SESSION_IDLE_SECONDS)


class StaffSessionIdleTimeout:
    """Each request of a staff session moves its expiry STAFF_SESSION_IDLE_SECONDS ahead (sliding)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.get(STAFF_SESSION_KEY):
            session.set_expiry(settings.STAFF_SESSION_IDLE_SECONDS)
        return self.get_response(request)
