"""Who is acting, for the audit trail: set per request by the middleware (portal.audit.middleware),
empty (系统) elsewhere."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from portal.accounts.models import User


@dataclass(frozen=True)
class Actor:
    user: User | AnonymousUser | None = None
    ip: str | None = None


actor_var: ContextVar[Actor | None] = ContextVar("huiqi_audit_actor", default=None)


def current_actor() -> Actor:
    return actor_var.get() or Actor()


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR as the WSGI server saw it; behind a proxy, SECURE_PROXY_SSL_HEADER's proxy should
    # set it (gunicorn's forwarded_allow_ips), so a client cannot forge X-Forwarded-For here.
    return request.META.get("REMOTE_ADDR") or None
