"""Where a condition's result can change with the evaluation date alone: its date boundaries.

A fact whose result reads the evaluation date declares, per condition, the boundaries at which the
result may change (`registry.FactSpec.date_boundaries`); between two boundaries the result stays as
it was, for the same data. The nightly run (`matching.nightly`, with `boundaries.date_crossings`)
re-decides only the enterprises whose data put a boundary between the last run's date and today.

    Anniversary(key, years)   the profile date `key` (established_on) turns `years` years old:
                              age_years conditions (gte 3 → 3; gt 3 → 4; lt 3 → 3; lte 3 → 4;
                              between [3, 5] → 3 and 6)
    Validity(kind)            a qualification record of `kind` starts (valid_from) or ends (the day
                              after valid_to): `has` conditions

A new date-based fact declares its boundaries here (a new kind needs its reading in
matching.nightly, which runs the full pass for a kind it does not know, so nothing is missed).
tests/matching/test_nightly_boundaries.py holds every registry fact to its declaration: for random
conditions and profiles, the result is the same on two dates with no declared boundary between.
Pure Python, no Django imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


def reached_on(on: date, years: int) -> date | None:
    """The latest date `d` with whole years from d to `on` >= `years` (None: no such date).

    Whole years count the anniversary itself (registry._age_on), so age >= k  ⇔
    d <= (on.year - k, on.month, on.day); a 29 February that year lacks becomes the 28th (no date lies
    between). The same cut-off as core.sql's age conditions.
    """
    year = on.year - years
    if year < 1:
        return None
    try:
        return on.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


@dataclass(frozen=True, slots=True, order=True)
class Anniversary:
    """The result may change on the day the profile date `key` becomes `years` years old."""

    key: str
    years: int

    def crossed(self, since: date, until: date) -> tuple[date | None, date] | None:
        """The base dates that turned `years` old after `since` and by `until`: (after, upto), meaning
        after < d <= upto (after None: no lower bound); None when no date did."""
        upto = reached_on(until, self.years)
        if upto is None or until <= since:
            return None
        after = reached_on(since, self.years)
        if after is not None and after >= upto:
            return None
        return after, upto


@dataclass(frozen=True, slots=True, order=True)
class Validity:
    """The result may change on a `kind` qualification's first valid day or on the day after its last:
    between `since` and `until` exactly when since < valid_from <= until or since <= valid_to < until."""

    kind: str


DateBoundary = Anniversary | Validity
