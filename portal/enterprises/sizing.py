"""Enterprise size by 统计上大中小微型企业划分办法（2017）: pure functions over the table shipped in data/."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

from . import industries

DATA_FILE = Path(__file__).resolve().parent / "data" / "size_table_2017.json"

LARGE, MEDIUM, SMALL, MICRO, UNCLASSIFIED = "large", "medium", "small", "micro", "unclassified"
TIERS = (LARGE, MEDIUM, SMALL, MICRO)  # from the highest tier down
TIER_NAMES = {LARGE: "大型", MEDIUM: "中型", SMALL: "小型", MICRO: "微型", UNCLASSIFIED: "未划型"}
# Higher is bigger; unclassified has no rank.
RANK = {MICRO: 0, SMALL: 1, MEDIUM: 2, LARGE: 3}
INDICATORS = ("employees", "revenue", "total_assets")
INDICATOR_UNITS = {"employees": "人", "revenue": "万元", "total_assets": "万元"}

# Why a size could not be given.
REASON_NOT_COVERED = "not_covered"  # the industry is outside the 2017 table
REASON_UNKNOWN_INDUSTRY = "unknown_industry"  # no valid 4-digit code
REASON_MISSING_INDICATOR = "missing_indicator"


@dataclass(frozen=True, slots=True)
class Category:
    key: str
    name: str
    indicators: tuple[str, ...]
    # tier → indicator → lower bound
    thresholds: dict[str, dict[str, Decimal]]
    # indicator → ((tier, lower bound), …) from the highest tier down: the same table, for fast lookups
    bounds: dict[str, tuple[tuple[str, Decimal], ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SizeResult:
    size: str
    category: Category | None = None
    tiers: dict[str, str] = field(default_factory=dict)  # indicator → tier it reaches on its own
    reason: str = ""  # empty when classified
    missing: tuple[str, ...] = ()
    basis: str = ""  # 划型依据, in Chinese

    @property
    def inputs(self) -> tuple[str, ...]:
        """Profile facts the result depends on (for provenance of the size fact)."""
        if self.category is None:
            return ("industry_code",)
        return ("industry_code", *self.category.indicators)


@dataclass(frozen=True, slots=True)
class _Table:
    indicator_names: dict[str, str]
    # digit prefix → Category, or a str reason when the prefix is not covered
    scopes: dict[str, Category | str]


@cache
def _table() -> _Table:
    with DATA_FILE.open(encoding="utf-8") as fh:
        raw = json.load(fh)
    scopes: dict[str, Category | str] = {}
    for row in raw["categories"]:
        thresholds = {
            tier: {ind: Decimal(str(v)) for ind, v in bounds.items()} for tier, bounds in row["thresholds"].items()
        }
        category = Category(
            key=row["key"],
            name=row["name"],
            indicators=tuple(row["indicators"]),
            thresholds=thresholds,
            bounds={ind: tuple((t, thresholds[t][ind]) for t in (LARGE, MEDIUM, SMALL)) for ind in row["indicators"]},
        )
        for scope in row["scope"]:
            for prefix in industries.division_prefixes(scope):
                scopes[prefix] = category
    for row in raw["not_covered"]:
        for scope in row["scope"]:
            for prefix in industries.division_prefixes(scope):
                scopes[prefix] = row["reason"]
    return _Table(indicator_names=raw["indicators"], scopes=scopes)


def categories() -> list[Category]:
    seen: dict[str, Category] = {}
    for value in _table().scopes.values():
        if isinstance(value, Category):
            seen.setdefault(value.key, value)
    return list(seen.values())


@cache
def category_for(industry_code: str) -> Category | str | None:
    """The table row for a 4-digit code (longest matching scope wins), a reason string, or None."""
    scopes = _table().scopes
    for length in (4, 3, 2):
        hit = scopes.get(industry_code[:length])
        if hit is not None:
            return hit
    return None


def tier_of(category: Category, indicator: str, value: Decimal | int) -> str:
    """The tier one indicator reaches on its own: the highest tier whose lower bound it meets."""
    for tier, bound in category.bounds[indicator]:
        if value >= bound:
            return tier
    return MICRO


@cache
def _lookup(industry_code: str) -> Category | str | None:
    """The row for a valid 4-digit code, the reason it is not covered, or None for an invalid code."""
    if not industries.is_class_code(industry_code):
        return None
    return category_for(industry_code) or "该行业不在统计上大中小微型企业划分办法（2017）范围内"


def _fmt(value: Decimal | int) -> str:
    if isinstance(value, Decimal):
        value = value.normalize()
        return f"{value:f}"
    return str(value)


def classify(
    *,
    industry_code: str | None,
    employees: int | None,
    revenue: Decimal | int | None,
    total_assets: Decimal | int | None,
) -> SizeResult:
    """Size by the 2017 table: each listed indicator gets a tier; the size is the lowest of them.

    A missing indicator leaves the size unclassified: the standard does not let us guess.
    """
    hit = _lookup(industry_code) if industry_code else None
    if hit is None:
        return SizeResult(UNCLASSIFIED, reason=REASON_UNKNOWN_INDUSTRY, basis="未登记有效的国民经济行业代码，无法划型")
    if isinstance(hit, str):
        return SizeResult(UNCLASSIFIED, reason=REASON_NOT_COVERED, basis=f"{industry_code}：{hit}")
    table = _table()
    values = {"employees": employees, "revenue": revenue, "total_assets": total_assets}
    missing = tuple(ind for ind in hit.indicators if values[ind] is None)
    if missing:
        names = "、".join(table.indicator_names[m] for m in missing)
        return SizeResult(
            UNCLASSIFIED,
            category=hit,
            reason=REASON_MISSING_INDICATOR,
            missing=missing,
            basis=f"{hit.name}：缺少{names}，无法划型",
        )
    tiers: dict[str, str] = {}
    parts = []
    size = LARGE
    for ind in hit.indicators:
        value = values[ind]
        assert value is not None  # a missing indicator returned above
        tier = tier_of(hit, ind, value)
        tiers[ind] = tier
        if RANK[tier] < RANK[size]:
            size = tier
        parts.append(f"{table.indicator_names[ind]}{_fmt(value)}{INDICATOR_UNITS[ind]}→{TIER_NAMES[tier]}")
    rule = "，取最低档" if len(tiers) > 1 else ""
    basis = f"{hit.name}：{'；'.join(parts)}{rule}→{TIER_NAMES[size]}"
    return SizeResult(size, category=hit, tiers=tiers, basis=basis)


def indicator_bounds(industry_code: str | None, indicator: str) -> tuple[Decimal, ...]:
    """The lower bounds of the 2017 table for one indicator of the industry's row (where the tier it
    reaches changes), empty when the industry is not classified or the row does not use the indicator."""
    hit = _lookup(industry_code) if industry_code else None
    if not isinstance(hit, Category) or indicator not in hit.bounds:
        return ()
    return tuple(bound for _, bound in hit.bounds[indicator])
