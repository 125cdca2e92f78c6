"""Micro-benchmark of the evaluator: `python -m devtools.bench.evaluator` prints evaluations per second.

A five-condition rule over synthetic profiles (sample data, 示例), compiled once; no Django needed.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from decimal import Decimal

from matching.core.evaluator import compile_rule, evaluate
from matching.core.profile import EnterpriseProfile, Fact, QualificationRecord, SiteRecord

RULE = {
    "all": [
        {"fact": "industry", "op": "under", "value": ["39", "6520", "358"]},
        {"fact": "employees", "op": "gte", "value": 50},
        {"fact": "qualification", "op": "has", "value": "high_tech"},
        {
            "any": [
                {"fact": "zone", "op": "in", "value": ["tech_ecology"]},
                {"fact": "revenue", "op": "gte", "value": 2000},
            ]
        },
    ]
}

INDUSTRIES = ("3971", "6520", "3581", "5211", "7212", "3973")


def profiles(n: int) -> list[EnterpriseProfile]:
    day = date(2024, 6, 30)
    result = []
    for i in range(n):
        facts = {
            "industry_code": Fact(INDUSTRIES[i % len(INDUSTRIES)], "market_regulation", day),
            "employees": Fact(10 + (i * 37) % 400, "statistics", day),
            "revenue": Fact(Decimal(500 + (i * 911) % 9000), "tax", day),
        }
        if i % 7 == 0:
            del facts["employees"]
        high_tech = QualificationRecord("high_tech", date(2023, 1, 1), date(2025, 12, 31), "science_tech")
        quals = (high_tech,) if i % 3 else ()
        sites = (SiteRecord("320505407", "tech_ecology" if i % 2 else "business_innovation"),)
        result.append(EnterpriseProfile(credit_code=f"{i:018d}", facts=facts, qualifications=quals, sites=sites))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    people = profiles(args.profiles)
    on = date(2025, 1, 1)
    compiled = compile_rule(RULE)

    start = time.perf_counter()
    counts: dict[str, int] = {}
    for _ in range(args.rounds):
        for profile in people:
            status = str(compiled.evaluate(profile, on=on).status)
            counts[status] = counts.get(status, 0) + 1
    elapsed = time.perf_counter() - start
    runs = args.rounds * len(people)
    print(f"compiled: {runs} evaluations in {elapsed:.2f}s = {runs / elapsed:,.0f}/s  {counts}")

    start = time.perf_counter()
    for profile in people:
        evaluate(RULE, profile, on=on)
    elapsed = time.perf_counter() - start
    print(f"evaluate() with cache: {len(people) / elapsed:,.0f}/s")

    start = time.perf_counter()
    sample = people[: min(len(people), 2000)]
    for profile in sample:
        compiled.evaluate(profile, on=on).to_dict()
    elapsed = time.perf_counter() - start
    print(f"with full explanation (to_dict): {len(sample) / elapsed:,.0f}/s")


if __name__ == "__main__":
    main()
