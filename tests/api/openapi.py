"""Check one API response against the OpenAPI schema the portal publishes (/api/schema/).

    response = api_client.get("/api/v1/policies/")
    assert_matches_schema(response)

The operation is found from the request's method and path; the body is validated by schemathesis
against the schema declared for that operation and status code (success or the `Error` format), so
a test fails when the API answers something its schema does not say.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import schemathesis
from django.http import HttpResponse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder, TestResponse


@functools.cache
def _schema() -> Any:
    document = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    return schemathesis.openapi.from_dict(document)


@functools.cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    patterns = []
    for path in _schema().raw_schema["paths"]:
        regex = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"
        patterns.append((re.compile(regex), path))
    # Literal paths before templated ones: /policies/export.csv is not /policies/{policy_id}/.
    return sorted(patterns, key=lambda item: item[1].count("{"))


def is_operation(method: str, path: str) -> bool:
    try:
        operation_for(method, path)
    except AssertionError:
        return False
    return True


def operation_for(method: str, path: str) -> Any:
    for regex, template in _templates():
        if regex.match(path):
            operation = _schema().find_operation_by_label(f"{method.upper()} {template}")
            if operation is not None:
                return operation
    raise AssertionError(f"{method} {path} is not an operation of the OpenAPI schema")


def assert_matches_schema(response: HttpResponse) -> None:
    """Fail unless `response` (from Django's or DRF's test client) fits its operation's schema."""
    method = response.request["REQUEST_METHOD"]
    path = response.request["PATH_INFO"]
    operation = operation_for(method, path)
    documented = operation.definition.raw["responses"]
    assert str(response.status_code) in documented, (
        f"{method} {path} answered {response.status_code}, which its schema does not document ({sorted(documented)})"
    )
    request = EnvironBuilder(path=path, method=method).get_request()
    as_werkzeug = TestResponse(
        [response.content],
        f"{response.status_code} {response.reason_phrase}",
        Headers(list(response.items())),
        request=request,
    )
    # Raises with the failing keyword, the schema path and the offending value.
    operation.validate_response(as_werkzeug)
