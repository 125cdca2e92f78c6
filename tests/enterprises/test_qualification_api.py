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


def test_enterprise_corrects_its_own_qualification(alice) -> None:
    q = QualificationFactory(enterprise=alice.enterprise, kind="gazelle", source="self_declared", valid_to=None)
    response = client_for(alice).patch(url(alice.enterprise, q.pk), {"valid_to": "2027-06-30"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["valid_to"] == "2027-06-30" and response.json()["verified"] is False
    q.refresh_from_db()
    assert str(q.valid_to) == "2027-06-30"


@pytest.mark.parametrize(
    ("source", "body", "field", "code"),
    [
        ("science_tech", {"valid_to": "2030-01-01"}, "qualification", "verified_fact"),
        ("self_declared", {"valid_from": "2026-01-01", "valid_to": "2025-01-01"}, "valid_to", "before_valid_from"),
        ("self_declared", {"kind": "high_tech"}, "kind", "unknown_field"),
    ],
)
def test_a_refused_correction_names_the_field_and_changes_nothing(alice, source, body, field, code) -> None:
    q = QualificationFactory(enterprise=alice.enterprise, source=source)
    before = (q.valid_from, q.valid_to, q.kind)
    response = client_for(alice).patch(url(alice.enterprise, q.pk), body, format="json")
    assert response.status_code == 400
    assert {(f["field"], f["code"]) for f in response.json()["error"]["fields"]} == {(field, code)}
    q.refresh_from_db()
    assert (q.valid_from, q.valid_to, q.kind) == before


def test_a_stranger_cannot_correct_a_qualification(alice, charlie) -> None:
    q = QualificationFactory(enterprise=alice.enterprise, source="self_declared")
    before = (q.valid_from, q.valid_to)
    for enterprise in (alice.enterprise, charlie.enterprise):
        response = client_for(charlie).patch(url(enterprise, q.pk), {"valid_to": None}, format="json")
        assert response.status_code == 404
    q.refresh_from_db()
    assert (q.valid_from, q.valid_to) == before
