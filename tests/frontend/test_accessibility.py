"""Basic accessibility of the main pages: every form control has a label, headings do not skip levels."""

from __future__ import annotations

import itertools
from html.parser import HTMLParser

import pytest

from policies import services as policy_services
from policies.models import PreviewRun
from portal.accounts.roles import Role
from portal.enterprises.models import FeedImport
from portal.notices.models import DecisionNotice
from portal.receipts.models import Receipt
from tests.enterprises.factories import EnterpriseUserFactory, StaffUserFactory
from tests.frontend.support import exempt_policy, match, published_policy, software_enterprise
from tests.policies.factories import GoldenCaseFactory, PolicyVersionFactory

pytestmark = pytest.mark.django_db

UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str]] = []
        self.label_for: set[str] = set()
        self.label_depth = 0
        self.headings: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type", "") not in UNLABELLED_TYPES:
            self.controls.append({**a, "_tag": tag, "_wrapped": "1" if self.label_depth else ""})
        elif len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            self.headings.append(int(tag[1]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth -= 1


def audit(html: str) -> tuple[list[str], list[int]]:
    parser = Audit()
    parser.feed(html)
    unlabelled = [
        f"{c['_tag']} name={c.get('name')}"
        for c in parser.controls
        if not (c["_wrapped"] or c.get("id") in parser.label_for or c.get("aria-label") or c.get("aria-labelledby"))
    ]
    return unlabelled, parser.headings


def assert_accessible(html: str) -> None:
    unlabelled, headings = audit(html)
    assert unlabelled == []
    assert headings and headings[0] == 1 and headings.count(1) == 1, headings
    for before, after in itertools.pairwise(headings):
        assert after <= before + 1, f"heading skips from h{before} to h{after}: {headings}"


def test_the_audit_catches_problems() -> None:
    assert audit('<input name="x"><h1>a</h1><h3>b</h3>') == (["input name=x"], [1, 3])
    assert audit('<label>名<input name="x"></label>')[0] == []


def test_public_pages(client) -> None:
    version = published_policy()
    exempt_policy()
    pages = [
        "/",
        "/policies/",
        f"/policies/{version.policy_id}/",
        "/calculator/",
        "/calculator/?submitted=1&industry=6513&qualifications=high_tech",
        "/accounts/login/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_accessible(response.content.decode())


def test_workspace_pages(client) -> None:
    published_policy()
    exempt_policy()
    user = EnterpriseUserFactory(enterprise=software_enterprise(provenance={}))
    match(user.enterprise)
    client.force_login(user)
    notice = DecisionNotice.objects.filter(enterprise=user.enterprise).first()
    assert notice is not None  # the decisions of the match: 享受 or 需补充
    for page in ("", "profile/", "sites/", "inbox/", "notices/", f"notices/{notice.number}/", "receipts/"):
        response = client.get(f"/enterprises/{user.enterprise.credit_code}/{page}")
        assert response.status_code == 200, page
        assert_accessible(response.content.decode())
    receipt = Receipt.objects.filter(enterprise=user.enterprise).first()
    assert receipt is not None
    response = client.get(f"/receipts/{receipt.pk}/")
    assert response.status_code == 200
    assert_accessible(response.content.decode())


def test_console_pages(client) -> None:
    editor = StaffUserFactory(roles=[Role.POLICY_EDITOR, Role.REVIEWER, Role.DATA_OFFICER])
    version = published_policy()
    draft = PolicyVersionFactory()
    case = GoldenCaseFactory(version=draft)
    software_enterprise()
    preview = PreviewRun.objects.create(version=draft, requested_by=editor, on=draft.effective_from)
    policy_services.preview_run_execute(run=policy_services.preview_run_claim(run_id=preview.pk))
    feed = FeedImport.objects.create(
        source="tax",
        channel="console",
        total=1,
        processed=1,
        rejected=1,
        report=[
            {
                "row": 2,
                "credit_code": "",
                "field": "credit_code",
                "field_label": "统一社会信用代码",
                "code": "required",
                "message": "必填",
            }
        ],
    )
    client.force_login(editor)
    for url in (
        "/console/",
        "/console/policies/new/",
        f"/console/versions/{version.pk}/",
        "/console/entitlements/?status=notified",
        "/console/deliveries/",
        "/console/notices/",
        "/console/notices/?q=%3Cb%3E&kind=refused",
        "/console/recall/",
        f"/console/versions/{draft.pk}/",
        f"/console/versions/{draft.pk}/golden/new/",
        f"/console/golden/{case.pk}/edit/",
        f"/console/previews/{preview.pk}/",
        "/console/feeds/",
        "/console/dashboard/",
        f"/console/feeds/{feed.pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_accessible(response.content.decode())
