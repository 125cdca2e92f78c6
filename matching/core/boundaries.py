"""Which date boundaries the live rules and policies put between two nightly runs (pure).

`date_crossings(rules, periods, since, until)` reads the parsed rule trees (each condition's
`FactSpec.date_boundaries`, core.dates) and the policy versions' dates, and says what the run of
`until` must re-decide after the run of `since`, the data being unchanged:

- `AnniversaryCrossing`: enterprises whose `key` date lies in (after, upto] reached `years` years; the
  versions whose rules have that boundary;
- `ValidityCrossing`: enterprises with a `kind` qualification whose valid_from is in (since, until] or
  whose valid_to is in [since, until); the versions whose rules test that kind;
- `PolicyCrossing`: a version whose effective period (生效/失效) or application window (申报开始/截止)
  has a boundary in between. An effective-period crossing is re-decided for every enterprise
  (`whole_versions`). A window crossing is reported only: no decision reads the application window (it
  moves pushes, which the reminders send on the day, not outcomes), so the version keeps its enterprise
  crossings like any other. A decision that one day reads the window changes the matching code, and
  with it `engine_stamp`: the next nightly run is then a full pass.

The caller reads the dates (SQL) and decides the enterprises found. A version re-decided whole is left
out of the enterprise crossings, and so is one not in effect on `until` with no crossing (it decides
everyone ineligible on both days). A boundary of a kind this module does not know is returned in
`unknown`: the caller then runs the full pass. Pure Python, no Django imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from .dates import Anniversary, DateBoundary, Validity
from .tree import Condition, Node, iter_leaves


@dataclass(frozen=True, slots=True)
class PolicyDates:
    """A version's own dates: its effective period and its application window (each end optional)."""

    effective_from: date
    effective_to: date | None = None
    application_start: date | None = None
    application_end: date | None = None

    def in_effect_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


@dataclass(frozen=True, slots=True)
class AnniversaryCrossing:
    key: str  # the profile date (established_on)
    years: int
    after: date | None  # exclusive lower bound of the base date; None: none
    upto: date  # inclusive upper bound
    versions: frozenset[int]


@dataclass(frozen=True, slots=True)
class ValidityCrossing:
    kind: str
    since: date  # valid_from in (since, until], or valid_to in [since, until)
    until: date
    versions: frozenset[int]


POLICY_EFFECTIVE = "effective"
POLICY_WINDOW = "window"


@dataclass(frozen=True, slots=True)
class PolicyCrossing:
    version: int
    reason: str  # POLICY_EFFECTIVE or POLICY_WINDOW
    day: date  # the boundary crossed (the first such day of the version)


@dataclass(frozen=True)
class Crossings:
    anniversaries: tuple[AnniversaryCrossing, ...] = ()
    validities: tuple[ValidityCrossing, ...] = ()
    policies: tuple[PolicyCrossing, ...] = ()
    unknown: tuple[DateBoundary, ...] = field(default=())

    @property
    def whole_versions(self) -> frozenset[int]:
        """The versions to re-decide for every enterprise: those whose effective period has a boundary in
        between (a window crossing decides nothing, see the module's docstring)."""
        return frozenset(p.version for p in self.policies if p.reason == POLICY_EFFECTIVE)


def rule_boundaries(tree: Node) -> frozenset[DateBoundary]:
    """Every date boundary a rule's conditions declare (empty: the rule never reads the date)."""
    found: set[DateBoundary] = set()
    for _path, leaf, _negated in iter_leaves(tree):
        if isinstance(leaf, Condition):
            found.update(leaf.spec.date_boundaries(leaf.op, leaf.value))
    return frozenset(found)


def _first_in(days: Iterable[tuple[date | None, bool]], since: date, until: date) -> date | None:
    """The first boundary day d (since < d <= until) of (day, starts_on_the_day_after) pairs."""
    crossed = []
    for day, after in days:
        if day is None:
            continue
        if after:  # a last day (effective_to, application_end): the state changes the next day
            if since <= day < until:
                crossed.append(day)
        elif since < day <= until:
            crossed.append(day)
    return min(crossed) if crossed else None


def policy_crossing(version: int, dates: PolicyDates, *, since: date, until: date) -> PolicyCrossing | None:
    """The version's own date boundary between the two runs, effective period first."""
    day = _first_in([(dates.effective_from, False), (dates.effective_to, True)], since, until)
    if day is not None:
        return PolicyCrossing(version, POLICY_EFFECTIVE, day)
    day = _first_in([(dates.application_start, False), (dates.application_end, True)], since, until)
    if day is not None:
        return PolicyCrossing(version, POLICY_WINDOW, day)
    return None


def date_crossings(
    *, rules: Mapping[int, Node], periods: Mapping[int, PolicyDates], since: date, until: date
) -> Crossings:
    """What moved between the run of `since` and the run of `until` (since <= until) by the dates alone.

    `rules`: version id → parsed rule of every live (published) version; `periods`: their dates.
    """
    if until < since:
        raise ValueError(f"until ({until}) is before since ({since})")
    policies = []
    for version in sorted(rules):
        crossing = policy_crossing(version, periods[version], since=since, until=until)
        if crossing is not None:
            policies.append(crossing)
    whole = {p.version for p in policies if p.reason == POLICY_EFFECTIVE}
    by_boundary: dict[DateBoundary, set[int]] = {}
    for version, tree in rules.items():
        if version in whole or not periods[version].in_effect_on(until):
            continue
        for boundary in rule_boundaries(tree):
            by_boundary.setdefault(boundary, set()).add(version)
    anniversaries: list[AnniversaryCrossing] = []
    validities: list[ValidityCrossing] = []
    unknown: list[DateBoundary] = []
    for boundary in sorted(by_boundary, key=lambda b: (type(b).__name__, repr(b))):
        versions = frozenset(by_boundary[boundary])
        if isinstance(boundary, Anniversary):
            span = boundary.crossed(since, until)
            if span is not None:
                anniversaries.append(AnniversaryCrossing(boundary.key, boundary.years, span[0], span[1], versions))
        elif isinstance(boundary, Validity):
            if since < until:
                validities.append(ValidityCrossing(boundary.kind, since, until, versions))
        else:  # a kind declared by a new fact that this module cannot place
            unknown.append(boundary)
    return Crossings(tuple(anniversaries), tuple(validities), tuple(policies), tuple(unknown))
