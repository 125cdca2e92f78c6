"""The 申报日历 as iCalendar (RFC 5545), built with the `icalendar` library."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event

from .selectors import CalendarEntry

PRODID = "-//Huiqi//申报日历//ZH"


def build_calendar(
    entries: Iterable[CalendarEntry], *, name: str, base_url: str, stamp: datetime, remind_days: int = 3
) -> bytes:
    """One all-day event per application window (开始 to 截止, inclusive) and one on each deadline day,
    with a reminder `remind_days` before it (NOTIFY_APPLY_DEADLINE_DAYS, as the push reminder).

    UIDs are stable per policy version, so a calendar client updates an event when a window moves."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    for entry in entries:
        version = entry.version
        url = f"{base_url}/policies/{version.policy_id}/"
        note = f"{entry.why}{'，已申报' if entry.applied else ''}。政策详情：{url}"
        if entry.start is not None and entry.end is not None:
            window = Event()
            window.add("uid", f"pv{version.pk}-window@huiqi")
            window.add("dtstamp", stamp)
            window.add("summary", f"申报期：{version.title}")
            window.add("dtstart", entry.start)
            window.add("dtend", entry.end + timedelta(days=1))  # DTEND of an all-day event is exclusive
            window.add("description", note)
            window.add("url", url)
            calendar.add_component(window)
        elif entry.start is not None:
            opening = Event()
            opening.add("uid", f"pv{version.pk}-start@huiqi")
            opening.add("dtstamp", stamp)
            opening.add("summary", f"开始申报：{version.title}")
            opening.add("dtstart", entry.start)
            opening.add("dtend", entry.start + timedelta(days=1))
            opening.add("description", note)
            opening.add("url", url)
            calendar.add_component(opening)
        if entry.end is not None:
            deadline = Event()
            deadline.add("uid", f"pv{version.pk}-deadline@huiqi")
            deadline.add("dtstamp", stamp)
            deadline.add("summary", f"申报截止：{version.title}")
            deadline.add("dtstart", entry.end)
            deadline.add("dtend", entry.end + timedelta(days=1))
            deadline.add("description", note)
            deadline.add("url", url)
            if not entry.applied:
                alarm = Alarm()
                alarm.add("action", "DISPLAY")
                alarm.add("description", f"{version.title}将于{entry.end.isoformat()}截止申报")
                alarm.add("trigger", timedelta(days=-remind_days))
                deadline.add_component(alarm)
            calendar.add_component(deadline)
    return calendar.to_ical()
