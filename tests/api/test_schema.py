"""The OpenAPI schema and its interactive docs are served, with no CDN."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_schema_is_openapi(client) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_docs_page_uses_vendored_assets(client) -> None:
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html and "unpkg.com" not in html
