"""The Content-Security-Policy header (portal.api.middleware.CSPMiddleware: django-csp's, with the site's
policy built once): the same header django-csp builds, on pages and API answers alike; a settings change,
a nonce or a view's own policy still count."""

from __future__ import annotations

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY, NONCE
from csp.utils import build_policy
from django.http import HttpResponse
from django.test import RequestFactory

from portal.api.middleware import CSPMiddleware

pytestmark = pytest.mark.django_db


def test_pages_and_the_api_carry_the_policy_django_csp_builds(client) -> None:
    expected = build_policy()
    assert "script-src 'self'" in expected
    for url in ("/", "/api/v1/policies/"):
        response = client.get(url)
        assert response.status_code == 200
        assert response[HEADER] == expected
        assert HEADER_REPORT_ONLY not in response


def test_a_changed_setting_changes_the_header(client, settings) -> None:
    client.get("/api/v1/policies/")  # the policy is built and kept
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"img-src": ["'self'"]}}
    response = client.get("/api/v1/policies/")
    assert response[HEADER] == "default-src 'none'"
    assert response[HEADER_REPORT_ONLY] == build_policy(report_only=True)
    assert "img-src 'self'" in response[HEADER_REPORT_ONLY]


def run(request, response: HttpResponse) -> HttpResponse:
    middleware = CSPMiddleware(lambda r: response)
    middleware.process_request(request)
    return middleware.process_response(request, response)


def test_a_nonce_used_by_the_page_is_in_its_header(settings) -> None:
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"script-src": ["'self'", NONCE]}}
    request = RequestFactory().get("/")
    middleware = CSPMiddleware(lambda r: HttpResponse())
    middleware.process_request(request)
    nonce = str(request.csp_nonce)
    response = middleware.process_response(request, HttpResponse())
    assert f"'nonce-{nonce}'" in response[HEADER]
    assert response[HEADER] != build_policy()


def test_a_views_own_policy_and_an_exemption_are_kept() -> None:
    replaced = HttpResponse()
    replaced._csp_replace = {"img-src": ["https://example.org"]}
    assert "img-src https://example.org" in run(RequestFactory().get("/"), replaced)[HEADER]

    exempt = HttpResponse()
    exempt._csp_exempt = True
    assert HEADER not in run(RequestFactory().get("/"), exempt)

    already = HttpResponse()
    already[HEADER] = "default-src 'none'"
    assert run(RequestFactory().get("/"), already)[HEADER] == "default-src 'none'"


def test_a_nonce_asked_for_after_the_header_is_written_is_an_error() -> None:
    from csp.exceptions import CSPNonceError

    request = RequestFactory().get("/")
    run(request, HttpResponse())
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)
