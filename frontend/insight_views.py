"""Staff insight pages: 同一事项不重复享受 conflicts and the 应享未享 funnel (with its XLSX export).

Thin views: the figures come from portal.entitlements.selectors and portal.ops.funnel (aggregate queries).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.accounts.requests import AuthenticatedHttpRequest
from portal.entitlements.selectors import exclusion_conflicts_for_staff

from .console_views import staff_required


@staff_required
@require_GET
def exclusion_conflicts(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Each exclusion group with what its policies hold, and the entitlements set aside (不重复享受)."""
    context = {"section": "console", **exclusion_conflicts_for_staff(user=request.user)}
    return render(request, "frontend/console/exclusions.html", context)
