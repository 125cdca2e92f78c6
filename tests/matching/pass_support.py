"""A synthetic district with settled records, upset in a repeatable way, for the spread one pass's tests."""

from __future__ import annotations

from typing import Any

from devtools.bench import district as synthetic_district
from matching.models import MatchRecord
from matching.services import match_everything, match_profiles_refresh
from tests.policies.factories import PolicyVersionFactory

RULES: list[dict[str, Any]] = [
    {"fact": "employees", "op": "gte", "value": 0},  # everyone eligible or needs_info: a record each
    {"fact": "tax_credit_rating", "op": "in", "value": ["A", "B"]},
    {"fact": "industry", "op": "under", "value": ["39", "65"]},
    {"fact": "qualification", "op": "has", "value": "high_tech"},
    {"fact": "dishonest", "op": "eq", "value": False},
    {"any": [{"fact": "size", "op": "in", "value": ["small", "micro"]}, {"fact": "revenue", "op": "lt", "value": 500}]},
]

FIELDS = ("outcome", "verified", "states", "explanation", "previous_outcome", "previous_verified")


def settled_district(n: int, *, seed: int = 11) -> list[int]:
    """`n` synthetic enterprises and one published version per rule of RULES, every decision stored."""
    synthetic_district.build_district(n, seed=seed)
    match_profiles_refresh()
    versions = [PolicyVersionFactory(published=True, rule=rule).pk for rule in RULES]
    match_everything(one_pass=False)
    return versions


def flipped(version_id: int) -> list[int]:
    """Every fourth record of a version: the ones `upset` flips (fixed once, so an upset can be repeated)."""
    return list(MatchRecord.objects.filter(policy_version_id=version_id).order_by("pk").values_list("pk", flat=True))[
        ::4
    ]


def upset(versions: list[int], flip: list[int]) -> None:
    """Records lost (every record of the first version) and wrong (`flip`'s verified flags inverted): two
    versions of six change, in every chunk; fewer than the share that hands a pass to the per-policy path."""
    MatchRecord.objects.filter(policy_version_id=versions[0]).delete()
    for record in MatchRecord.objects.filter(pk__in=flip):
        MatchRecord.objects.filter(pk=record.pk).update(verified=not record.verified)


def records() -> dict[tuple[int, int], tuple[Any, ...]]:
    """Every stored decision with what it shows (not when, nor which run, wrote it)."""
    return {
        (row[0], row[1]): row[2:]
        for row in MatchRecord.objects.values_list("enterprise_id", "policy_version_id", *FIELDS)
    }
