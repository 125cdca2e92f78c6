"""core.gate: the industry index leaves out only rules that are surely ineligible for the enterprise."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from matching.core.evaluator import compile_rule
from matching.core.gate import IndustryIndex
from matching.core.profile import EnterpriseProfile, Fact
from tests.matching.strategies import FACT_CONDITIONS, ON, RULES, profiles

# Rules that start with an industry condition under a root `all` (the catalogue's usual shape), mixed
# with any rule the generator makes (industry nested, negated, alone, or absent).
GATED = st.builds(
    lambda industry, rest: {"all": [industry, *rest]},
    FACT_CONDITIONS["industry"],
    st.lists(RULES, max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(rules=st.lists(st.one_of(GATED, RULES), min_size=1, max_size=8), profile=profiles(), on=ON)
def test_every_rule_left_out_is_surely_ineligible(
    rules: list[dict[str, Any]], profile: EnterpriseProfile, on: date
) -> None:
    compiled = [compile_rule(rule) for rule in rules]
    candidates = IndustryIndex(compiled).candidates(profile)

    assert candidates == sorted(set(candidates)) and set(candidates) <= set(range(len(rules)))
    for position, rule in enumerate(compiled):
        if position not in candidates:
            assert rule.industry_gate is not None
            assert rule.surely_ineligible(profile, on=on)
        elif rule.industry_gate is not None and "industry_code" in profile.facts:
            # Kept for its industry: the enterprise's code is under the gate's codes.
            assert rule.industry_gate(profile.facts["industry_code"].value)


def test_an_enterprise_of_unknown_industry_keeps_every_rule() -> None:
    rules = [
        compile_rule(
            {
                "all": [
                    {"fact": "industry", "op": "under", "value": ["65"]},
                    {"fact": "dishonest", "op": "eq", "value": False},
                ]
            }
        ),
        compile_rule({"fact": "size", "op": "in", "value": ["small"]}),
    ]
    index = IndustryIndex(rules)
    unknown = EnterpriseProfile(credit_code="x", facts={})
    in_65 = EnterpriseProfile(credit_code="x", facts={"industry_code": Fact("6520", "market_regulation", None)})
    in_39 = EnterpriseProfile(credit_code="x", facts={"industry_code": Fact("3973", "market_regulation", None)})

    assert index.candidates(unknown) == [0, 1]
    assert index.candidates(in_65) == [0, 1]
    assert index.candidates(in_39) == [1]
    # A section letter admits its divisions: C (manufacturing) holds 39.
    letter = IndustryIndex([compile_rule({"all": [{"fact": "industry", "op": "under", "value": ["C"]}]})])
    assert letter.candidates(in_39) == [0] and letter.candidates(in_65) == []
