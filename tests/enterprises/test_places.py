"""Reading where an address is (一照多址): province, city and district from the text, the township it names,
and the key two writings of one place share. Pure functions over the shipped data files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portal.enterprises import places

# The reference folder sits beside the checkout (shared/ next to the clone); tests may read it, the product not.
REFERENCE = next(
    (p / "shared" / "reference" / "facts.md" for p in Path(__file__).resolve().parents if (p / "shared").is_dir()),
    None,
)


@pytest.mark.parametrize(
    ("address", "in_district", "code", "place"),
    [
        ("上海市浦东新区世纪大道100号", False, "outside_jurisdiction", "上海市浦东新区"),
        ("浦东新区世纪大道100号", False, "outside_jurisdiction", "浦东新区"),
        ("苏州工业园区星湖街328号", False, "outside_jurisdiction", "苏州工业园区"),
        ("苏州市工业园区星湖街328号", False, "outside_jurisdiction", "苏州市工业园区"),
        ("江苏省苏州市吴中区东吴北路1号", False, "outside_jurisdiction", "江苏省苏州市吴中区"),
        ("昆山市花桥镇1号", False, "outside_jurisdiction", "昆山市"),
        ("南京高新区某路1号", False, "outside_jurisdiction", "南京高新区"),
        ("北京市海淀区中关村大街1号", False, "outside_jurisdiction", "北京市海淀区"),
        ("浙江省苏州市虎丘区科灵路78号", False, "address_inconsistent", "浙江省苏州市虎丘区"),
        ("南京市江北新区某路1号", False, "outside_jurisdiction", "南京市"),  # "江北" of 重庆 is not read in 南京
        ("苏州相城经济技术开发区某路1号", False, "outside_jurisdiction", "苏州相城"),
        ("苏州市鼓楼区某路1号", False, "address_inconsistent", "苏州市鼓楼区"),
        ("苏州市人民路1号", None, "district_unclear", "苏州市"),
        ("江苏省苏州市虎丘区科灵路78号", True, "", "江苏省苏州市虎丘区"),
        ("苏州高新区科灵路78号", True, "", "苏州高新区"),
        ("苏州市高新区狮山路88号", True, "", "苏州市高新区"),
        ("江苏苏州新区狮山路88号", True, "", "江苏苏州新区"),
        ("苏州市通安镇华金路9号", True, "", "苏州市通安镇"),
        # No place named: read relative to the district, even when the road is named after a city.
        ("科灵路78号", True, "", ""),
        ("上海路1号", True, "", ""),
        ("狮山路88号", True, "", ""),
    ],
)
def test_the_address_text_decides_where_it_is(address: str, in_district: bool | None, code: str, place: str) -> None:
    verdict = places.judge(places.parse(address))
    assert (verdict.in_district, verdict.code, verdict.place) == (in_district, code, place)


@pytest.mark.parametrize(
    ("address", "township"),
    [
        ("苏州高新区科技城科灵路78号", "320505407"),
        ("苏州高新区东渚街道某路1号", "320505407"),
        ("江苏省苏州市虎丘区通安镇华金路9号", "320505101"),
        ("苏州高新区综合保税区珠江路1号", "320505408"),
        ("浒墅关镇青花路1号", "320505400"),
        ("苏州高新区狮山路88号", None),  # "狮山" followed by 路 is the road, not 狮山街道
    ],
)
def test_the_township_named_in_the_address_is_read(address: str, township: str | None) -> None:
    assert places.parse(address).township == township


@pytest.mark.parametrize(
    "variant",
    [
        "苏州高新区科灵路78号",
        "科灵路78号",
        "科灵路 78 号",
        "科灵路７８号",
        "江苏省苏州市虎丘区科灵路78号楼",
        "科灵路78",
    ],
)
def test_one_place_written_differently_has_one_key(variant: str) -> None:
    assert places.site_key(places.parse(variant)) == "科灵路78号"


def test_different_numbers_have_different_keys() -> None:
    assert places.site_key(places.parse("科灵路78号")) != places.site_key(places.parse("科灵路79号"))


def test_a_road_in_the_gazetteer_gives_its_township(monkeypatch) -> None:
    monkeypatch.setattr(places, "roads", lambda: {"测试路": ["320505407"]})
    parsed = places.parse("苏州市测试路1号")
    assert (parsed.road, parsed.road_townships) == ("测试路", ("320505407",))
    # 苏州市 alone is ambiguous, but a road of the district settles it.
    assert places.judge(parsed).in_district is True


@pytest.mark.skipif(REFERENCE is None or not REFERENCE.exists(), reason="reference folder not mounted")
def test_the_gazetteer_townships_are_the_reference_ones() -> None:
    reference = REFERENCE.read_text(encoding="utf-8")
    for code, names in places.township_names().items():
        assert f"{code} {names[0]}" in reference or code in reference


def test_the_division_table_knows_the_district_and_other_places() -> None:
    divisions = json.loads((places._DATA / "admin_divisions.json").read_text(encoding="utf-8"))["divisions"]
    assert divisions["320505"] == "虎丘区" and divisions["320500"] == "苏州市" and divisions["310000"] == "上海市"
