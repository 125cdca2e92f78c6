"""A synthetic but realistic district for benchmarks: enterprises, qualifications, sites, policies.

Written with COPY (PostgreSQL only). Figures are synthetic (示例): drawn to look like a high-tech
zone (electronics, equipment, software, services; mostly small and micro firms; a tenth with a
second site; high-tech and 专精特新 qualifications on a minority), never official statistics.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from matching.core.registry import FACTS, generated_facts, sample_facts
from matching.core.vocabulary import DEPARTMENT_SOURCES, QUALIFICATION_KINDS, TOWNSHIPS

DEPARTMENTS = sorted(DEPARTMENT_SOURCES)
FACT_DEPARTMENT = {
    "industry_code": "market_regulation",
    "established_on": "market_regulation",
    "employees": "statistics",
    "revenue": "tax",
    "total_assets": "tax",
    "rd_expense_ratio": "science_tech",
    "above_designated_size": "statistics",
    "foreign_investor_country": "market_regulation",
    "tax_credit_rating": "tax",
    "dishonest": "credit",
}
GENERATED = generated_facts()
GENERATED_COLUMNS = tuple(FACTS[name].profile_key for name in GENERATED)
FACT_DEPARTMENT.update({FACTS[name].profile_key: FACTS[name].shared_by[0] for name in GENERATED})
# (industry prefix, weight): the plan's 2+3+X and the services around them.
INDUSTRY_MIX = [
    ("39", 22),
    ("34", 6),
    ("35", 8),
    ("38", 7),
    ("40", 3),
    ("36", 2),
    ("33", 3),
    ("26", 2),
    ("27", 2),
    ("29", 3),
    ("65", 14),
    ("64", 3),
    ("51", 8),
    ("52", 3),
    ("72", 5),
    ("73", 3),
    ("75", 3),
    ("70", 1),
    ("44", 1),
    ("54", 1),
    ("59", 1),
    ("61", 1),
    ("62", 2),
    ("66", 1),
]
QUALIFICATION_RATES = {
    "high_tech": 0.12,
    "tech_sme": 0.10,
    "specialized_sme": 0.04,
    "gazelle": 0.02,
    "little_giant": 0.004,
    "single_champion": 0.0005,
    "unicorn_cultivation": 0.001,
    "service_manufacturing": 0.005,
}
assert set(QUALIFICATION_RATES) == set(QUALIFICATION_KINDS)


def _industry_codes() -> dict[str, list[str]]:
    from portal.enterprises.industries import codes

    all_codes = [c for c in codes() if len(c) == 4 and c.isdigit()]
    return {prefix: [c for c in all_codes if c.startswith(prefix)] for prefix, _ in INDUSTRY_MIX}


def copy_rows(table: str, columns: list[str], rows: Iterator[tuple]) -> int:
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def build_district(n: int, *, seed: int = 2026) -> dict[str, int]:
    """Insert `n` enterprises with qualifications and sites; returns row counts."""
    from portal.enterprises import credit_code, sizing
    from portal.enterprises.models import Enterprise, Park, Qualification, Site, Township

    rng = random.Random(seed)
    industries = _industry_codes()
    prefixes = [p for p, _ in INDUSTRY_MIX]
    weights = [w for _, w in INDUSTRY_MIX]
    today = timezone.localdate()
    now = timezone.now()
    start_id = (Enterprise.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1

    def enterprise_rows() -> Iterator[tuple]:
        for i in range(n):
            code = rng.choice(industries[rng.choices(prefixes, weights)[0]])
            employees = max(1, int(rng.lognormvariate(2.8, 1.3)))
            revenue = Decimal(max(1, int(employees * rng.lognormvariate(3.6, 0.9)))).quantize(Decimal("0.01"))
            assets = (revenue * Decimal(str(round(rng.uniform(0.4, 2.5), 2)))).quantize(Decimal("0.01"))
            values: dict[str, Any] = {
                "industry_code": code,
                "established_on": today - timedelta(days=rng.randint(90, 30 * 365)),
                "employees": employees if rng.random() > 0.03 else None,
                "revenue": revenue if rng.random() > 0.05 else None,
                "total_assets": assets if rng.random() > 0.08 else None,
                "above_designated_size": revenue >= 2000 if rng.random() > 0.1 else None,
                "foreign_investor_country": rng.choices(["", "JP", "US", "DE", "KR", "SG"], [90, 4, 2, 1, 1, 2])[0],
                "rd_expense_ratio": Decimal(str(round(rng.uniform(0, 12), 2))) if rng.random() > 0.35 else None,
                "tax_credit_rating": rng.choices(["A", "B", "M", "C", "D"], [35, 40, 15, 7, 3])[0]
                if rng.random() > 0.05
                else None,
                "dishonest": rng.random() < 0.01 if rng.random() > 0.05 else None,
            }
            # The facts whose synthetic values come from their own definitions (appended: the draws
            # above stay as they were).
            values.update(sample_facts(rng, values, names=GENERATED))
            provenance = {
                key: {
                    "source": FACT_DEPARTMENT[key] if rng.random() < 0.75 else "self_declared",
                    "as_of": (today - timedelta(days=rng.randint(0, 300))).isoformat(),
                }
                for key, value in values.items()
                if value is not None
            }
            size = sizing.classify(
                industry_code=code,
                employees=values["employees"],
                revenue=values["revenue"],
                total_assets=values["total_assets"],
            )
            body = f"B{start_id + i:07d}"
            yield (
                credit_code.build(org_body=body),
                f"示例企业{start_id + i:07d}（基准测试）",
                code,
                values["established_on"],
                values["employees"],
                values["revenue"],
                values["total_assets"],
                values["above_designated_size"],
                values["foreign_investor_country"] or "",
                values["rd_expense_ratio"],
                values["tax_credit_rating"] or "",
                values["dishonest"],
                *(values[key] for key in GENERATED_COLUMNS),
                size.size,
                size.basis[:300],
                json.dumps(provenance),
                now,
                now,
            )

    columns = [
        "credit_code",
        "name",
        "industry_code",
        "established_on",
        "employees",
        "revenue",
        "total_assets",
        "above_designated_size",
        "foreign_investor_country",
        "rd_expense_ratio",
        "tax_credit_rating",
        "dishonest",
        *GENERATED_COLUMNS,
        "size",
        "size_basis",
        "provenance",
        "created_at",
        "updated_at",
    ]
    enterprises = copy_rows(Enterprise._meta.db_table, columns, enterprise_rows())
    ids = list(Enterprise.objects.filter(pk__gte=start_id).order_by("pk").values_list("pk", flat=True))

    def qualification_rows() -> Iterator[tuple]:
        for enterprise_id in ids:
            for kind, rate in QUALIFICATION_RATES.items():
                if rng.random() < rate:
                    begin = today - timedelta(days=rng.randint(0, 4 * 365))
                    end = begin + timedelta(days=3 * 365 - 1)  # 3-year certificates; some have lapsed
                    source = "science_tech" if kind in ("high_tech", "tech_sme", "gazelle") else "industry_info"
                    if rng.random() < 0.1:
                        source = "self_declared"
                    yield (enterprise_id, kind, "", begin, end, source, today, now, now)

    qualifications = copy_rows(
        Qualification._meta.db_table,
        [
            "enterprise_id",
            "kind",
            "certificate_no",
            "valid_from",
            "valid_to",
            "source",
            "as_of",
            "created_at",
            "updated_at",
        ],
        qualification_rows(),
    )
    townships = dict(Township.objects.values_list("code", "pk"))
    township_ids = [townships[c] for c in TOWNSHIPS if c in townships]

    def site_rows() -> Iterator[tuple]:
        for enterprise_id in ids:
            for kind in ["registered"] + (["operating"] * rng.choice([1, 2]) if rng.random() < 0.1 else []):
                yield (enterprise_id, kind, "苏州高新区示例路1号", rng.choice(township_ids), "market_regulation", now)

    sites = copy_rows(
        Site._meta.db_table, ["enterprise_id", "kind", "address", "township_id", "source", "filed_at"], site_rows()
    )
    park_ids = list(Park.objects.values_list("pk", flat=True))
    through = Site.parks.through
    # A list, not a server-side cursor: the connection is busy with the COPY while rows are produced.
    site_ids = list(Site.objects.filter(enterprise_id__gte=start_id).values_list("pk", flat=True))
    parks = copy_rows(
        through._meta.db_table,
        [through._meta.get_field("site").column, through._meta.get_field("park").column],
        ((site_id, rng.choice(park_ids)) for site_id in site_ids if rng.random() < 0.25),
    )
    return {"enterprises": enterprises, "qualifications": qualifications, "sites": sites, "site_parks": parks}


CHAINS = [
    ["39"],
    ["33", "34", "35", "36", "37", "38", "40"],
    ["3973", "6520", "3985", "3562"],
    ["358"],
    ["3825", "3824", "384"],
    ["65"],
    ["6431", "6432", "6531", "6532"],
    ["72", "73", "75"],
    ["51", "52"],
]


def random_rule(rng: random.Random) -> dict[str, Any]:
    """A policy rule shaped like the catalogue's: an industry and size target plus a few checks."""
    conditions: list[dict[str, Any]] = [{"fact": "industry", "op": "under", "value": rng.choice(CHAINS)}]
    conditions.append(
        {
            "fact": "size",
            "op": "in",
            "value": rng.choice(
                [["small", "micro"], ["medium", "small"], ["large", "medium"], ["medium", "small", "micro"]]
            ),
        }
    )
    if rng.random() < 0.5:
        conditions.append({"fact": "qualification", "op": "has", "value": rng.choice(list(QUALIFICATION_RATES)[:4])})
    if rng.random() < 0.5:
        conditions.append({"fact": "tax_credit_rating", "op": "in", "value": ["A", "B"]})
    if rng.random() < 0.6:
        conditions.append({"fact": "dishonest", "op": "eq", "value": False})
    if rng.random() < 0.25:
        conditions.append(
            {
                "fact": "zone",
                "op": "in",
                "value": [rng.choice(["business_innovation", "advanced_manufacturing", "tech_ecology"])],
            }
        )
    if rng.random() < 0.3:
        conditions.append({"fact": "rd_expense_ratio", "op": "gte", "value": rng.choice([3, 4, 5])})
    if rng.random() < 0.2:
        conditions.append(
            {
                "any": [
                    {"fact": "age_years", "op": "lte", "value": rng.choice([3, 5, 8])},
                    {"fact": "above_designated_size", "op": "eq", "value": True},
                ]
            }
        )
    return {"all": conditions}


def publish_versions(m: int, *, seed: int = 7, key_prefix: str = "bench") -> list[int]:
    """Create `m` published policy versions with random realistic rules; returns their ids."""
    from policies.models import Policy, PolicyVersion

    rng = random.Random(seed)
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_active": False})
    policies = Policy.objects.bulk_create([Policy(key=f"{key_prefix}-{seed}-{i}", created_by=user) for i in range(m)])
    versions = PolicyVersion.objects.bulk_create(
        [
            PolicyVersion(
                policy=policy,
                number=1,
                status=PolicyVersion.Status.PUBLISHED,
                title=f"示例政策{i}（基准测试）",
                benefit_kind="subsidy",
                mode=rng.choice(["exempt", "apply"]),
                effective_from=date(2020, 1, 1),
                rule=random_rule(rng),
                author=user,
                contact_name="示例",
                contact_phone="示例",
            )
            for i, policy in enumerate(policies)
        ]
    )
    return [v.pk for v in versions]
