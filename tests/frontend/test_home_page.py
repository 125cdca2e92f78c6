"""The home page renders in a real browser."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_home_page_shows_the_portal_name(page, live_server, screenshot) -> None:
    page.goto(live_server.url + "/")

    assert page.locator("h1").inner_text() == "惠企通"
    assert screenshot("home").stat().st_size > 0
