"""Which of many compiled rules an enterprise can meet, judged by its industry code alone (pure).

Most catalogue rules are a root `all` with an industry condition (`industry under …`). An enterprise
outside those industries fails that condition, so such a rule is surely ineligible for it
(`CompiledRule.surely_ineligible`). Asking each rule costs a call per rule; with hundreds of rules and
one enterprise, `IndustryIndex.candidates` answers for all of them with the same three look-ups an
`IndustryMatcher` makes (the 2-digit, 3-digit and 4-digit prefixes of the code). Every rule it leaves
out is one whose industry condition the enterprise does not meet; the rules it returns still need
`surely_ineligible` and `evaluate`.
"""

from __future__ import annotations

from collections.abc import Sequence

from .evaluator import CompiledRule
from .profile import EnterpriseProfile
from .registry import FACTS

_INDUSTRY_KEY = FACTS["industry"].profile_key


class IndustryIndex:
    """Rules (by position in the sequence given) keyed by the industry prefixes their root `all` admits."""

    __slots__ = ("_by2", "_by3", "_by4", "_count", "_ungated")

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        self._count = len(rules)
        ungated: list[int] = []
        by2: dict[str, list[int]] = {}
        by3: dict[str, list[int]] = {}
        by4: dict[str, list[int]] = {}
        for position, rule in enumerate(rules):
            gate = rule.industry_gate
            if gate is None:
                ungated.append(position)
                continue
            for prefixes, index in ((gate.by2, by2), (gate.by3, by3), (gate.by4, by4)):
                for prefix in prefixes:
                    index.setdefault(prefix, []).append(position)
        self._ungated = tuple(ungated)
        self._by2, self._by3, self._by4 = by2, by3, by4

    def candidates(self, profile: EnterpriseProfile) -> list[int]:
        """Positions (ascending) of the rules whose industry condition this enterprise meets, cannot be
        judged on (no industry known), or that have none."""
        fact = profile.facts.get(_INDUSTRY_KEY)
        code = fact.value if fact is not None else None
        if code.__class__ is not str or not code:  # unknown: the condition is unknown, not unmet
            return list(range(self._count))
        found = set(self._ungated)
        found.update(self._by2.get(code[:2], ()))
        found.update(self._by3.get(code[:3], ()))
        found.update(self._by4.get(code, ()))
        return sorted(found)
