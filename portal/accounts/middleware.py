"""Staff sessions end after a short idle time (等保2.0: 会话超时); enterprise sessions are unchanged."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from .roles import is_staff_user

if TYPE_CHECKING:
    from portal.accounts.models import User


# Set at sign-in, so the middleware needs no role query on every request: the time (epoch seconds)
# the session's expiry was last moved.
STAFF_SESSION_KEY = "huiqi_staff_idle_touched"
# Moving the expiry is a session write; once a minute is enough for a 30-minute idle limit.
TOUCH_EVERY_SECONDS = 60


@receiver(user_logged_in, dispatch_uid="huiqi_staff_session_marker")
def _mark_staff_session(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session") and is_staff_user(user):
        request.session[STAFF_SESSION_KEY] = int(time.time())
        request.session.set_expiry(settings.STAFF_SESSION_IDLE_SECONDS)


class StaffSessionIdleTimeout:
    """A staff session expires STAFF_SESSION_IDLE_SECONDS after its last request (to within a minute)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        touched = session.get(STAFF_SESSION_KEY) if session is not None else None
        now = int(time.time())
        if session is not None and touched is not None and now - touched >= TOUCH_EVERY_SECONDS:
            session[STAFF_SESSION_KEY] = now
            session.set_expiry(settings.STAFF_SESSION_IDLE_SECONDS)
        return self.get_response(request)
