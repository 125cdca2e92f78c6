"""The Content-Security-Policy holds in a real browser: pages work with no inline script, and nothing is blocked."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.accounts.roles import Role
from tests.enterprises.factories import StaffUserFactory
from tests.frontend.test_browser_flows import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _collect_violations(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return violations


def test_public_pages_and_api_docs_load_under_the_policy(page, live_server) -> None:
    violations = _collect_violations(page)
    for path in ("/", "/policies/", "/calculator/", "/accounts/login/", "/api/docs/"):
        response = page.goto(live_server.url + path)
        assert response is not None and response.ok, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui")).to_be_visible(timeout=15000)  # Swagger UI ran from our own files
    assert violations == []


def test_the_rule_builder_removes_a_row_without_inline_handlers(page, live_server, celery_eager) -> None:
    StaffUserFactory(username="editor-csp", roles=[Role.POLICY_EDITOR])
    violations = _collect_violations(page)
    login(page, live_server, "editor-csp")
    page.get_by_role("link", name="新建政策").click()
    page.get_by_role("button", name="添加条件").click()
    page.wait_for_function(
        "() => { const s = document.querySelector('#r1_fact'); return s && s['htmx-internal-data']; }"
    )
    rows = page.locator(".rule-row")
    expect(rows).to_have_count(2)
    rows.nth(1).get_by_role("button", name="删除条件").click()
    expect(rows).to_have_count(1)
    assert "onclick" not in page.content()
    assert violations == []
