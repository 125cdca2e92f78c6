"""bench_fanout at a small size, in-process: every row written, every e-mail built and sent, then cleaned up."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from portal.entitlements.models import Entitlement, EntitlementTransition
from portal.notifications.models import Delivery, Notification

pytestmark = pytest.mark.django_db(transaction=True)  # the command runs VACUUM, which needs autocommit

RENDERING = "rendering"  # devtools.bench.email.RenderingEmailBackend


def run(**options) -> dict:
    out = io.StringIO()
    call_command("bench_fanout", worker="inline", stdout=out, stderr=io.StringIO(), **options)
    return json.loads(out.getvalue())


def test_via_matching_writes_and_sends_everything_then_cleans_up() -> None:
    result = run(enterprises=30, via_matching=True, email_backend=RENDERING)

    assert result["entitlements_created"] == result["notifications_created"] == 30
    assert result["email_deliveries"] == result["sent"] == 30
    assert result["create_seconds"] >= 0 and result["total_seconds"] >= result["create_seconds"]
    assert result["commit_seconds"] is None  # the match run's chunks commit inside create_seconds
    assert not Notification.objects.exists() and not Delivery.objects.exists()
    assert not Entitlement.objects.exists() and not EntitlementTransition.objects.exists()


def test_notifications_only_with_the_default_backend() -> None:
    result = run(enterprises=20)

    assert result["notifications_created"] == result["sent"] == 20
    assert result["fan_out"] == "notifications"
    # The commit is timed on its own (part of delivery); no worker process inline, so no worker CPU.
    assert 0 <= result["commit_seconds"] <= result["deliver_seconds"]
    assert result["worker_cpu_seconds"] is None
