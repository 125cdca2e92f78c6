"""What every 决定通知书 must say, checked on the stored row and on the rendered text."""

from __future__ import annotations

import re

from portal.notices.deadlines import add_months
from portal.notices.models import DecisionNotice

NUMBER = re.compile(r"^HQ-20\d{2}-\d{6}$")


def chinese_date(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def assert_complete(notice: DecisionNotice, text: str) -> None:
    """Every required part of `notice` is in `text` (the page's HTML, or the PDF's extracted text)."""
    import datetime as dt

    flat = re.sub(r"\s+", "", text)  # PDF extraction breaks lines anywhere
    assert NUMBER.match(notice.number), notice.number
    assert notice.number in flat
    assert notice.title in flat and notice.get_kind_display() in flat
    assert notice.enterprise_name in flat and notice.credit_code in flat
    # The legal basis: the policy, its 文号 or the statement that none is known, its source section.
    assert notice.policy_title in flat
    assert (notice.document_number or "（未载明文号）") in flat
    if notice.source_section:
        assert re.sub(r"\s+", "", notice.source_section) in flat
        assert "苏高新管〔2021〕60号" in flat
    # The issuing department: the policy's responsible department.
    assert notice.department and notice.department in flat
    # The data used, each with its source and date.
    for fact in notice.facts:
        assert fact["source"] in flat
        if fact["as_of"]:
            assert fact["as_of"] in flat
    # How to get data corrected and how to object.
    assert "数据纠错" in flat and notice.correction_link in flat
    assert notice.correction_link == f"/enterprises/{notice.credit_code}/profile/"
    assert "异议" in flat
    # The remedies and their computed last days.
    assert notice.review_deadline == notice.issued_on + dt.timedelta(days=60)
    assert notice.litigation_deadline == add_months(notice.issued_on, 6)
    assert "行政复议" in flat and chinese_date(notice.review_deadline) in flat
    assert "行政诉讼" in flat and chinese_date(notice.litigation_deadline) in flat
    assert "行政复议法" in flat and "行政诉讼法" in flat
