"""/api/v1/enterprises/: staff list and create; staff or the enterprise's own users read and edit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from portal.enterprises.models import Enterprise, EnterpriseChange
from tests.enterprises.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/enterprises/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def error_fields(response) -> set[tuple[str, str]]:
    return {(f["field"], f["code"]) for f in response.json()["error"].get("fields", [])}


def test_anonymous_is_refused(api_client) -> None:
    response = api_client.get(URL)
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "not_authenticated"


def test_staff_list_with_bounded_queries(staff_reviewer, django_assert_max_num_queries) -> None:
    EnterpriseFactory.create_batch(25)
    client = client_for(staff_reviewer)
    with django_assert_max_num_queries(4):  # roles, count, page (force_authenticate: no session lookups)
        response = client.get(URL, {"page_size": 10})
    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 25 and len(body["results"]) == 10
    first = body["results"][0]
    assert set(first) >= {"credit_code", "name", "industry_code", "industry_name", "size", "size_display"}
    assert first["industry_name"] == "集成电路制造"


def test_staff_filter_by_industry_prefix_and_size(staff_reviewer) -> None:
    chip = EnterpriseFactory(industry_code="3973", employees=1500, revenue=Decimal("90000"))
    EnterpriseFactory(industry_code="6520")
    response = client_for(staff_reviewer).get(URL, {"industry": "C", "size": "large"})
    assert [e["credit_code"] for e in response.json()["results"]] == [chip.credit_code]


def test_invalid_filter_is_400_naming_the_field(staff_reviewer) -> None:
    response = client_for(staff_reviewer).get(URL, {"size": "huge"})
    assert response.status_code == 400
    assert {f for f, _ in error_fields(response)} == {"size"}


def test_enterprise_user_lists_only_their_own(alice, charlie) -> None:
    response = client_for(alice).get(URL)
    assert [e["credit_code"] for e in response.json()["results"]] == [alice.enterprise.credit_code]


def test_detail_shows_values_and_provenance(alice, bob) -> None:
    response = client_for(bob).get(f"{URL}{alice.enterprise.credit_code.lower()}/")
    assert response.status_code == 200
    body = response.json()
    assert body["credit_code"] == alice.enterprise.credit_code
    assert body["size"] == "small" and "取最低档" in body["size_basis"]
    assert body["provenance"]["employees"] == {
        "source": "statistics",
        "source_display": "统计局",
        "as_of": "2025-12-31",
        "verified": True,
    }


def test_stranger_gets_404_for_the_detail(alice, charlie) -> None:
    response = client_for(charlie).get(f"{URL}{alice.enterprise.credit_code}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_data_officer_registers_an_enterprise(staff_data_officer) -> None:
    response = client_for(staff_data_officer).post(
        URL,
        {
            "credit_code": "9144 0300 7152 6726 xg",
            "name": "苏州新登记示例有限公司",
            "industry_code": "6520",
            "employees": 12,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["credit_code"] == "9144030071526726XG"
    assert body["provenance"]["industry_code"]["source"] == "market_regulation"
    assert body["size"] == "unclassified"  # revenue unknown


def test_create_errors_name_each_field_with_a_stable_code(staff_data_officer) -> None:
    response = client_for(staff_data_officer).post(
        URL,
        {"credit_code": "91110108551385082R", "name": "x", "industry_code": "9999", "colour": "red"},
        format="json",
    )
    assert response.status_code == 400
    assert error_fields(response) == {("colour", "unknown_field")}
    response = client_for(staff_data_officer).post(
        URL, {"credit_code": "91110108551385082R", "name": "x", "industry_code": "9999"}, format="json"
    )
    assert response.status_code == 400
    assert error_fields(response) == {
        ("credit_code", "invalid_check_character"),
        ("industry_code", "unknown_industry_code"),
    }
    messages = [f["message"] for f in response.json()["error"]["fields"]]
    assert all(not m.isascii() for m in messages)
    assert not Enterprise.objects.exists()


def test_create_refuses_a_registered_code(staff_data_officer, alice) -> None:
    response = client_for(staff_data_officer).post(
        URL, {"credit_code": alice.enterprise.credit_code, "name": "重复"}, format="json"
    )
    assert response.status_code == 400
    assert error_fields(response) == {("credit_code", "duplicate_credit_code")}


@pytest.mark.parametrize("who", ["staff_editor", "alice"])
def test_only_data_officers_register_enterprises(request, who: str) -> None:
    user = request.getfixturevalue(who)
    response = client_for(user).post(URL, {"credit_code": "91110108551385082Q", "name": "x"}, format="json")
    assert response.status_code == 403
    assert not Enterprise.objects.filter(credit_code="91110108551385082Q").exists()


def test_enterprise_user_cannot_overwrite_a_verified_fact(alice) -> None:
    response = client_for(alice).patch(f"{URL}{alice.enterprise.credit_code}/", {"employees": 999}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {("employees", "verified_fact")}
    alice.enterprise.refresh_from_db()
    assert alice.enterprise.employees == 150


def test_enterprise_user_updates_self_declared_facts(alice) -> None:
    enterprise = alice.enterprise
    enterprise.provenance.pop("employees")
    enterprise.save()
    response = client_for(alice).patch(f"{URL}{enterprise.credit_code}/", {"employees": 400}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["employees"] == 400 and body["provenance"]["employees"]["source"] == "self_declared"
    assert body["size"] == "medium"


def test_enterprise_user_cannot_claim_a_department_source(alice) -> None:
    response = client_for(alice).patch(
        f"{URL}{alice.enterprise.credit_code}/", {"employees": 400, "source": "statistics"}, format="json"
    )
    assert response.status_code == 400
    assert error_fields(response) == {("source", "source_not_allowed")}


def test_stranger_gets_404_when_editing(alice, charlie) -> None:
    response = client_for(charlie).patch(f"{URL}{alice.enterprise.credit_code}/", {"employees": 1}, format="json")
    assert response.status_code == 404
    assert not EnterpriseChange.objects.exists()


def test_staff_without_the_data_role_read_but_do_not_edit(alice, staff_editor) -> None:
    url = f"{URL}{alice.enterprise.credit_code}/"
    assert client_for(staff_editor).get(url).status_code == 200
    assert client_for(staff_editor).patch(url, {"employees": 1}, format="json").status_code == 403


def test_data_officer_enters_department_data_with_its_source(alice, staff_data_officer) -> None:
    url = f"{URL}{alice.enterprise.credit_code}/"
    missing = client_for(staff_data_officer).patch(url, {"employees": 260}, format="json")
    assert missing.status_code == 400 and error_fields(missing) == {("source", "required")}
    response = client_for(staff_data_officer).patch(
        url, {"employees": 260, "source": "statistics", "as_of": "2026-01-31"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["provenance"]["employees"]["as_of"] == "2026-01-31"


def test_history_lists_accepted_changes(alice, charlie, staff_data_officer) -> None:
    url = f"{URL}{alice.enterprise.credit_code}/"
    client_for(staff_data_officer).patch(url, {"employees": 260, "source": "statistics"}, format="json")
    response = client_for(alice).get(f"{url}history/")
    assert response.status_code == 200
    (event,) = response.json()["results"]
    assert event["source"] == "statistics" and event["who"] == "dataofficer"
    assert {"field": "employees", "old": 150, "new": 260} in event["changes"]
    assert client_for(charlie).get(f"{url}history/").status_code == 404
