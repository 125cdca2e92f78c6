"""一照多址: a site inside 320505 is filed at once and recorded; elsewhere a branch registration is needed."""

from __future__ import annotations

import pytest

from portal.api.exceptions import ApplicationError
from portal.enterprises import services
from portal.enterprises.models import EnterpriseChange, Site, Township, Zone
from tests.enterprises.factories import SiteFactory

pytestmark = pytest.mark.django_db


def test_a_site_inside_the_district_is_filed_at_once(alice, facts_changed, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        site = services.site_file(
            enterprise=alice.enterprise,
            address="苏州高新区科技城科灵路78号",
            township_code="320505407",
            park_codes=["kjc_ngit_park"],
            by=alice,
        )
    assert site.township.zone.code == "tech_ecology"
    assert [p.code for p in site.parks.all()] == ["kjc_ngit_park"]
    assert site.source == "market_regulation" and site.filed_by == alice
    change = EnterpriseChange.objects.get(enterprise=alice.enterprise)
    assert change.change_for("site")["new"]["township"] == "320505407"
    assert facts_changed.calls == [[alice.enterprise_id]]


def test_a_site_outside_the_district_needs_a_branch_registration(alice, facts_changed) -> None:
    with pytest.raises(ApplicationError) as info:
        services.site_file(enterprise=alice.enterprise, address="苏州工业园区星湖街1号", township_code="320571001")
    assert (info.value.code, info.value.field) == ("outside_jurisdiction", "township")
    assert "分支机构登记" in info.value.message
    assert not Site.objects.exists()
    assert not EnterpriseChange.objects.exists()


@pytest.mark.parametrize(
    ("township", "parks", "code"),
    [("320505999", [], "unknown_township"), ("320505002", ["no_such_park"], "unknown_park")],
)
def test_unknown_places_are_refused(alice, township: str, parks: list[str], code: str) -> None:
    with pytest.raises(ApplicationError) as info:
        services.site_file(enterprise=alice.enterprise, address="某地址", township_code=township, park_codes=parks)
    assert info.value.code == code
    assert not Site.objects.exists()


def test_withdrawing_a_site_is_recorded(alice) -> None:
    site = SiteFactory(enterprise=alice.enterprise)
    services.site_withdraw(site=site, by=alice)
    assert not Site.objects.exists()
    assert EnterpriseChange.objects.get(enterprise=alice.enterprise).change_for("site")["new"] is None


def test_moving_a_township_to_another_zone_rematches_enterprises_there(
    alice, charlie, facts_changed, django_capture_on_commit_callbacks
) -> None:
    SiteFactory(enterprise=alice.enterprise, township=Township.objects.get(code="320505003"))
    SiteFactory(enterprise=charlie.enterprise, township=Township.objects.get(code="320505002"))
    township = Township.objects.get(code="320505003")  # 枫桥: not named by the plan, an administrator's call
    with django_capture_on_commit_callbacks(execute=True):
        services.township_update(township=township, name=township.name, zone=Zone.objects.get(code="tech_ecology"))
    assert facts_changed.calls == [[alice.enterprise_id]]
