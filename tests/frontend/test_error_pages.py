"""403/404/500 pages are Chinese in every settings mode, DEBUG=True included (Django's technical pages are not)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.enterprises.factories import EnterpriseUserFactory
from tests.frontend.test_browser_flows import login
from tests.policies.factories import PolicyVersionFactory

ENGLISH_OF_DJANGO = ("Page not found", "Forbidden", "Server Error", "Traceback", "Request Method", "Using the URLconf")


def _client() -> Client:
    return Client(raise_request_exception=False)


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    settings.ROOT_URLCONF = "tests.frontend.error_urls"
    return request.param


def _assert_chinese_page(response, status: int, heading: str) -> None:
    html = response.content.decode()
    assert response.status_code == status
    assert heading in html, html[:500]
    for english in ENGLISH_OF_DJANGO:
        assert english not in html


@pytest.mark.django_db
def test_unknown_url_is_a_chinese_404(debug) -> None:
    _assert_chinese_page(_client().get("/no-such-page/"), 404, "页面不存在（404）")


@pytest.mark.django_db
def test_a_missing_object_is_a_chinese_404(debug) -> None:
    # The view raises Http404 (get_object_or_404): a different path from an unknown URL under DEBUG.
    _assert_chinese_page(_client().get("/policies/999999/"), 404, "页面不存在（404）")


@pytest.mark.django_db
def test_a_refusal_is_a_chinese_403_with_its_reason(debug) -> None:
    client = _client()
    client.force_login(EnterpriseUserFactory())

    response = client.get("/console/")

    _assert_chinese_page(response, 403, "无权访问（403）")
    assert "仅限工作人员访问" in response.content.decode()  # the view's own (Chinese) reason


@pytest.mark.django_db
def test_a_crash_is_a_chinese_500(debug, caplog) -> None:
    response = _client().get("/test-boom/")

    _assert_chinese_page(response, 500, "系统暂时出错（500）")
    assert "boom (test)" not in response.content.decode()  # no internals shown to users
    assert any("test-boom" in r.getMessage() for r in caplog.records)  # but logged for the developer


@pytest.mark.django_db
def test_a_csrf_failure_is_chinese(debug) -> None:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(EnterpriseUserFactory())

    response = client.post("/console/policies/new/", {})

    _assert_chinese_page(response, 403, "无权访问（403）")
    main = response.content.decode().split('<main id="main"')[1]
    assert "页面已过期" in main and "CSRF" not in main


@pytest.mark.django_db
def test_api_errors_stay_json(debug) -> None:
    response = _client().get("/api/v1/policies/999999/")

    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("debug_on", [False, True], ids=["debug-off", "debug-on"])
def test_error_pages_in_chromium(page, live_server, settings, screenshot, debug_on) -> None:
    settings.DEBUG = debug_on
    settings.ROOT_URLCONF = "tests.frontend.error_urls"
    EnterpriseUserFactory(username="qiye")
    draft = PolicyVersionFactory()

    for path, heading in [("/no-such-page/", "页面不存在（404）"), ("/test-boom/", "系统暂时出错（500）")]:
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == int(heading[-4:-1])
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert not re.search(r"Page not found|Server Error|Traceback", page.content())
    screenshot("500")
    login(page, live_server, "qiye")
    response = page.goto(live_server.url + f"/console/versions/{draft.pk}/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("无权访问（403）")
    screenshot("403")
