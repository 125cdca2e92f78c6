"""Request types for annotations: a request that passed a login check carries a portal `User`.

django-stubs types `request.user` as `User | AnonymousUser`. Views behind `login_required`, `staff_required`
or DRF's `IsAuthenticated` annotate their request with these classes instead, so that the user they hand
to services and selectors is typed as the authenticated `User`. Nothing constructs them: at run time the
request is Django's or DRF's own object, and modules import these names under `TYPE_CHECKING` only.
"""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails
from rest_framework.request import Request

from portal.accounts.models import User


class HtmxHttpRequest(HttpRequest):
    """Any request to the HTML front end: django-htmx's middleware sets `htmx`."""

    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    user: User


class AuthenticatedRequest(Request):
    user: User
