"""/api/v1/enterprises/{code}/sites/: 一照多址 filings by the enterprise; strangers get 404."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from portal.enterprises.models import EnterpriseChange, Site
from tests.enterprises.factories import SiteFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(enterprise, pk: int | None = None) -> str:
    base = f"/api/v1/enterprises/{enterprise.credit_code}/sites/"
    return f"{base}{pk}/" if pk else base


def test_enterprise_files_a_site_inside_the_district(alice) -> None:
    response = client_for(alice).post(
        url(alice.enterprise),
        {"address": "苏州高新区科技城科灵路78号", "township": "320505407", "parks": ["kjc_ngit_park"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["zone"] == {"code": "tech_ecology", "name": "科技生态功能区"}
    assert body["parks"] == [{"code": "kjc_ngit_park", "name": "苏州科技城新一代信息技术产业园"}]
    assert body["verified"] is True and body["kind"] == "operating"
    assert EnterpriseChange.objects.filter(enterprise=alice.enterprise).count() == 1


def test_a_site_outside_the_district_is_refused_with_the_reason(alice) -> None:
    response = client_for(alice).post(
        url(alice.enterprise), {"address": "苏州市吴中区某路1号", "township": "320506001"}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "outside_jurisdiction"
    assert error["fields"] == [{"field": "township", "code": "outside_jurisdiction", "message": error["message"]}]
    assert "分支机构" in error["message"]
    assert not Site.objects.exists()


def test_bad_input_names_the_fields(alice) -> None:
    response = client_for(alice).post(url(alice.enterprise), {"township": "abc"}, format="json")
    assert response.status_code == 400
    assert {f["field"] for f in response.json()["error"]["fields"]} == {"address"}
    response = client_for(alice).post(url(alice.enterprise), {"address": "x", "township": "abc"}, format="json")
    assert {(f["field"], f["code"]) for f in response.json()["error"]["fields"]} == {("township", "invalid_township")}


def test_only_the_registration_authority_sets_the_registered_address(alice) -> None:
    response = client_for(alice).post(
        url(alice.enterprise), {"address": "x", "township": "320505002", "kind": "registered"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "registered_address"


def test_list_retrieve_and_withdraw(alice, bob) -> None:
    site = SiteFactory(enterprise=alice.enterprise)
    assert [s["id"] for s in client_for(bob).get(url(alice.enterprise)).json()] == [site.pk]
    assert client_for(bob).get(url(alice.enterprise, site.pk)).json()["address"] == site.address
    assert client_for(bob).delete(url(alice.enterprise, site.pk)).status_code == 204
    assert not Site.objects.exists()


def test_stranger_gets_404_everywhere(alice, charlie) -> None:
    site = SiteFactory(enterprise=alice.enterprise)
    client = client_for(charlie)
    assert client.get(url(alice.enterprise)).status_code == 404
    assert client.get(url(alice.enterprise, site.pk)).status_code == 404
    assert client.delete(url(alice.enterprise, site.pk)).status_code == 404
    response = client.post(url(alice.enterprise), {"address": "x", "township": "320505002"}, format="json")
    assert response.status_code == 404
    # Charlie's own enterprise does not reach Alice's site either.
    assert client.get(url(charlie.enterprise, site.pk)).status_code == 404
    assert list(Site.objects.all()) == [site]


def test_list_queries_do_not_grow_with_sites(alice, django_assert_max_num_queries) -> None:
    SiteFactory.create_batch(6, enterprise=alice.enterprise)
    with django_assert_max_num_queries(4):  # roles, enterprise, sites with township+zone, parks
        response = client_for(alice).get(url(alice.enterprise))
    assert len(response.json()) == 6


def test_read_only_staff_cannot_file(alice, staff_editor) -> None:
    response = client_for(staff_editor).post(
        url(alice.enterprise), {"address": "x", "township": "320505002"}, format="json"
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("上海市浦东新区世纪大道100号", "outside_jurisdiction"),
        ("苏州工业园区星湖街328号", "outside_jurisdiction"),
        ("苏州市人民路1号", "district_unclear"),
    ],
)
def test_the_address_text_is_checked_on_the_api_too(alice, address: str, code: str) -> None:
    response = client_for(alice).post(
        url(alice.enterprise), {"address": address, "township": "320505002"}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert error["fields"] == [{"field": "address", "code": code, "message": error["message"]}]
    assert not Site.objects.exists()


def test_a_duplicate_filing_is_refused_on_the_api(alice) -> None:
    body = {"address": "苏州高新区科灵路78号", "township": "320505407"}
    assert client_for(alice).post(url(alice.enterprise), body, format="json").status_code == 201
    response = client_for(alice).post(url(alice.enterprise), {**body, "address": "科灵路７８号楼"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"][0] == {
        "field": "address",
        "code": "duplicate_address",
        "message": response.json()["error"]["message"],
    }
    assert Site.objects.count() == 1


def test_a_stranger_cannot_withdraw_a_site(alice, charlie) -> None:
    site = SiteFactory(enterprise=alice.enterprise)
    before = EnterpriseChange.objects.count()
    assert client_for(charlie).delete(url(alice.enterprise, site.pk)).status_code == 404
    assert client_for(charlie).delete(url(charlie.enterprise, site.pk)).status_code == 404
    assert list(Site.objects.all()) == [site] and EnterpriseChange.objects.count() == before
