"""一照多址 filings: the address text decides (not only the township picked); each refusal writes nothing."""

from __future__ import annotations

import pytest

from portal.api.exceptions import ApplicationError
from portal.enterprises import places, services
from portal.enterprises.models import EnterpriseChange, Site
from tests.enterprises.factories import SiteFactory
from tests.enterprises.support import seed_places

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _places(db) -> None:
    seed_places()


def state(enterprise) -> tuple[list, int]:
    return list(
        Site.objects.filter(enterprise=enterprise).values_list("pk", "address")
    ), EnterpriseChange.objects.filter(enterprise=enterprise).count()


def refused(enterprise, address: str, township: str = "320505002") -> ApplicationError:
    before = state(enterprise)
    with pytest.raises(ApplicationError) as info:
        services.site_file(enterprise=enterprise, address=address, township_code=township)
    assert state(enterprise) == before  # nothing written
    return info.value


@pytest.mark.parametrize(
    ("address", "place"),
    [
        ("上海市浦东新区世纪大道100号", "上海市浦东新区"),
        ("苏州工业园区星湖街328号", "苏州工业园区"),
        ("江苏省苏州市吴中区东吴北路1号", "江苏省苏州市吴中区"),
        ("南京高新区某路1号", "南京高新区"),
    ],
)
def test_an_address_outside_the_district_needs_a_branch_registration(alice, address: str, place: str) -> None:
    # An in-district township is picked: the address still decides.
    error = refused(alice.enterprise, address)
    assert (error.code, error.field) == ("outside_jurisdiction", "address")
    assert place in error.message and "分支机构登记" in error.message


def test_an_address_naming_only_the_city_is_asked_for_its_district(alice) -> None:
    error = refused(alice.enterprise, "苏州市人民路1号")
    assert (error.code, error.field) == ("district_unclear", "address")
    assert "苏州高新区" in error.message


def test_contradictory_places_are_refused(alice) -> None:
    error = refused(alice.enterprise, "浙江省苏州市虎丘区科灵路78号")
    assert (error.code, error.field) == ("address_inconsistent", "address")


@pytest.mark.parametrize("address", ["苏州高新区", "x" * 300, "苏州高新区 12-3"])
def test_an_address_without_a_road_or_building_is_incomplete(alice, address: str) -> None:
    error = refused(alice.enterprise, address)
    assert (error.code, error.field) == ("address_incomplete", "address")


def test_a_township_named_in_the_address_must_be_the_one_picked(alice) -> None:
    error = refused(alice.enterprise, "苏州高新区通安镇华金路9号", township="320505002")
    assert (error.code, error.field) == ("township_mismatch", "township")
    assert error.message == "地址中写的是“通安镇”，与所选街道（镇）“狮山街道”不符"
    error = refused(alice.enterprise, "苏州高新区东渚街道某路1号", township="320505002")
    assert "“东渚街道”（科技城（东渚街道））" in error.message


def test_a_known_road_must_be_in_the_township_picked(alice, monkeypatch) -> None:
    monkeypatch.setattr(places, "roads", lambda: {"测试路": ["320505407"]})
    error = refused(alice.enterprise, "苏州高新区测试路1号", township="320505002")
    assert (error.code, error.field) == ("township_mismatch", "township")
    assert "科技城" in error.message
    site = services.site_file(enterprise=alice.enterprise, address="苏州高新区测试路1号", township_code="320505407")
    assert site.township.code == "320505407"


def test_an_unknown_road_is_accepted_and_read_in_the_district(alice) -> None:
    site = services.site_file(enterprise=alice.enterprise, address="科灵路78号", township_code="320505407")
    assert site.address == "科灵路78号"


@pytest.mark.parametrize(
    "again", ["苏州高新区科灵路78号", "科灵路 ７８ 号", "江苏省苏州市虎丘区科灵路78号楼", "科灵路78"]
)
def test_the_same_address_is_not_filed_twice(alice, again: str) -> None:
    services.site_file(enterprise=alice.enterprise, address="苏州高新区科技城科灵路78号", township_code="320505407")
    error = refused(alice.enterprise, again, township="320505407")
    assert (error.code, error.field) == ("duplicate_address", "address")
    assert "苏州高新区科技城科灵路78号" in error.message


def test_another_enterprise_may_file_the_same_address(alice, charlie) -> None:
    services.site_file(enterprise=alice.enterprise, address="苏州高新区科灵路78号", township_code="320505407")
    services.site_file(enterprise=charlie.enterprise, address="苏州高新区科灵路78号", township_code="320505407")
    assert Site.objects.count() == 2


def test_the_registered_address_is_not_an_extra_site(alice) -> None:
    SiteFactory(enterprise=alice.enterprise, kind=Site.Kind.REGISTERED, address="苏州高新区狮山路88号")
    error = refused(alice.enterprise, "狮山路88号")
    assert (error.code, error.field) == ("registered_address_as_site", "address")
    assert "住所" in error.message


def test_a_withdrawn_site_may_be_filed_again(alice) -> None:
    site = services.site_file(enterprise=alice.enterprise, address="苏州高新区狮山路1号", township_code="320505002")
    services.site_withdraw(site=site, by=alice)
    again = services.site_file(enterprise=alice.enterprise, address="狮山路1号", township_code="320505002")
    assert list(Site.objects.filter(enterprise=alice.enterprise)) == [again]


def test_the_registered_address_cannot_be_withdrawn_here(alice) -> None:
    site = SiteFactory(enterprise=alice.enterprise, kind=Site.Kind.REGISTERED)
    with pytest.raises(ApplicationError) as info:
        services.site_withdraw(site=site, by=alice)
    assert info.value.code == "registered_address"
    assert Site.objects.filter(pk=site.pk).exists()
    assert not EnterpriseChange.objects.filter(enterprise=alice.enterprise).exists()
