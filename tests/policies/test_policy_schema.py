"""The policy endpoints are described in the OpenAPI schema without generator warnings or errors."""

from __future__ import annotations

import pytest
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


def test_policy_api_schema_has_no_warnings_or_errors():
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/v1/", include("policies.api.urls"))])

    schema = generator.get_schema(request=None, public=True)

    assert dict(GENERATOR_STATS._warn_cache) == {} and dict(GENERATOR_STATS._error_cache) == {}
    paths = schema["paths"]
    assert "/api/v1/policies/" in paths and "/api/v1/eligibility/check" in paths
    assert "/api/v1/staff/policy-versions/{version_id}/publish/" in paths
    operation_ids = [op["operationId"] for item in paths.values() for op in item.values() if isinstance(op, dict)]
    assert len(operation_ids) == len(set(operation_ids))


def test_the_whole_schema_is_served(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert "/api/v1/policies/{policy_id}/" in response.json()["paths"]
