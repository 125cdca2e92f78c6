"""The remedy deadlines: sixty days for 行政复议, six months (month-end aware) for 行政诉讼."""

from __future__ import annotations

from datetime import date

import pytest

from portal.notices.deadlines import add_months, deadlines_from


@pytest.mark.parametrize(
    ("notice", "review", "litigation"),
    [
        (date(2026, 3, 10), date(2026, 5, 9), date(2026, 9, 10)),
        # Month ends: the corresponding day, or the last day of a shorter month.
        (date(2026, 8, 31), date(2026, 10, 30), date(2027, 2, 28)),
        (date(2027, 8, 31), date(2027, 10, 30), date(2028, 2, 29)),  # leap year
        (date(2026, 8, 29), date(2026, 10, 28), date(2027, 2, 28)),
        (date(2026, 3, 31), date(2026, 5, 30), date(2026, 9, 30)),
        (date(2026, 12, 31), date(2027, 3, 1), date(2027, 6, 30)),  # across the year; February has 28 days
        (date(2026, 7, 15), date(2026, 9, 13), date(2027, 1, 15)),
        (date(2028, 1, 1), date(2028, 3, 1), date(2028, 7, 1)),  # 2028: 29 days in February
    ],
)
def test_deadlines(notice: date, review: date, litigation: date) -> None:
    deadlines = deadlines_from(notice)
    assert deadlines.review == review
    assert deadlines.litigation == litigation


def test_add_months_keeps_the_day_when_the_month_has_it() -> None:
    assert add_months(date(2026, 1, 30), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 1, 30), 2) == date(2026, 3, 30)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 5, 31), 12) == date(2027, 5, 31)
