"""The notice pages and PDFs: the enterprise and staff read them; nobody else learns anything (404)."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from pypdf import PdfReader

from portal.notices.models import DecisionNotice, NoticeCounter
from portal.notices.services import NoticeSpec, notices_issue
from tests.applications.support import apply_policy
from tests.enterprises.factories import EnterpriseFactory, StaffUserFactory

from .support import assert_complete

pytestmark = pytest.mark.django_db

Kind = DecisionNotice.Kind

FACTS = {
    "schema": 1,
    "summary": "符合全部条件（示例）",
    "conditions": [
        {
            "fact": "rd_expense_ratio",
            "fact_label": "研发费用占比",
            "requirement": "研发费用占比不低于3%",
            "actual": "6.5%",
            "source_label": "区税务局",
            "as_of": "2026-06-30",
            "verified": True,
            "result": "met",
        }
    ],
}


@pytest.fixture
def notice(alice) -> DecisionNotice:
    version = apply_policy(mode="exempt", title="研发投入奖励（示例）")
    [notice] = notices_issue(
        items=[
            NoticeSpec(
                alice.enterprise.pk,
                Kind.GRANTED,
                "pages",
                version.pk,
                decision="予以享受（免申即享）。",
                reasons="符合全部条件（示例）",
                explanation=FACTS,
                link="/workspace/",
            )
        ]
    )
    return notice


def urls(notice: DecisionNotice) -> list[str]:
    own = f"/enterprises/{notice.credit_code}/notices/"
    return [
        own,
        f"{own}{notice.number}/",
        f"{own}{notice.number}/pdf/",
        "/console/notices/",
        f"/console/notices/{notice.number}/",
        f"/console/notices/{notice.number}/pdf/",
    ]


def snapshot() -> list[tuple]:
    return [
        *DecisionNotice.objects.order_by("pk").values_list("pk", "number", "decision", "issued_at"),
        *NoticeCounter.objects.values_list("year", "last"),
    ]


def pdf_text(content: bytes) -> tuple[str, set[str]]:
    reader = PdfReader(io.BytesIO(content))
    text = "".join(page.extract_text() for page in reader.pages)
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    return text, fonts


def test_the_enterprise_reads_its_notice_and_downloads_the_pdf(alice, notice) -> None:
    client = Client()
    client.force_login(alice)
    listed = client.get(f"/enterprises/{notice.credit_code}/notices/").content.decode()
    assert notice.number in listed and "决定通知书" in listed

    html = client.get(f"/enterprises/{notice.credit_code}/notices/{notice.number}/").content.decode()
    assert_complete(notice, html)
    assert "研发费用占比不低于3%" in html and "区税务局" in html and "2026-06-30" in html

    response = client.get(f"/enterprises/{notice.credit_code}/notices/{notice.number}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f'filename="{notice.number}.pdf"' in response["Content-Disposition"]
    text, fonts = pdf_text(response.content)
    # The text is real Chinese text (extractable), in an embedded CJK font: no empty boxes.
    assert_complete(notice, text)
    for words in ("行政复议", "行政诉讼", "数据纠错", "研发投入奖励（示例）", "区税务局"):
        assert words in text.replace("\n", "").replace(" ", "")
    assert any("CJK" in font for font in fonts), fonts


def test_staff_find_it_in_the_console(staff_reviewer, notice) -> None:
    client = Client()
    client.force_login(staff_reviewer)
    listed = client.get("/console/notices/", {"q": notice.number}).content.decode()
    assert notice.number in listed
    assert notice.number not in client.get("/console/notices/", {"q": "HQ-1999-000001"}).content.decode()
    assert notice.number in client.get("/console/notices/", {"kind": "granted"}).content.decode()
    assert notice.number not in client.get("/console/notices/", {"kind": "refused"}).content.decode()
    assert client.get("/console/notices/", {"kind": "<script>"}).status_code == 200
    html = client.get(f"/console/notices/{notice.number}/").content.decode()
    assert_complete(notice, html)
    pdf = client.get(f"/console/notices/{notice.number}/pdf/")
    assert pdf.status_code == 200
    assert notice.number in pdf_text(pdf.content)[0]


def test_strangers_get_404_everywhere_and_nothing_changes(alice, charlie, notice) -> None:
    before = snapshot()
    stranger = Client()
    stranger.force_login(charlie)
    for url in urls(notice):
        assert stranger.get(url).status_code == 404, url
        assert stranger.post(url).status_code in (404, 405), url
    # Through the stranger's own enterprise address, the number is not found either.
    own = f"/enterprises/{charlie.enterprise.credit_code}/notices/{notice.number}/"
    assert stranger.get(own).status_code == 404
    assert stranger.get(own + "pdf/").status_code == 404
    # The notice's own enterprise on the console addresses: 404 as well.
    member = Client()
    member.force_login(alice)
    for url in urls(notice)[3:]:
        assert member.get(url).status_code == 404, url
    # Signed out: nothing about the notice (sent to sign in, or 404).
    anonymous = Client()
    for url in urls(notice):
        response = anonymous.get(url)
        assert response.status_code in (302, 404), url
        assert notice.number.encode() not in response.content
    # A staff member without any role is no staff: 404 on the console too.
    nobody = StaffUserFactory(roles=[])
    roleless = Client()
    roleless.force_login(nobody)
    for url in urls(notice)[3:]:
        assert roleless.get(url).status_code == 404, url
    assert snapshot() == before


def test_an_unknown_number_is_404(alice, staff_reviewer, notice) -> None:
    client = Client()
    client.force_login(alice)
    assert client.get(f"/enterprises/{notice.credit_code}/notices/HQ-2026-999999/").status_code == 404
    assert client.get(f"/enterprises/{notice.credit_code}/notices/%3Cscript%3E/pdf/").status_code == 404
    other = EnterpriseFactory()
    client.force_login(staff_reviewer)
    # Staff may open any enterprise's pages, but a notice only under its own enterprise's address.
    assert client.get(f"/enterprises/{other.credit_code}/notices/{notice.number}/").status_code == 404
