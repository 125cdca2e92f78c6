"""GB/T 4754-2017 lookups: the shipped list, names, 4-digit validation and "under a prefix"."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from portal.enterprises import industries

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "gbt4754-2017.json"


def test_shipped_list_has_every_level_of_the_2017_standard() -> None:
    levels = Counter("letter" if code.isalpha() else len(code) for code in industries.codes())
    # The list names 274 中类; a 中类 with a single 小类 (652 → 6520) is implied by it and added back.
    single = {code[:3] for code in industries.codes() if len(code) == 4 and code.endswith("0")}
    assert levels["letter"] == 20 and levels[2] == 97 and levels[4] == 1380
    assert 274 < levels[3] <= 274 + len(single)
    assert industries.industry_name("652") == industries.industry_name("6520") == "集成电路设计"


@pytest.mark.skipif(not REFERENCE.exists(), reason="reference folder not mounted")
def test_shipped_list_is_the_reference_list() -> None:
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    shipped = dict(industries.codes())
    assert {code: shipped[code] for code in reference} == reference


def test_names_are_the_2017_ones() -> None:
    # 6520 meant 信息系统集成服务 in 2011; in 2017 it is 集成电路设计.
    assert industries.industry_name("6520") == "集成电路设计"
    assert industries.industry_name("3973") == "集成电路制造"
    assert industries.industry_name("C") == "制造业"
    assert industries.industry_name("0000") is None


@pytest.mark.parametrize(
    ("code", "valid"), [("6520", True), ("3973", True), ("652", False), ("9999", False), ("C", False)]
)
def test_only_existing_four_digit_codes_are_class_codes(code: str, valid: bool) -> None:
    assert industries.is_class_code(code) is valid


@pytest.mark.parametrize(
    ("code", "prefix", "under"),
    [
        ("3973", "C", True),
        ("3973", "39", True),
        ("3973", "397", True),
        ("3973", "3973", True),
        ("3973", "B", False),
        ("1311", "C", True),  # C starts at 13
        ("1200", "C", False),  # … and 12 is still B
        ("4390", "C", True),  # C ends at 43
        ("4411", "C", False),
        ("4411", "D", True),
        ("6520", "I", True),
        ("7010", "K", True),
        ("9700", "T", True),
        ("0111", "A", True),
        ("5910", "G", True),
    ],
)
def test_under_a_prefix_including_section_letters(code: str, prefix: str, under: bool) -> None:
    assert industries.is_under(code, prefix) is under


def test_every_division_belongs_to_exactly_one_section() -> None:
    divisions = [code for code in industries.codes() if len(code) == 2]
    for division in divisions:
        sections = [
            letter for letter in industries.SECTION_DIVISIONS if division in industries.division_prefixes(letter)
        ]
        assert len(sections) == 1, division
        assert industries.section_of(division + "00") == sections[0]


def test_path_from_section_to_class() -> None:
    assert [code for code, _ in industries.industry_path("3973")] == ["C", "39", "397", "3973"]
