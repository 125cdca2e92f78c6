"""/api/v1/enterprises/{code}/qualifications/: self-declared by the enterprise, verified by departments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from portal.enterprises.models import Qualification
from tests.enterprises.factories import QualificationFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(enterprise, pk: int | None = None) -> str:
    base = f"/api/v1/enterprises/{enterprise.credit_code}/qualifications/"
    return f"{base}{pk}/" if pk else base


def test_enterprise_declares_a_qualification(alice) -> None:
    response = client_for(alice).post(
        url(alice.enterprise), {"kind": "gazelle", "valid_from": "2025-03-01", "valid_to": "2026-02-28"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["source"] == "self_declared" and body["verified"] is False
    assert body["kind_display"] == "瞪羚企业"


def test_validation_errors(alice) -> None:
    response = client_for(alice).post(
        url(alice.enterprise), {"kind": "famous", "valid_from": "2025-03-01"}, format="json"
    )
    assert response.status_code == 400
    assert {(f["field"], f["code"]) for f in response.json()["error"]["fields"]} == {("kind", "invalid_choice")}
    response = client_for(alice).post(
        url(alice.enterprise), {"kind": "gazelle", "valid_from": "2025-03-01", "valid_to": "2024-01-01"}, format="json"
    )
    assert {(f["field"], f["code"]) for f in response.json()["error"]["fields"]} == {("valid_to", "before_valid_from")}


def test_list_shows_whether_each_counts_today(alice) -> None:
    today = timezone.localdate()
    QualificationFactory(enterprise=alice.enterprise, kind="high_tech")
    QualificationFactory(enterprise=alice.enterprise, kind="tech_sme", valid_to=today - timedelta(days=1))
    body = client_for(alice).get(url(alice.enterprise)).json()
    assert {(q["kind"], q["valid_today"]) for q in body} == {("high_tech", True), ("tech_sme", False)}


def test_enterprise_cannot_delete_a_verified_qualification(alice) -> None:
    q = QualificationFactory(enterprise=alice.enterprise)
    response = client_for(alice).delete(url(alice.enterprise, q.pk))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "verified_fact"
    assert Qualification.objects.filter(pk=q.pk).exists()


def test_stranger_gets_404_everywhere(alice, charlie) -> None:
    q = QualificationFactory(enterprise=alice.enterprise, source="self_declared")
    client = client_for(charlie)
    assert client.get(url(alice.enterprise)).status_code == 404
    assert client.get(url(alice.enterprise, q.pk)).status_code == 404
    assert client.delete(url(alice.enterprise, q.pk)).status_code == 404
    response = client.post(url(alice.enterprise), {"kind": "gazelle", "valid_from": "2025-03-01"}, format="json")
    assert response.status_code == 404
    assert list(Qualification.objects.all()) == [q]


def test_data_officer_records_a_verified_certificate(alice, staff_data_officer) -> None:
    response = client_for(staff_data_officer).post(
        url(alice.enterprise),
        {"kind": "little_giant", "certificate_no": "XJR123456", "valid_from": "2024-07-01", "source": "industry_info"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["verified"] is True
