"""The real size derivation (the 2017 table, portal.enterprises) in the threshold search: moving an
indicator to the computed value flips the outcome of a size rule; anything short of it does not."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from matching.core.evaluator import compile_rule
from matching.core.profile import EnterpriseProfile, Fact
from matching.core.thresholds import UP, number_thresholds
from portal.enterprises.selectors import SIZE_DERIVATION

ON = date(2026, 12, 7)
INDUSTRIES = ["6513", "3973", "5211", "7320", "4711", "1310"]


def _profile(industry: str, employees: int, revenue: Decimal, assets: Decimal) -> EnterpriseProfile:
    facts = {
        "industry_code": Fact(industry, "market_regulation"),
        "employees": Fact(employees, "statistics"),
        "revenue": Fact(revenue, "tax"),
        "total_assets": Fact(assets, "tax"),
    }
    size = SIZE_DERIVATION.derive(facts)
    if size is not None:
        facts["size"] = size
    return EnterpriseProfile("x", facts=facts)


def _moved(profile: EnterpriseProfile, key: str, value: Any) -> EnterpriseProfile:
    facts = dict(profile.facts)
    facts[key] = Fact(value, facts[key].source)
    facts.pop("size", None)
    size = SIZE_DERIVATION.derive(facts)
    if size is not None:
        facts["size"] = size
    return replace(profile, facts=facts)


@settings(max_examples=150, deadline=None)
@given(
    industry=st.sampled_from(INDUSTRIES),
    employees=st.integers(0, 2000),
    revenue=st.integers(0, 300_000).map(lambda n: Decimal(n) / 10),
    assets=st.integers(0, 300_000).map(lambda n: Decimal(n) / 10),
    sizes=st.lists(st.sampled_from(["large", "medium", "small", "micro"]), min_size=1, max_size=2, unique=True),
    data=st.data(),
)
def test_size_thresholds_flip_exactly_there(
    industry: str, employees: int, revenue: Decimal, assets: Decimal, sizes: list[str], data: st.DataObject
) -> None:
    compiled = compile_rule({"fact": "size", "op": "in", "value": sizes})
    profile = _profile(industry, employees, revenue, assets)
    status = compiled.evaluate(profile, on=ON).status
    for t in number_thresholds(compiled, profile, on=ON, derivations=(SIZE_DERIVATION,)):
        key = t.fact
        step = 1 if key == "employees" else Decimal("0.01")
        assert compiled.evaluate(_moved(profile, key, t.value), on=ON).status == t.after != status
        assert t.derived is not None and t.derived[0] == "size"
        sign = 1 if t.direction == UP else -1
        steps = int((t.value - t.current) * sign / step)
        if steps > 1:
            k = data.draw(st.integers(1, steps - 1))
            for short in (t.current + sign * k * step, t.value - sign * step):
                assert compiled.evaluate(_moved(profile, key, short), on=ON).status == status
