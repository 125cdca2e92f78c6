"""Which combination of mutually exclusive benefits gives the most (pure: no Django).

Benefits conflict when they share an exclusion group for the same period. Within one connected set of
conflicting benefits, the best combination is the conflict-free subset with the largest total stated
amount (最高金额); exhaustive for the small sets a single enterprise meets, greedy beyond that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations

EXHAUSTIVE_UP_TO = 12


@dataclass(frozen=True)
class Option:
    key: int  # the policy
    groups: frozenset[str]
    amount: Decimal | None  # the policy's stated 最高金额 (万元); None when it states none


@dataclass(frozen=True)
class Advice:
    options: tuple[Option, ...]  # the connected set, in the order given
    groups: tuple[str, ...]
    best: tuple[Option, ...]  # empty when some option states no amount: the enterprise chooses
    total: Decimal | None

    @property
    def by_amount(self) -> bool:
        return bool(self.best)


def _conflict(a: Option, b: Option) -> bool:
    return bool(a.groups & b.groups)


def _free(chosen: Sequence[Option]) -> bool:
    return all(not _conflict(a, b) for a, b in combinations(chosen, 2))


def best_combination(options: Sequence[Option]) -> tuple[tuple[Option, ...], Decimal]:
    """The conflict-free subset with the largest total amount (ties: fewer items, then the order given)."""
    amounts = [o.amount or Decimal(0) for o in options]
    best: tuple[int, ...] = ()
    best_total = Decimal(-1)
    if len(options) <= EXHAUSTIVE_UP_TO:
        for size in range(1, len(options) + 1):
            for picked in combinations(range(len(options)), size):
                total = sum((amounts[i] for i in picked), Decimal(0))
                if total > best_total and _free([options[i] for i in picked]):
                    best, best_total = picked, total
    else:
        chosen: list[int] = []
        for i in sorted(range(len(options)), key=lambda i: -amounts[i]):
            if _free([options[j] for j in (*chosen, i)]):
                chosen.append(i)
        best, best_total = tuple(sorted(chosen)), sum((amounts[i] for i in chosen), Decimal(0))
    return tuple(options[i] for i in best), max(best_total, Decimal(0))


def advise(options: Sequence[Option]) -> list[Advice]:
    """The connected sets of conflicting options (two or more each), each with its best combination by
    amount when every option in it states one."""
    remaining = list(options)
    advice: list[Advice] = []
    while remaining:
        component = [remaining.pop(0)]
        grew = True
        while grew:
            grew = False
            for other in list(remaining):
                if any(_conflict(other, member) for member in component):
                    component.append(other)
                    remaining.remove(other)
                    grew = True
        if len(component) < 2:
            continue
        ordered = tuple(o for o in options if o in component)
        groups = tuple(sorted(set().union(*(o.groups for o in ordered))))
        if all(o.amount is not None for o in ordered):
            best, total = best_combination(ordered)
            advice.append(Advice(ordered, groups, best, total))
        else:
            advice.append(Advice(ordered, groups, (), None))
    return advice
