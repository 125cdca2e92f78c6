"""Due dates in working days (pure).

A working day is Monday to Friday. Statutory holidays (法定节假日) and their make-up working days (调休)
are NOT modelled: a due date that falls in a holiday week is that many weekdays later, not later still.
"""

from __future__ import annotations

from datetime import date, timedelta


def is_working_day(day: date) -> bool:
    return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (start itself not counted; days >= 0)."""
    if days < 0:
        raise ValueError("days must be >= 0")
    day = start
    left = days
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day
