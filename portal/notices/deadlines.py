"""The remedy deadlines a decision notice states, computed from the notice's date (pure, no Django).

- 行政复议: 《中华人民共和国行政复议法》（2023年修订）第二十条: within sixty days of knowing of the act.
- 行政诉讼: 《中华人民共和国行政诉讼法》第四十六条: within six months of knowing of the act.

Periods are counted as 《中华人民共和国民法典》第二百零一条、第二百零二条 say: the day of the notice is not
counted (the period starts the next day), so sixty days end on notice date + 60 days; a period in months ends
on the corresponding day of the last month, or on that month's last day when it has no such day (31 August +
6 months → 28 February, or 29 in a leap year). A last day falling on a statutory holiday moves to the next
working day (第二百零三条); the portal keeps no holiday calendar, so the notice says so instead of moving it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

REVIEW_DAYS = 60
LITIGATION_MONTHS = 6


def add_months(day: date, months: int) -> date:
    """The corresponding day `months` later; the month's last day when that month is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Deadlines:
    review: date  # last day to apply for 行政复议
    litigation: date  # last day to bring 行政诉讼


def deadlines_from(notice_date: date) -> Deadlines:
    return Deadlines(
        review=notice_date + timedelta(days=REVIEW_DAYS),
        litigation=add_months(notice_date, LITIGATION_MONTHS),
    )
