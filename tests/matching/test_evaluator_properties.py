"""Property test: the compiled evaluator against a naive reference evaluator written here from the spec.

The reference reads each fact its own plain way, combines with Kleene's truth tables, defines
`verified` semantically (the rule stays true when every unverified condition is made unknown) and
finds the smallest missing set by brute force over every subset of conditions.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import combinations, product
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.evaluator import compile_rule
from matching.profile import EnterpriseProfile, Fact, QualificationRecord, SiteRecord

# --- the reference evaluator -------------------------------------------------------------------

SECTIONS = {"C": (13, 43), "I": (63, 65), "M": (73, 75)}  # the letters the generator uses (facts.md §3)
DEPARTMENTS = {"market_regulation", "tax", "science_tech", "industry_info", "statistics", "credit"}
TAX_RATING_SOURCES = {"tax", "credit"}

AND = {
    ("met", "met"): "met",
    ("met", "unmet"): "unmet",
    ("met", "unknown"): "unknown",
    ("unmet", "met"): "unmet",
    ("unmet", "unmet"): "unmet",
    ("unmet", "unknown"): "unmet",
    ("unknown", "met"): "unknown",
    ("unknown", "unmet"): "unmet",
    ("unknown", "unknown"): "unknown",
}
OR = {(a, b): ("met" if "met" in (a, b) else "unknown" if "unknown" in (a, b) else "unmet") for a, b in AND}
NOT = {"met": "unmet", "unmet": "met", "unknown": "unknown"}


def years_between(established: date, on: date) -> int:
    """Count anniversaries one by one (29 February anniversaries fall on 1 March)."""
    years = 0
    while True:
        year = established.year + years + 1
        try:
            anniversary = established.replace(year=year)
        except ValueError:
            anniversary = date(year, 3, 1)
        if anniversary > on:
            return years
        years += 1


def under(code: str, listed: list[str]) -> bool:
    for item in listed:
        if item in SECTIONS:
            lo, hi = SECTIONS[item]
            if lo <= int(code[:2]) <= hi:
                return True
        elif code.startswith(item):
            return True
    return False


def compare(op: str, actual: Any, expected: Any) -> bool:
    x = Decimal(str(actual))
    if op == "between":
        return Decimal(str(expected[0])) <= x <= Decimal(str(expected[1]))
    y = Decimal(str(expected))
    return {"gte": x >= y, "gt": x > y, "lte": x <= y, "lt": x < y}[op]


def leaf(c: dict[str, Any], p: EnterpriseProfile, on: date) -> tuple[str, bool]:
    """(result, verified) of one condition, read naively."""
    name, op, value = c["fact"], c["op"], c["value"]
    if name == "qualification":
        kind = [q for q in p.qualifications if q.kind == value]
        valid = [q for q in kind if q.valid_from <= on and (q.valid_to is None or q.valid_to >= on)]
        if valid:
            return "met", any(q.source in DEPARTMENTS for q in valid)
        return "unmet", bool(kind) and all(q.source in DEPARTMENTS for q in kind)
    if name in ("zone", "park"):
        if not p.sites:
            return "unknown", False
        if name == "zone":
            hits = [s for s in p.sites if s.zone_code in value]
            if hits:
                return "met", any(s.source in DEPARTMENTS for s in hits)
            if any(s.zone_code is None for s in p.sites):
                return "unknown", False
        else:
            hits = [s for s in p.sites if set(s.park_codes) & set(value)]
            if hits:
                return "met", any(s.source in DEPARTMENTS for s in hits)
        return "unmet", all(s.source in DEPARTMENTS for s in p.sites)
    key = {"industry": "industry_code", "age_years": "established_on"}.get(name, name)
    fact = p.facts.get(key)
    if fact is None or fact.value is None:
        return "unknown", False
    actual = fact.value
    if name == "industry":
        ok = under(actual, value)
    elif name == "age_years":
        ok = compare(op, years_between(actual, on), value)
    elif op in ("gte", "gt", "lte", "lt", "between"):
        ok = compare(op, actual, value)
    elif op == "in":
        ok = actual in value
    elif op == "not_in":
        ok = actual not in value
    else:  # eq
        ok = actual == value
    verified = fact.source in (TAX_RATING_SOURCES if name == "tax_credit_rating" else DEPARTMENTS)
    return ("met" if ok else "unmet"), verified


def leaves_of(rule: dict[str, Any]) -> list[dict[str, Any]]:
    if "not" in rule:
        return leaves_of(rule["not"])
    if "all" in rule or "any" in rule:
        return [c for child in rule.get("all", rule.get("any")) for c in leaves_of(child)]
    return [rule]


def combine(rule: dict[str, Any], results: list[str]) -> str:
    """The rule's value from its conditions' results (in document order), by the truth tables."""
    position = iter(range(len(results)))

    def walk(node: dict[str, Any]) -> str:
        if "not" in node:
            return NOT[walk(node["not"])]
        if "all" in node or "any" in node:
            table = AND if "all" in node else OR
            values = [walk(child) for child in node.get("all", node.get("any"))]
            value = values[0]
            for other in values[1:]:
                value = table[value, other]
            return value
        return results[next(position)]

    return walk(rule)


def smallest_fix(rule: dict[str, Any], results: list[str]) -> int:
    """How few conditions must change (to met or unmet, whichever helps) for the rule to be met."""
    n = len(results)
    for size in range(n + 1):
        for chosen in combinations(range(n), size):
            for values in product(("met", "unmet"), repeat=size):
                trial = list(results)
                for i, v in zip(chosen, values, strict=True):
                    trial[i] = v
                if combine(rule, trial) == "met":
                    return size
    raise AssertionError("some assignment always makes a rule true")


# --- generators ---------------------------------------------------------------------------------

ON = st.sampled_from([date(2024, 2, 29), date(2025, 6, 30), date(2025, 12, 31), date(2026, 1, 1)])
SOURCES = st.sampled_from(["self_declared", "market_regulation", "tax", "statistics", "science_tech", "credit"])


def sublist(options: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(options), min_size=1, max_size=3, unique=True)


NUMBER_OPS = st.sampled_from(["gte", "gt", "lte", "lt", "between"])


def numeric(fact: str, points: list[Any]) -> st.SearchStrategy[dict[str, Any]]:
    def build(op: str, a: Any, b: Any) -> dict[str, Any]:
        value = sorted([a, b]) if op == "between" else a
        return {"fact": fact, "op": op, "value": value}

    return st.builds(build, NUMBER_OPS, st.sampled_from(points), st.sampled_from(points))


CONDITIONS = st.one_of(
    st.builds(
        lambda v: {"fact": "industry", "op": "under", "value": v},
        sublist(["65", "652", "6520", "C", "39", "3973", "I", "13", "M"]),
    ),
    st.builds(
        lambda op, v: {"fact": "size", "op": op, "value": v},
        st.sampled_from(["in", "not_in"]),
        sublist(["large", "medium", "small", "micro"]),
    ),
    numeric("employees", [10, 100]),
    numeric("revenue", [100, 2000.5]),
    numeric("rd_expense_ratio", [0.1, 3]),
    numeric("age_years", [1, 3, 5]),
    st.builds(lambda v: {"fact": "qualification", "op": "has", "value": v}, st.sampled_from(["high_tech", "gazelle"])),
    st.builds(lambda v: {"fact": "zone", "op": "in", "value": v}, sublist(["tech_ecology", "business_innovation"])),
    st.builds(lambda v: {"fact": "park", "op": "in", "value": v}, sublist(["hefeng_park", "taihu_science_city"])),
    st.builds(
        lambda op, v: {"fact": "tax_credit_rating", "op": op, "value": v},
        st.sampled_from(["in", "not_in"]),
        sublist(["A", "B", "D"]),
    ),
    st.builds(
        lambda f, v: {"fact": f, "op": "eq", "value": v},
        st.sampled_from(["dishonest", "above_designated_size"]),
        st.booleans(),
    ),
    st.builds(lambda v: {"fact": "foreign_investor_country", "op": "in", "value": v}, sublist(["JP", "US"])),
)

RULES = st.recursive(
    CONDITIONS,
    lambda children: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, children),
    ),
    max_leaves=7,
)


def maybe(values: list[Any]) -> st.SearchStrategy[Any]:
    return st.sampled_from([None, *values])


@st.composite
def profiles(draw: st.DrawFn) -> EnterpriseProfile:
    scalar = {
        "industry_code": maybe(["6520", "3973", "1310", "4411", "7320", "6511"]),
        "size": maybe(["large", "medium", "small", "micro"]),
        "employees": maybe([0, 9, 10, 11, 99, 100, 101]),
        "revenue": maybe([Decimal("99.99"), Decimal(100), Decimal("2000.5"), Decimal(5000)]),
        "rd_expense_ratio": maybe([Decimal("0.1"), 0.1, Decimal("2.99"), Decimal(3), Decimal(7)]),
        "established_on": maybe([date(2020, 2, 29), date(2022, 6, 30), date(2024, 7, 1), date(2025, 6, 30)]),
        "tax_credit_rating": maybe(["A", "B", "M", "D"]),
        "dishonest": maybe([True, False]),
        "above_designated_size": maybe([True, False]),
        "foreign_investor_country": maybe(["", "JP", "US", "DE"]),
    }
    facts = {}
    for key, strategy in scalar.items():
        value = draw(strategy)
        if value is not None:
            facts[key] = Fact(value, draw(SOURCES), date(2025, 1, 1))
    start = date(2025, 6, 30)
    quals = draw(
        st.lists(
            st.builds(
                lambda kind, begin, length, source: QualificationRecord(
                    kind,
                    start + timedelta(days=begin),
                    None if length is None else start + timedelta(days=length),
                    source,
                ),
                st.sampled_from(["high_tech", "gazelle"]),
                st.sampled_from([-800, -1, 0, 1]),
                st.sampled_from([None, -1, 0, 1, 184, 185]),
                SOURCES,
            ).filter(lambda q: q.valid_to is None or q.valid_to >= q.valid_from),
            max_size=3,
        )
    )
    sites = draw(
        st.lists(
            st.builds(
                lambda zone, parks, source: SiteRecord("320505407", zone, tuple(parks), source),
                maybe(["tech_ecology", "business_innovation", "advanced_manufacturing"]),
                st.lists(
                    st.sampled_from(["hefeng_park", "taihu_science_city", "finance_town"]), max_size=2, unique=True
                ),
                SOURCES,
            ),
            max_size=3,
        )
    )
    return EnterpriseProfile(credit_code="x", facts=facts, qualifications=tuple(quals), sites=tuple(sites))


OUTCOME = {"met": "eligible", "unmet": "ineligible", "unknown": "needs_info"}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule=RULES, profile=profiles(), on=ON)
def test_compiled_evaluator_matches_the_reference(rule: dict[str, Any], profile: EnterpriseProfile, on: date) -> None:
    conditions = leaves_of(rule)
    naive = [leaf(c, profile, on) for c in conditions]
    results = [r for r, _ in naive]
    value = combine(rule, results)

    outcome = compile_rule(rule).evaluate(profile, on=on)

    # every condition, then the rule, by the truth tables
    assert [c.result for c in outcome.conditions] == results
    assert [c.verified for c in outcome.conditions] == [v and r != "unknown" for r, v in naive]
    assert outcome.status == OUTCOME[value]

    # verified: the rule stays met when every unverified condition is made unknown
    only_verified = [r if v else "unknown" for r, v in naive]
    assert outcome.verified == (value == "met" and combine(rule, only_verified) == "met")

    # missing: as small as the brute-force minimum, and sufficient
    assert len(outcome.missing) == smallest_fix(rule, results)
    fixed = list(results)
    index = {c.path: i for i, c in enumerate(outcome.conditions)}
    for gap in outcome.missing:
        fixed[index[gap.path]] = "unmet" if gap.negated else "met"
    assert combine(rule, fixed) == "met"
    assert bool(outcome.missing) == (value != "met")
    assert outcome.summary
