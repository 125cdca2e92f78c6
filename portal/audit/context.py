"""Who is acting, for the audit trail: set per request by the middleware, empty (系统) elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from portal.accounts.models import User


@dataclass(frozen=True)
class Actor:
    user: User | AnonymousUser | None = None
    ip: str | None = None


_current: ContextVar[Actor | None] = ContextVar("huiqi_audit_actor", default=None)


def current_actor() -> Actor:
    return _current.get() or Actor()


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR as the WSGI server saw it; behind a proxy, SECURE_PROXY_SSL_HEADER's proxy should
    # set it (gunicorn's forwarded_allow_ips), so a client cannot forge X-Forwarded-For here.
    return request.META.get("REMOTE_ADDR") or None


class AuditContextMiddleware:
    """Makes the request's user and address known to audit records written while it is handled."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current.set(Actor(user=getattr(request, "user", None), ip=client_ip(request)))
        try:
            response = self.get_response(request)
            _record_staff_view(request, response)
            return response
        finally:
            _current.reset(token)


def _record_staff_view(request: HttpRequest, response: HttpResponse) -> None:
    """A staff member read one enterprise's data (page or API): 查看企业数据."""
    match = getattr(request, "resolver_match", None)
    if request.method != "GET" or response.status_code != 200 or match is None:
        return
    credit_code = match.kwargs.get("credit_code")
    if not credit_code:
        return
    from portal.accounts.roles import is_staff_user

    if is_staff_user(getattr(request, "user", None)):
        from .services import audit_record

        audit_record(action="enterprise.viewed", object_type="enterprise", object_id=credit_code, label=request.path)
