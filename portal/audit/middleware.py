"""The request-scoped audit middleware: who is acting (portal.audit.context), and staff reads of one
enterprise's data recorded as 查看企业数据."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from portal.accounts.roles import is_staff_user

from .context import Actor, actor_var, client_ip
from .services import audit_record


class AuditContextMiddleware:
    """Makes the request's user and address known to audit records written while it is handled."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = actor_var.set(Actor(user=getattr(request, "user", None), ip=client_ip(request)))
        try:
            response = self.get_response(request)
            _record_staff_view(request, response)
            return response
        finally:
            actor_var.reset(token)


def _record_staff_view(request: HttpRequest, response: HttpResponse) -> None:
    """A staff member read one enterprise's data (page or API): 查看企业数据."""
    match = getattr(request, "resolver_match", None)
    if request.method != "GET" or response.status_code != 200 or match is None:
        return
    credit_code = match.kwargs.get("credit_code")
    if not credit_code:
        return

    if is_staff_user(getattr(request, "user", None)):
        audit_record(action="enterprise.viewed", object_type="enterprise", object_id=credit_code, label=request.path)
