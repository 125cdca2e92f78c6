"""The OpenAPI schema is the truth: schemathesis calls every operation with generated data.

Three callers (anonymous, an enterprise user, a staff user holding every role; the staff caller is
also a department system with a feed key) send examples that fit the schema and examples that do
not (negative mode). Every answer must be free of server errors (5xx), have a status the operation
documents and match the schema declared for that status, errors included (`Error`,
portal/api/schema.py).

No operation is excluded: multipart uploads (申报材料) are generated as multipart bodies (answered
400/404, never 5xx), and file downloads (attachments, CSV/XLSX exports) are called too; their
binary bodies are outside JSON Schema, so only their status and content type are checked.

Path parameters are drawn from rows that exist (and one that does not), so operations reach their
real work instead of answering 404 to every random id. Bounded for CI: a few examples per
operation and mode, derandomised, no example database.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core import signals
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from matching.core.receipt import ENGINE_VERSION, rule_hash
from portal.accounts.roles import Role
from portal.accounts.services import api_key_create
from portal.enterprises.models import FeedImport
from portal.entitlements.models import Entitlement
from portal.notifications.models import Delivery
from portal.receipts.models import Receipt
from tests.applications.support import apply_policy, decide, full_files
from tests.enterprises.factories import QualificationFactory, SiteFactory, StaffUserFactory
from tests.notifications.factories import NotificationFactory
from tests.policies.factories import GoldenCaseFactory, PolicyVersionFactory

pytestmark = pytest.mark.django_db

# SCHEMATHESIS_SCALE=N multiplies both for a longer hunt by hand (CI runs the default).
_SCALE = int(os.environ.get("SCHEMATHESIS_SCALE", "1"))
POSITIVE_EXAMPLES = 10 * _SCALE
NEGATIVE_EXAMPLES = 5 * _SCALE
# No 5xx; the body fits the schema of its status; the status is one the operation documents.
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
CSRF_TOKEN = "schemathesisCsrfToken0123456789a"  # 32 characters: Django's unmasked secret format


@pytest.fixture
def keep_test_transaction() -> Iterator[None]:
    """Requests go through the real WSGI handler, whose request signals close "obsolete" database
    connections, which would end the test's transaction; Django's test client disconnects them too."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(keep_test_transaction) -> Any:
    from portal.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture
def world(alice, charlie, settings, tmp_path) -> dict[str, Any]:
    """Rows for every kind of path parameter: alice's own, a stranger's (charlie's), and staff work."""
    from portal.applications import services as applications

    settings.MEDIA_ROOT = str(tmp_path / "media")
    enterprise = alice.enterprise
    version = apply_policy()
    decide(enterprise, version)
    application = applications.application_submit(
        enterprise=enterprise,
        version=version,
        by=alice,
        contact_name="张敏",
        contact_phone="13912345678",
        statement="示例",
        files=full_files(),
    )
    draft = PolicyVersionFactory()
    case = GoldenCaseFactory(version=draft)
    exempt = PolicyVersionFactory(mode="exempt", published=True)  # no application window: nulls in matches
    decide(enterprise, exempt)
    entitlement = Entitlement.objects.create(
        enterprise=enterprise,
        policy_version=exempt,
        status=Entitlement.Status.NOTIFIED,
        explanation={"status": "eligible"},
        determined_at=timezone.now(),
    )
    # Every status shape the entitlement serializers render: awaiting review (a newer version, its
    # explanation), disbursed then flagged for a possible 追回.
    newer = PolicyVersionFactory(policy=exempt.policy, number=2, mode="exempt")
    Entitlement.objects.create(
        enterprise=enterprise,
        policy_version=PolicyVersionFactory(mode="exempt", published=True),
        status=Entitlement.Status.PENDING_REVIEW,
        status_before_review=Entitlement.Status.CONFIRMED,
        review_version=newer,
        review_explanation={"status": "ineligible"},
        explanation={"status": "eligible"},
        determined_at=timezone.now(),
    )
    Entitlement.objects.create(
        enterprise=enterprise,
        policy_version=PolicyVersionFactory(mode="exempt", published=True),
        status=Entitlement.Status.DISBURSED,
        explanation={"status": "eligible"},
        determined_at=timezone.now(),
        recovery_flagged_at=timezone.now(),
    )
    notification = NotificationFactory(enterprise=enterprise)
    delivery = Delivery.objects.create(
        notification=notification, user=alice, channel="email", address="alice@example.com", status="failed"
    )
    site = SiteFactory(enterprise=enterprise)
    qualification = QualificationFactory(enterprise=enterprise)
    staff = StaffUserFactory(username="allroles", email="", roles=list(Role))  # accounts may have no e-mail
    key_row, key = api_key_create(name="统计局数据接口", source="statistics")
    # A department API batch the worker has applied: its status answer carries per-record results.
    batch = FeedImport.objects.create(
        source="statistics",
        channel=FeedImport.Channel.API,
        api_key=key_row,
        status=FeedImport.Status.DONE,
        total=2,
        processed=2,
        accepted=1,
        rejected=1,
        record_results={
            "accepted": [{"index": 0, "credit_code": enterprise.credit_code, "status": "unchanged"}],
            "rejected": [{"index": 1, "credit_code": None, "errors": [{"field": "", "code": "x", "message": "x"}]}],
            "duplicates": [],
        },
    )
    # 数据纠错: alice's request with an evidence file, in 统计局's queue, which the all-roles caller works.
    from portal.corrections import services as corrections
    from tests.corrections.support import pdf

    corrections.department_assign(user=staff, department="statistics")
    correction = corrections.correction_submit(
        enterprise=enterprise, by=alice, fact="employees", value="180", files=[pdf()]
    )
    receipt = Receipt.objects.create(
        kind=Receipt.Kind.DECISION,
        enterprise=enterprise,
        policy_version=exempt,
        outcome="eligible",
        verified=True,
        rule_hash=rule_hash(exempt.rule),
        engine_version=ENGINE_VERSION,
        facts={"employees": {"label": "从业人员", "value": "150人", "source": "statistics", "as_of": "2025-12-31"}},
        at=timezone.now(),
    )
    missing = 987654321
    return {
        "alice": alice,
        "staff": staff,
        "key": key,
        "values": {
            "credit_code": [enterprise.credit_code, charlie.enterprise.credit_code, "91320505MA1XXXXXX0"],
            "policy_id": [version.policy_id, draft.policy_id, missing],
            "number": [1, 2],
            "version_id": [version.pk, draft.pk, missing],
            "case_id": [case.pk, missing],
            "notification_id": [notification.pk, missing],
            "delivery_id": [delivery.pk, missing],
            "attachment_id": [*[a.pk for a in application.attachments.all()][:1], missing],
            "source": ["statistics", "market_regulation", "unknown"],
            "import_id": [batch.pk, missing],
            "evidence_id": [correction.evidence.get().pk, missing],
        },
        # `{id}` means a different table on each path: the segment before it says which.
        "ids": {
            "applications": [application.pk, missing],
            "entitlements": [entitlement.pk, missing],
            "sites": [site.pk, missing],
            "qualifications": [qualification.pk, missing],
            "corrections": [correction.pk, missing],
            "receipts": [receipt.pk, missing],
        },
    }


def _path_values(operation: Any, world: dict[str, Any]) -> dict[str, list[Any]]:
    values: dict[str, list[Any]] = {}
    segments = operation.path.strip("/").split("/")
    for parameter in operation.path_parameters:
        name = parameter.name
        if name == "id":
            owner = segments[segments.index("{id}") - 1]
            values[name] = world["ids"][owner]
        else:
            values[name] = world["values"][name]
    return values


def _caller(kind: str, world: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(headers, cookies) for one caller; sessions come from a real login (force_login)."""
    if kind == "anonymous":
        return {}, {}
    client = Client()
    client.force_login(world["alice"] if kind == "enterprise" else world["staff"])
    cookies = {
        django_settings.SESSION_COOKIE_NAME: client.cookies[django_settings.SESSION_COOKIE_NAME].value,
        django_settings.CSRF_COOKIE_NAME: CSRF_TOKEN,
    }
    headers = {"X-CSRFToken": CSRF_TOKEN}
    if kind == "staff":
        # Session views ignore the key; the feed endpoint authenticates with it.
        headers["Authorization"] = f"Api-Key {world['key']}"
    return headers, cookies


def _run_operation(operation: Any, mode: GenerationMode, examples: int, world, headers, cookies, report) -> None:
    values = _path_values(operation, world)
    path_parameters = st.fixed_dictionaries({name: st.sampled_from(v) for name, v in values.items()})
    strategy = path_parameters.flatmap(
        lambda chosen: operation.as_strategy(generation_mode=mode, path_parameters=chosen or None)
    )

    @given(case=strategy)
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        report["examples"] += 1
        case_headers = {**(case.headers or {}), **headers}
        response = case.call(headers=case_headers, cookies=cookies)
        report["statuses"][response.status_code] += 1
        report["by_operation"][(operation.label, mode.value)][response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, FailureGroup) as exc:  # collected, so one run reports every failing operation
            key = (operation.label, mode.value, response.status_code)
            report["failures"].setdefault(key, f"{type(exc).__name__}: {str(exc)[:1500]}")

    try:
        run()
    except Unsatisfiable:
        # Nothing to make invalid (no parameters, no body): negative mode has no example to send.
        report["no_negative"].append(operation.label)


@pytest.mark.parametrize("caller", ["anonymous", "enterprise", "staff"])
def test_every_operation_answers_within_its_schema(api_schema, world, caller, caplog) -> None:
    headers, cookies = _caller(caller, world)
    report: dict[str, Any] = {
        "examples": 0,
        "statuses": defaultdict(int),
        "failures": {},
        "no_negative": [],
        "by_operation": defaultdict(lambda: defaultdict(int)),
    }
    caplog.set_level(logging.ERROR, logger="django.request")  # thousands of expected 4xx warnings
    operations = [result.ok() for result in api_schema.get_all_operations()]
    for operation in operations:
        _run_operation(operation, GenerationMode.POSITIVE, POSITIVE_EXAMPLES, world, headers, cookies, report)
        _run_operation(operation, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES, world, headers, cookies, report)

    print(
        f"\n[{caller}] operations: {len(operations)}, examples: {report['examples']}, "
        f"statuses: {dict(sorted(report['statuses'].items()))}"
    )
    if os.environ.get("SCHEMATHESIS_VERBOSE"):
        for key, statuses in sorted(report["by_operation"].items()):
            print(caller, key, dict(statuses))
    assert len(operations) >= 60
    assert not report["failures"], "\n\n".join(f"{key}: {message}" for key, message in report["failures"].items())
