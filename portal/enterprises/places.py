"""Where an address is: province, city and district (县级) read from the address text, and the township of
苏州高新区 it names, for 一照多址 filings.

Chinese addresses run from the largest place to the smallest, so the place names are read from the start of
the text, one after another, until the first thing that is not a place (the road). A name somewhere later in
the text ("科灵路78号上海大厦") is not a place of the address. Data shipped with the project:
`data/admin_divisions.json` (every province, city and county; from the PyPI package cpca, see its "about")
and `data/district_places.json` (how 苏州高新区 and its townships are written; roads → townships).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

DISTRICT = "320505"
CITY = "320500"
PROVINCE = "320000"
_DATA = Path(__file__).resolve().parent / "data"

# A place name followed by one of these is the start of a road named after the place ("上海路", "狮山路",
# "金山东路"), not the place itself.
_ROAD_AFTER = re.compile(r"^[东西南北中]?(?:路|街(?!道)|大道|大街|巷|弄|桥|浜|港|河|湾|公路|线)")
_SEPARATORS = " ,，、;；:：-－—·()（）[]【】"
_PROVINCE_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "自治区", "省", "市")


@dataclass(frozen=True)
class _Name:
    level: str  # "province", "city", "county", "district", "township", "other"
    codes: tuple[str, ...]
    label: str = ""  # the other area's name
    short: bool = False  # a short form ("昆山" for 昆山市): a guess, dropped when it cannot fit the city named


@dataclass
class ParsedAddress:
    """What the address text says about its place."""

    text: str  # normalised (NFKC, no spaces)
    prefix: str  # the place names read from the start
    rest: str  # the remainder: road, number, building
    province: str | None = None
    city: str | None = None
    counties: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (name as written, codes)
    district_alias: str | None = None  # "苏州高新区", "高新区", …
    other_area: str | None = None  # "苏州工业园区"
    township: str | None = None  # code of the township named
    township_name: str | None = None  # as written
    road: str | None = None  # the gazetteer's road the remainder starts with
    road_townships: tuple[str, ...] = ()

    @property
    def named_anything(self) -> bool:
        return bool(self.prefix)


@dataclass(frozen=True)
class Verdict:
    """in_district: True / False (outside) / None (cannot tell which district). `place` names where it is."""

    in_district: bool | None
    place: str = ""
    code: str = ""  # "", "outside_jurisdiction", "district_unclear", "address_inconsistent"


@cache
def _divisions() -> dict[str, str]:
    with (_DATA / "admin_divisions.json").open(encoding="utf-8") as fh:
        return json.load(fh)["divisions"]


@cache
def district_places() -> dict:
    with (_DATA / "district_places.json").open(encoding="utf-8") as fh:
        return json.load(fh)


def _level(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def _short(name: str, level: str) -> str | None:
    """The everyday short form ("江苏", "苏州", "昆山"), when it stays at least two characters."""
    suffixes = _PROVINCE_SUFFIXES if level == "province" else ("市", "区", "县")
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


@cache
def _names() -> dict[str, tuple[_Name, ...]]:
    """Every way a place may be written → what it may be (a short county name may be several counties)."""
    found: dict[tuple[str, bool], dict[str, set[str]]] = {}  # (name, short form) → level → codes
    own: set[str] = set()
    full_names = set(_divisions().values())
    places = district_places()
    for name in places["district"]["names"]:
        own.add(name)
    for names in places["townships"].values():
        own.update(names)
    for area in places["other_areas"]:
        own.update(area["names"])
    for code, name in _divisions().items():
        level = _level(code)
        found.setdefault((name, False), {}).setdefault(level, set()).add(code)
        short = _short(name, level)
        # Never let a short form shadow a full name, or how the district or its townships are written.
        if short and short not in own and short not in full_names:
            found.setdefault((short, True), {}).setdefault(level, set()).add(code)
    table: dict[str, list[_Name]] = {}
    for (name, is_short), levels in found.items():
        for level, codes in levels.items():
            table.setdefault(name, []).append(_Name(level, tuple(sorted(codes)), short=is_short))
    for name in places["district"]["names"]:
        table[name] = [_Name("district", (places["district"]["code"],))]
    for code, names in places["townships"].items():
        for name in names:
            table[name] = [_Name("township", (code,))]
    for area in places["other_areas"]:
        for name in area["names"]:
            table[name] = [_Name("other", (area["city"],), area["name"])]
    return {name: tuple(items) for name, items in table.items()}


@cache
def _lengths() -> tuple[int, ...]:
    return tuple(sorted({len(n) for n in _names()}, reverse=True))


def roads() -> dict[str, list[str]]:
    return district_places()["roads"]


def township_names() -> dict[str, list[str]]:
    return district_places()["townships"]


def normalise(text: str) -> str:
    """Full-width → half-width (NFKC), lower case, no spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).casefold()


def parse(address: str) -> ParsedAddress:
    text = normalise(address)
    names = _names()
    pos = 0
    parsed = ParsedAddress(text=text, prefix="", rest="")
    while pos < len(text):
        while pos < len(text) and text[pos] in _SEPARATORS:
            pos += 1
        hit = None
        for length in _lengths():
            candidate = text[pos : pos + length]
            if len(candidate) == length and candidate in names and not _ROAD_AFTER.match(text[pos + length :]):
                if not _fits(parsed, names[candidate]):
                    continue
                hit = candidate
                break
        if hit is None:
            break
        for item in names[hit]:
            _take(parsed, hit, item)
        pos += len(hit)
    parsed.prefix = text[:pos]
    parsed.rest = text[pos:].lstrip(_SEPARATORS)
    for road in sorted(roads(), key=len, reverse=True):
        if parsed.rest.startswith(normalise(road)):
            parsed.road, parsed.road_townships = road, tuple(roads()[road])
            break
    return parsed


def _fits(parsed: ParsedAddress, items: tuple[_Name, ...]) -> bool:
    """A short form is only read as a place when it can lie inside the province / city already named
    ("南京市江北新区": "江北" is not 江北区 of 重庆 or 宁波). Full names are always read (and judged)."""
    if not all(item.short for item in items):
        return True
    area = parsed.city[:4] if parsed.city else parsed.province[:2] if parsed.province else ""
    return any(code.startswith(area) for item in items for code in item.codes)


def _take(parsed: ParsedAddress, written: str, item: _Name) -> None:
    if item.level == "province":
        parsed.province = parsed.province or item.codes[0]
    elif item.level == "city":
        # A name that is both a city and a county (e.g. a short form) is read as the city once.
        parsed.city = parsed.city or item.codes[0]
    elif item.level == "county":
        parsed.counties.append((written, item.codes))
    elif item.level == "district":
        parsed.district_alias = parsed.district_alias or written
    elif item.level == "township":
        if parsed.township is None:
            parsed.township, parsed.township_name = item.codes[0], written
    else:
        parsed.other_area = parsed.other_area or item.label


def judge(parsed: ParsedAddress) -> Verdict:
    """Is the parsed address inside 苏州高新区? Addresses naming no place are read relative to the district."""
    place = parsed.prefix
    province, city = parsed.province, parsed.city
    if province and city and city[:2] != province[:2]:
        return Verdict(False, place, "address_inconsistent")
    area = city[:4] if city else province[:2] if province else ""
    counties: list[tuple[str, ...]] = []
    for _written, codes in parsed.counties:
        narrowed = tuple(c for c in codes if c.startswith(area))
        if not narrowed:
            return Verdict(False, place, "address_inconsistent")
        counties.append(narrowed)
    if counties:
        if all(codes == (DISTRICT,) for codes in counties) and not parsed.other_area:
            return Verdict(True, place)
        return Verdict(False, place, "outside_jurisdiction")
    if parsed.other_area:
        return Verdict(False, place, "outside_jurisdiction")
    if parsed.district_alias:
        # "南京高新区" is not ours: the district's short names count only in 苏州 (or with no city named).
        if (city and city != CITY) or (province and province != PROVINCE):
            return Verdict(False, place, "outside_jurisdiction")
        return Verdict(True, place)
    if (city and city != CITY) or (province and province != PROVINCE):
        return Verdict(False, place, "outside_jurisdiction")
    if city or province:
        # "苏州市人民路1号": 苏州 has other districts; only a township or a known road of ours settles it.
        if parsed.township or parsed.road:
            return Verdict(True, place)
        return Verdict(None, place, "district_unclear")
    return Verdict(True, place)


def site_key(parsed: ParsedAddress) -> str:
    """The address without its place names and punctuation, with 号楼 / a bare number read as 号: two filings of
    the same place written differently ("苏州高新区科灵路78号" and "科灵路78号楼") give the same key."""
    rest = re.sub(r"[\s,，、。.·\-－—_()（）\[\]【】\"'“”]", "", parsed.rest)
    rest = rest.replace("号楼", "号")
    return re.sub(r"(\d+)$", r"\1号", rest)
