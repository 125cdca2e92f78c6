"""GB/T 4754-2017 data shipped with matching: names at every level and the section letters' ranges."""

from __future__ import annotations

import json

from matching.core.industries import (
    DATA_FILE,
    SECTION_DIVISIONS,
    industry_display,
    industry_name,
    industry_under,
    is_class_code,
    is_industry_code,
    section_divisions,
    section_of,
)


def test_the_shipped_table_has_every_level() -> None:
    table = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    by_length: dict[int, int] = {}
    for code in table:
        by_length[len(code)] = by_length.get(len(code), 0) + 1

    assert by_length == {1: 20, 2: 97, 3: 274, 4: 1380}
    assert industry_name("6520") == "集成电路设计"
    assert industry_name("C") == "制造业"


def test_section_ranges_cover_every_division_exactly_once() -> None:
    divisions = sorted(code for code in json.loads(DATA_FILE.read_text(encoding="utf-8")) if len(code) == 2)
    covered = [d for letter in SECTION_DIVISIONS for d in section_divisions(letter)]

    assert sorted(covered) == divisions
    assert len(covered) == len(set(covered))
    assert section_divisions("C")[0] == "13" and section_divisions("C")[-1] == "43"
    assert section_of("6520") == "I"
    assert section_of("4411") == "D"
    assert section_of("C") == "C"
    assert section_of("x") is None


def test_a_group_with_a_single_class_is_a_valid_code() -> None:
    # GB/T 4754-2017 does not print 中类 652 separately: its only 小类 is 6520.
    assert is_industry_code("652")
    assert industry_display("652") == "集成电路设计（652）"
    assert not is_class_code("652")
    assert is_class_code("6520")
    assert not is_industry_code("129")
    assert not is_industry_code(6520)
    assert industry_display("9999") == "9999"


def test_under() -> None:
    assert industry_under("3973", ["C"])
    assert industry_under("3973", ["397"])
    assert not industry_under("3973", ["3974", "D", "398"])
