"""关注 and 申报日历: policies an enterprise follows, threshold warnings, the calendar and its iCal feed."""
