"""Admin: places are editable data (a zone move re-matches); enterprise facts are read-only there."""

from __future__ import annotations

import pytest

from portal.accounts.models import User
from portal.enterprises.models import Township, Zone
from tests.enterprises.factories import EnterpriseFactory, SiteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def test_places_are_seeded_from_the_vocabulary() -> None:
    from matching.core.vocabulary import PARKS, TOWNSHIPS, ZONES

    assert set(Zone.objects.values_list("code", flat=True)) == set(ZONES)
    assert {t.code: (t.name, t.zone.code if t.zone else None) for t in Township.objects.all()} == TOWNSHIPS
    from portal.enterprises.models import Park

    assert dict(Park.objects.values_list("code", "name")) == PARKS


def test_moving_a_township_in_the_admin_rematches(admin_client_, facts_changed, django_capture_on_commit_callbacks):
    enterprise = EnterpriseFactory()
    township = Township.objects.get(code="320505101")  # 通安
    SiteFactory(enterprise=enterprise, township=township)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(
            f"/admin/enterprises/township/{township.pk}/change/",
            {"name": "通安镇", "zone": Zone.objects.get(code="tech_ecology").pk},
        )
    assert response.status_code == 302
    township.refresh_from_db()
    assert township.zone.code == "tech_ecology"
    assert facts_changed.calls == [[enterprise.pk]]


def test_enterprise_pages_show_provenance_and_allow_no_fact_edits(admin_client_) -> None:
    enterprise = EnterpriseFactory()
    assert admin_client_.get("/admin/enterprises/enterprise/").status_code == 200
    page = admin_client_.get(f"/admin/enterprises/enterprise/{enterprise.pk}/change/").content.decode()
    assert "统计局" in page and "已核验" in page
    assert 'name="employees"' not in page  # read-only
    assert admin_client_.get("/admin/enterprises/enterprisechange/").status_code == 200
    assert admin_client_.get("/admin/enterprises/feedimport/").status_code == 200


def test_deleting_a_zone_or_a_park_rematches_enterprises_there(
    admin_client_, facts_changed, django_capture_on_commit_callbacks
):
    from portal.enterprises.models import Park

    in_park = EnterpriseFactory()
    SiteFactory(enterprise=in_park, parks=[Park.objects.get(code="hefeng_park")])
    in_zone = EnterpriseFactory()
    SiteFactory(enterprise=in_zone, township=Township.objects.get(code="320505004"))  # 镇湖 → 科技生态
    park = Park.objects.get(code="hefeng_park")
    zone = Zone.objects.get(code="tech_ecology")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_.post(f"/admin/enterprises/park/{park.pk}/delete/", {"post": "yes"})
        admin_client_.post(f"/admin/enterprises/zone/{zone.pk}/delete/", {"post": "yes"})
    assert not Park.objects.filter(code="hefeng_park").exists()
    assert Township.objects.get(code="320505004").zone is None
    assert facts_changed.calls == [[in_park.pk], [in_zone.pk]]
