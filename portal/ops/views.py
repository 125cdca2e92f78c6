"""GET /healthz: JSON status of database, broker and worker; 200 when every needed part is up."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.accounts.roles import is_staff_user

from .checks import PartStatus, check_broker, check_database, check_worker


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = check_database()
    broker = check_broker()
    # Without a broker a worker cannot be reached: don't wait for the ping timeout.
    worker = check_worker() if broker.ok else PartStatus(False, "broker down")
    parts = {"database": database, "broker": broker, "worker": worker}
    healthy = all(part.ok for part in parts.values() if part.required)
    # Details (exception text, host names) only for signed-in staff: anonymous callers and load
    # balancers learn up or down per component, nothing an attacker could use.
    detailed = is_staff_user(request.user)
    body = {
        "status": "ok" if healthy else "unavailable",
        **{
            name: {"ok": part.ok, "required": part.required, **({"detail": part.detail} if detailed else {})}
            for name, part in parts.items()
        },
    }
    return JsonResponse(body, status=200 if healthy else 503)
