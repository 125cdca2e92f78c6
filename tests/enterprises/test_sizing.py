"""Enterprise size by 统计上大中小微型企业划分办法（2017）, at every boundary of every row.

The table below is typed in from the standard (reference facts §1), independently of the data file
the module loads. Each bound is the lower bound of its tier; an enterprise takes the lowest tier of
its indicators; a missing indicator leaves it unclassified.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.enterprises import industries, sizing

X, Y, Z = "employees", "revenue", "total_assets"
HIGH = {X: 10**6, Y: Decimal(10**9), Z: Decimal(10**9)}

# row: (sample 4-digit codes in its scope, {indicator: (large, medium, small) lower bounds})
TABLE: dict[str, tuple[list[str], dict[str, tuple[int, int, int]]]] = {
    "农、林、牧、渔业": (["0111", "0511"], {Y: (20000, 500, 50)}),
    "工业": (["0610", "1311", "3973", "4411", "4620"], {X: (1000, 300, 20), Y: (40000, 2000, 300)}),
    "建筑业": (["4710", "5011"], {Y: (80000, 6000, 300), Z: (80000, 5000, 300)}),
    "批发业": (["5111"], {X: (200, 20, 5), Y: (40000, 5000, 1000)}),
    "零售业": (["5211"], {X: (300, 50, 10), Y: (20000, 500, 100)}),
    "交通运输业": (["5411", "5810", "5910"], {X: (1000, 300, 20), Y: (30000, 3000, 200)}),
    "仓储业": (["5920", "5990"], {X: (200, 100, 20), Y: (30000, 1000, 100)}),
    "邮政业": (["6010"], {X: (1000, 300, 20), Y: (30000, 2000, 100)}),
    "住宿业": (["6110"], {X: (300, 100, 10), Y: (10000, 2000, 100)}),
    "餐饮业": (["6210"], {X: (300, 100, 10), Y: (10000, 2000, 100)}),
    "信息传输业": (["6311", "6410"], {X: (2000, 100, 10), Y: (100000, 1000, 100)}),
    "软件和信息技术服务业": (["6511", "6520"], {X: (300, 100, 10), Y: (10000, 1000, 50)}),
    "房地产开发经营": (["7010"], {Y: (200000, 1000, 100), Z: (10000, 5000, 2000)}),
    "物业管理": (["7020"], {X: (1000, 300, 100), Y: (5000, 1000, 500)}),
    "租赁和商务服务业": (["7111", "7211"], {X: (300, 100, 10), Z: (120000, 8000, 100)}),
    "其他未列明行业": (
        ["7310", "7610", "8010", "8511", "8610", "9011", "7030", "7090"],
        {X: (300, 100, 10)},
    ),
}
NOT_COVERED = ["6621", "5311", "7040", "8310", "8411", "9100", "9700"]
TIERS = ("large", "medium", "small")
LOWER = {"large": "medium", "medium": "small", "small": "micro"}
STEP = {X: 1, Y: Decimal("0.01"), Z: Decimal("0.01")}


def classify(code: str, **values: object) -> sizing.SizeResult:
    return sizing.classify(
        industry_code=code,
        employees=values.get(X),  # type: ignore[arg-type]
        revenue=values.get(Y),  # type: ignore[arg-type]
        total_assets=values.get(Z),  # type: ignore[arg-type]
    )


def boundary_cases() -> list[tuple[str, str, str, object, str]]:
    cases = []
    for row, (codes, bounds) in TABLE.items():
        for code in codes:
            for indicator, limits in bounds.items():
                for tier, bound in zip(TIERS, limits, strict=True):
                    value = Decimal(bound) if indicator != X else bound
                    cases.append((row, code, indicator, value, tier))  # exactly the bound: in the tier
                    cases.append((row, code, indicator, value - STEP[indicator], LOWER[tier]))  # just below
    return cases


@pytest.mark.parametrize(("row", "code", "indicator", "value", "expected"), boundary_cases())
def test_each_indicator_at_and_below_each_bound(row: str, code: str, indicator: str, value, expected: str) -> None:
    bounds = TABLE[row][1]
    # The other indicators far above every bound, so this one decides.
    values = {ind: HIGH[ind] for ind in bounds}
    values[indicator] = value
    result = classify(code, **values)
    assert result.size == expected, result.basis
    assert result.category is not None and result.category.name == row
    assert result.tiers[indicator] == expected


@pytest.mark.parametrize("row", [row for row, (_, bounds) in TABLE.items() if len(bounds) == 2])
def test_the_lowest_indicator_decides(row: str) -> None:
    codes, bounds = TABLE[row]
    (first, first_bounds), (second, second_bounds) = bounds.items()
    # first at the large bound, second at the small bound → small ("下划一档" until both meet the bound).
    result = classify(codes[0], **{first: first_bounds[0], second: second_bounds[2]})
    assert result.size == "small"
    # Micro needs only one indicator below the small bound.
    result = classify(codes[0], **{first: first_bounds[0], second: second_bounds[2] - STEP[second]})
    assert result.size == "micro"


def test_sample_codes_exist_in_the_2017_list() -> None:
    for codes, _ in TABLE.values():
        for code in codes:
            assert industries.is_class_code(code), code
    for code in NOT_COVERED:
        assert industries.is_class_code(code), code


@pytest.mark.parametrize(
    ("code", "x", "y", "expected"),
    [
        ("3973", 150, 8000, "small"),  # X small, Y medium → small
        ("3973", 1000, 40000, "large"),
        ("3973", 999, 40000, "medium"),
        ("5211", 9, 50000, "micro"),  # retail
    ],
)
def test_worked_examples_from_the_standard(code: str, x: int, y: int, expected: str) -> None:
    assert classify(code, employees=x, revenue=Decimal(y)).size == expected


def test_5910_is_transport_but_the_rest_of_59_is_warehousing() -> None:
    assert classify("5910", employees=100, revenue=Decimal(2000)).category.name == "交通运输业"
    assert classify("5920", employees=100, revenue=Decimal(2000)).category.name == "仓储业"
    # Same figures, different rows: 100 persons is small for transport (≥20, <300) but medium for warehousing.
    assert classify("5910", employees=100, revenue=Decimal(30000)).size == "small"
    assert classify("5920", employees=100, revenue=Decimal(30000)).size == "medium"


@pytest.mark.parametrize("code", NOT_COVERED)
def test_industries_outside_the_table_are_unclassified_with_the_reason(code: str) -> None:
    result = classify(code, employees=5000, revenue=Decimal(10**6), total_assets=Decimal(10**6))
    assert result.size == "unclassified"
    assert result.reason == sizing.REASON_NOT_COVERED
    assert code in result.basis


def test_a_missing_indicator_is_not_guessed() -> None:
    result = classify("3973", employees=5)  # revenue unknown
    assert result.size == "unclassified"
    assert result.reason == sizing.REASON_MISSING_INDICATOR
    assert result.missing == (Y,)
    assert "营业收入" in result.basis


@pytest.mark.parametrize("code", [None, "", "39", "9999"])
def test_without_a_valid_class_code_there_is_no_size(code: str | None) -> None:
    assert classify(code, employees=100, revenue=Decimal(100)).reason == sizing.REASON_UNKNOWN_INDUSTRY  # type: ignore[arg-type]


def test_the_basis_names_each_indicator_and_its_tier() -> None:
    basis = classify("3973", employees=150, revenue=Decimal("8000.00")).basis
    assert basis == "工业：从业人员150人→小型；营业收入8000万元→中型，取最低档→小型"


COVERED_CODES = sorted(
    code
    for code in industries.codes()
    if industries.is_class_code(code) and isinstance(sizing.category_for(code), sizing.Category)
)
RANK = {"micro": 0, "small": 1, "medium": 2, "large": 3}


@given(
    code=st.sampled_from(COVERED_CODES),
    employees=st.integers(min_value=0, max_value=5000),
    revenue=st.decimals(min_value=0, max_value=300000, places=2),
    assets=st.decimals(min_value=0, max_value=300000, places=2),
    indicator=st.sampled_from([X, Y, Z]),
    fall=st.floats(min_value=0.0, max_value=1.0),
)
def test_size_never_rises_when_an_indicator_falls(code, employees, revenue, assets, indicator, fall) -> None:
    before = {X: employees, Y: revenue, Z: assets}
    after = dict(before)
    after[indicator] = (
        int(employees * fall) if indicator == X else (before[indicator] * Decimal(str(fall))).quantize(Decimal("0.01"))
    )
    assert after[indicator] <= before[indicator]
    size_before = classify(code, **before).size
    size_after = classify(code, **after).size
    assert RANK[size_after] <= RANK[size_before]
