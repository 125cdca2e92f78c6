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


def test_schema_generates_without_warnings_and_validates(tmp_path) -> None:
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yaml"))


def _schema(client) -> dict:
    return client.get("/api/schema/?format=json").json()


def test_lists_are_declared_as_pages(client) -> None:
    schema = _schema(client)
    for path in ("/api/v1/policies/", "/api/v1/staff/policies/", "/api/v1/staff/deliveries/", "/api/v1/applications/"):
        body = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        page = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
        assert set(page["properties"]) >= {"count", "next", "previous", "results"}, path
        assert page["properties"]["results"]["type"] == "array", path
        names = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert {"page", "page_size"} <= names, path


def test_errors_are_one_component_attached_to_4xx(client) -> None:
    schema = _schema(client)
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    body = schema["components"]["schemas"]["ErrorBody"]
    assert set(body["properties"]) == {"code", "message", "fields"} and body["required"] == ["code", "message"]

    def refs(path: str, method: str) -> dict[str, str]:
        responses = schema["paths"][path][method]["responses"]
        return {
            code: r["content"]["application/json"]["schema"]["$ref"]
            for code, r in responses.items()
            if code.startswith("4")
        }

    feed = refs("/api/v1/feeds/{source}/records/", "post")
    assert set(feed) == {"400", "401", "403", "404", "413", "415"}
    assert "409" in refs("/api/v1/applications/{id}/accept/", "post")  # a status machine
    assert set(feed.values()) == {"#/components/schemas/Error"}
    batch = refs("/api/v1/feeds/{source}/batches/{import_id}/", "get")
    assert set(batch) == {"400", "401", "403", "404"} and set(batch.values()) == {"#/components/schemas/Error"}
    assert "429" in refs("/api/v1/eligibility/check", "post")  # the only throttled operation
    assert "415" in refs("/api/v1/enterprises/{credit_code}/applications/{id}/resubmit/", "post")
    assert set(refs("/api/v1/policies/{policy_id}/", "get")) == {"400", "404"}  # public read: no 403


def test_nullable_and_blank_fields_are_declared(client) -> None:
    schemas = _schema(client)["components"]["schemas"]
    assert schemas["Match"]["properties"]["application_end"]["nullable"] is True
    assert schemas["StaffEntitlement"]["properties"]["recovery_flagged_at"]["nullable"] is True
    email = schemas["Preference"]["properties"]["email"]
    assert {"type": "string", "maxLength": 0} in email["oneOf"]  # accounts may have no e-mail


def test_strict_inputs_refuse_unknown_properties(client) -> None:
    schemas = _schema(client)["components"]["schemas"]
    for name in ("PreferenceInput", "Review", "Note", "PatchedVersionInput", "SiteInput"):
        assert schemas[name]["additionalProperties"] is False, name
    assert "email" not in schemas["PreferenceInput"]["properties"]  # read-only: not part of a request


def test_an_unsupported_content_type_is_a_documented_415() -> None:
    """Found by schemathesis: a body the operation cannot parse was an undocumented 415."""
    from rest_framework.test import APIClient

    from tests.api.openapi import assert_matches_schema

    response = APIClient().generic("POST", "/api/v1/eligibility/check", "facts", content_type="text/plain")

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert_matches_schema(response)


def test_a_throttled_request_is_a_documented_429(monkeypatch) -> None:
    from rest_framework.test import APIClient

    from portal.api.throttling import AtomicAnonRateThrottle
    from tests.api.openapi import assert_matches_schema

    monkeypatch.setattr(AtomicAnonRateThrottle, "rate", "2/min", raising=False)
    client = APIClient(REMOTE_ADDR="198.51.100.77")
    statuses = []
    for _ in range(3):  # the third in one minute at the latest is refused
        response = client.post("/api/v1/eligibility/check", {"facts": {}}, format="json")
        statuses.append(response.status_code)
        if response.status_code == 429:
            break

    assert statuses[-1] == 429, statuses
    assert response.json()["error"]["code"] == "throttled"
    assert_matches_schema(response)


def test_a_feed_batch_is_taken_with_202_and_its_status_is_one_component(client) -> None:
    schema = _schema(client)
    post = schema["paths"]["/api/v1/feeds/{source}/records/"]["post"]["responses"]
    get = schema["paths"]["/api/v1/feeds/{source}/batches/{import_id}/"]["get"]["responses"]
    assert "202" in post and "200" not in post
    batch = post["202"]["content"]["application/json"]["schema"]["$ref"]
    assert get["200"]["content"]["application/json"]["schema"]["$ref"] == batch
    properties = schema["components"]["schemas"][batch.rsplit("/", 1)[1]]["properties"]
    assert {"import_id", "status", "status_url", "accepted", "rejected", "duplicates", "accepted_count"} <= set(
        properties
    )
