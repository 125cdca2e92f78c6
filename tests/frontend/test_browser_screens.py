"""Every main page in a real browser, at desktop (1280 wide) and phone (390x844) widths.

For each page: a full-page screenshot (test-artifacts/screenshots/screens-<viewport>-<page>.png, to look at),
no horizontal overflow on the phone, one h1 and no skipped heading levels, an accessible name for every visible
form control, and no console errors, failed local requests or requests to another host (no CDN).
The data is built once and both viewports reuse it, each in its own browser context.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from matching.models import MatchRecord
from matching.services import match_profiles_refresh
from policies import services as policy_services
from policies.models import PolicyVersion, PreviewRun
from portal.accounts.roles import Role
from portal.applications import services as application_services
from portal.enterprises.models import FeedImport, Township
from portal.entitlements import services as entitlement_services
from portal.entitlements.models import Entitlement
from portal.notifications.models import Delivery
from tests.applications.support import apply_policy, full_files
from tests.enterprises.factories import (
    EnterpriseFactory,
    EnterpriseUserFactory,
    SiteFactory,
    StaffUserFactory,
    UserFactory,
    provenance_for,
)
from tests.frontend.conftest import ARTIFACTS
from tests.frontend.support import SOFTWARE_HIGH_TECH, exempt_policy, match, published_policy, software_enterprise
from tests.notifications.factories import NotificationFactory
from tests.policies.factories import GoldenCaseFactory, PolicyVersionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

# Headings that the screen reader sees (rendered, even if visually hidden), in document order.
HEADINGS_JS = """() => [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')]
  .filter(h => h.getClientRects().length > 0).map(h => Number(h.tagName[1]))"""

# Visible form controls without an accessible name from <label>, aria-label or aria-labelledby.
UNNAMED_JS = """() => {
  const skip = new Set(['hidden', 'submit', 'button', 'reset', 'image']);
  const text = n => ((n && n.textContent) || '').trim();
  const bad = [];
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (skip.has((el.getAttribute('type') || '').toLowerCase())) continue;
    if (el.getClientRects().length === 0) continue;
    const ids = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
    const named = [...(el.labels || [])].some(l => text(l))
      || (el.getAttribute('aria-label') || '').trim() !== ''
      || ids.some(id => text(document.getElementById(id)));
    if (!named) bad.push(el.outerHTML.slice(0, 120));
  }
  return bad;
}"""

OVERFLOW_JS = "() => [document.documentElement.scrollWidth, window.innerWidth]"

# The outermost elements sticking out of the viewport (not the content of a scroll box), for the failure message.
WIDEST_JS = """() => {
  const out = e => e.getBoundingClientRect().right > window.innerWidth + 1;
  const scrolls = e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
  const inScrollBox = e => {
    for (let p = e.parentElement; p; p = p.parentElement) if (scrolls(p)) return true;
    return false;
  };
  // An absolutely positioned element escapes a scroll box that is not its containing block.
  const escapes = e => ['absolute', 'fixed'].includes(getComputedStyle(e).position);
  return [...document.querySelectorAll('body *')].filter(e => out(e) && (!inScrollBox(e) || escapes(e)))
    .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '')
      + ' ' + Math.round(e.getBoundingClientRect().width) + 'px');
}"""


@dataclass
class Screen:
    name: str
    path: str
    user: str | None  # None: anonymous
    before: Callable[[Page], None] | None = None  # after load, before the checks and the screenshot


def open_all_details(page: Page) -> None:
    """Open every 为什么符合 / 还差什么 / data table, so the screenshot shows what a user can unfold."""
    page.evaluate("() => document.querySelectorAll('main details').forEach(d => { d.open = true; })")


def industry_autocomplete(page: Page) -> None:
    field = page.get_by_label("所属行业")
    field.fill("软件")
    expect(page.locator("#industry-options option")).not_to_have_count(0)


def build_data(settings: Any, tmp_path: Any) -> dict[str, Any]:
    """Demo-like data for every page: one enterprise with something in every group, staff work in progress."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    today = timezone.localdate()
    enterprise = software_enterprise(name="苏州澄芯示例软件有限公司", total_assets=None)
    # Two self-declared facts (自行填报) beside the department-verified ones (已核验).
    enterprise.provenance |= provenance_for(
        {"revenue": enterprise.revenue, "rd_expense_ratio": enterprise.rd_expense_ratio}, source="self_declared"
    )
    enterprise.save(update_fields=["provenance"])
    SiteFactory(enterprise=enterprise, kind="registered", address="苏州高新区狮山路88号金融广场1幢1501室")
    SiteFactory(enterprise=enterprise, township=Township.objects.get(code="320505407"), address="科灵路78号")
    user = EnterpriseUserFactory(username="qiye-screens", enterprise=enterprise)
    staff = StaffUserFactory(
        username="staff-screens",
        roles=[Role.POLICY_EDITOR, Role.REVIEWER, Role.DATA_OFFICER, Role.AUDITOR],
    )

    exempt = exempt_policy(title="高新技术企业认定奖励（示例）", department="区科技局", chains=["ngit"])
    objected = exempt_policy(title="软件企业首版次奖励（示例）", department="区工信局")
    applied_version = apply_policy(
        title="软件企业研发补贴（示例）", department="区科技局", amount_max_wan=50, chains=["ngit"]
    )
    open_version = apply_policy(
        title="数字经济项目扶持资金（示例）",
        department="区工信局",
        application_end=today + dt.timedelta(days=12),
        materials=["营业执照（系统已自动调取，无需上传）", "项目申报书", "项目投资明细表", "近一年财务报表"],
    )
    published_policy(
        title="高成长软件企业奖励（示例）",
        department="区财政局",
        rule={"all": [*SOFTWARE_HIGH_TECH["all"], {"fact": "total_assets", "op": "gte", "value": 5000}]},
    )
    published_policy(
        title="规上工业企业技术改造补贴（示例）",
        department="区工信局",
        rule={"fact": "industry", "op": "under", "value": ["C"]},
    )
    others = [EnterpriseFactory() for _ in range(3)]
    for n, other in enumerate(others):
        SiteFactory(enterprise=other, township=Township.objects.get(code="320505002" if n % 2 else "320505407"))
    match_profiles_refresh()
    for each in [enterprise, *others]:
        match(each)

    entitlement = Entitlement.objects.get(enterprise=enterprise, policy_version=objected)
    entitlement_services.entitlement_object(
        entitlement=entitlement, by=user, reason="本企业2025年未获该资质，认定依据有误（示例）。"
    )
    application = application_services.application_submit(
        enterprise=enterprise,
        version=applied_version,
        by=user,
        contact_name="张敏",
        contact_phone="0512-66668888",
        statement="申请2026年度研发补贴（示例）",
        files=full_files(),
    )
    application_services.application_accept(application=application, by=staff, note="材料齐全，予以受理（示例）")
    NotificationFactory(enterprise=enterprise, title="政策更新：数字经济项目扶持资金（示例）申报即将截止")

    # Staff work: a version in review with golden cases and a finished preview, a draft, a feed import, deliveries.
    in_review = PolicyVersionFactory(
        title="软件企业研发奖励（示例）", mode="exempt", status=PolicyVersion.Status.IN_REVIEW
    )
    GoldenCaseFactory(version=in_review, name="6520 软件企业持高新证书")
    GoldenCaseFactory(version=in_review, name="制造业企业", profile={"industry_code": "3311"}, expected="eligible")
    draft = PolicyVersionFactory(title="集成电路设计企业流片补贴（示例）")
    GoldenCaseFactory(version=draft, name="6520 软件企业持高新证书")
    run = PreviewRun.objects.create(version=in_review, requested_by=staff, on=today)
    policy_services.preview_run_execute(run=policy_services.preview_run_claim(run_id=run.pk))
    feed = FeedImport.objects.create(
        source="statistics",
        channel="console",
        filename="统计局2025年报（示例）.csv",
        submitted_by=staff,
        total=3,
        processed=3,
        accepted=2,
        changed=1,
        rejected=1,
        report=[
            {
                "row": 3,
                "credit_code": others[0].credit_code,
                "field": "employees",
                "field_label": "从业人员",
                "code": "min_value",
                "message": "从业人员不能为负数",
            }
        ],
    )
    notification = NotificationFactory(enterprise=others[0])
    for n, (channel, status) in enumerate([("email", "sent")] * 4 + [("email", "dead"), ("sms", "failed")]):
        Delivery.objects.create(
            notification=notification,
            user=UserFactory(),
            channel=channel,
            address=f"qiye{n}@example.com",
            status=status,
            attempts=0 if status == "sent" else 5,
            last_error="" if status == "sent" else "SMTP 550 mailbox unavailable（示例）",
        )
    for n, other in enumerate(others):  # older eligible matches, so the weekly chart has a trend
        at = timezone.now() - timedelta(days=7 * (n + 1))
        MatchRecord.objects.filter(enterprise=other).update(first_decided_at=at, decided_at=at)

    code = enterprise.credit_code
    return {
        "enterprise": "qiye-screens",
        "staff": "staff-screens",
        "screens": [
            Screen("home", "/", None),
            Screen("policies", "/policies/", None),
            Screen("policies-filtered", "/policies/?mode=exempt&department=区科技局", None),
            Screen("policy-apply", f"/policies/{open_version.policy_id}/", None),
            Screen("policy-exempt", f"/policies/{exempt.policy_id}/", None),
            Screen("calculator", "/calculator/", None, industry_autocomplete),
            Screen(
                "calculator-results",
                "/calculator/?submitted=1&industry=6513&qualifications=high_tech",
                None,
                open_all_details,
            ),
            Screen("login", "/accounts/login/", None),
            Screen("dashboard", f"/enterprises/{code}/", "enterprise", open_all_details),
            Screen("profile", f"/enterprises/{code}/profile/", "enterprise"),
            Screen("sites", f"/enterprises/{code}/sites/", "enterprise"),
            Screen("inbox", f"/enterprises/{code}/inbox/", "enterprise"),
            Screen("applications", f"/enterprises/{code}/applications/", "enterprise"),
            Screen("apply-form", f"/enterprises/{code}/apply/{open_version.pk}/", "enterprise"),
            Screen("application", f"/enterprises/{code}/applications/{application.pk}/", "enterprise"),
            Screen("console", "/console/", "staff"),
            Screen("console-new-policy", "/console/policies/new/", "staff"),
            Screen("console-editor", f"/console/versions/{draft.pk}/", "staff"),
            Screen("console-review", f"/console/versions/{in_review.pk}/", "staff"),
            Screen("console-golden", f"/console/versions/{draft.pk}/golden/new/", "staff"),
            Screen("console-preview", f"/console/previews/{run.pk}/", "staff", open_all_details),
            Screen("console-feeds", "/console/feeds/", "staff"),
            Screen("console-feed", f"/console/feeds/{feed.pk}/", "staff"),
            Screen("console-entitlements", "/console/entitlements/?status=objected", "staff"),
            Screen("console-deliveries", "/console/deliveries/?status=dead", "staff"),
            Screen("console-applications", "/console/applications/?status=accepted", "staff"),
            Screen("console-application", f"/console/applications/{application.pk}/", "staff"),
            Screen("console-dashboard", "/console/dashboard/", "staff"),
        ],
    }


def login(page: Page, base: str, username: str) -> None:
    page.goto(base + "/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("pw")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


class Watch:
    """Console errors, page errors, failed or refused local requests and any request to another host."""

    def __init__(self, page: Page, host: str) -> None:
        self.problems: list[str] = []

        def on_request(request: Any) -> None:
            url = urlparse(request.url)
            if url.scheme in ("http", "https", "ws", "wss") and url.netloc != host:
                self.problems.append(f"request to another host: {request.url}")

        def on_failed(request: Any) -> None:
            # A poll cut short by the next navigation is aborted, not failed.
            if request.failure != "net::ERR_ABORTED":
                self.problems.append(f"request failed: {request.url} {request.failure}")

        def on_response(response: Any) -> None:
            if response.status >= 400:
                self.problems.append(f"HTTP {response.status}: {response.url}")

        page.on("request", on_request)
        page.on("requestfailed", on_failed)
        page.on("response", on_response)
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"console error: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))

    def take(self) -> list[str]:
        problems, self.problems = self.problems, []
        return problems


def check(page: Page, viewport: str) -> list[str]:
    problems = []
    if viewport == "phone":
        scroll_width, inner_width = page.evaluate(OVERFLOW_JS)
        if scroll_width > inner_width + 1:
            problems.append(f"horizontal overflow {scroll_width}px > {inner_width}px: {page.evaluate(WIDEST_JS)}")
    levels = page.evaluate(HEADINGS_JS)
    if levels.count(1) != 1 or levels[0] != 1:
        problems.append(f"needs exactly one h1, first: {levels}")
    skips = [(a, b) for a, b in itertools.pairwise(levels) if b > a + 1]
    if skips:
        problems.append(f"heading levels skip {skips}: {levels}")
    problems += [f"control without an accessible name: {html}" for html in page.evaluate(UNNAMED_JS)]
    return problems


def test_every_main_page_at_desktop_and_phone_width(
    browser: Browser, live_server, settings, tmp_path, celery_eager
) -> None:
    data = build_data(settings, tmp_path)
    base = live_server.url
    host = urlparse(base).netloc
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    shots = 0
    for viewport, size in VIEWPORTS.items():
        context = browser.new_context(viewport=size, locale="zh-CN")
        try:
            page = context.new_page()
            watch = Watch(page, host)
            signed_in: str | None = None
            for screen in data["screens"]:
                if screen.user != signed_in:
                    context.clear_cookies()
                    if screen.user:
                        login(page, base, data[screen.user])
                    signed_in = screen.user
                    watch.take()
                response = page.goto(base + screen.path)
                page.wait_for_load_state("networkidle")
                problems = [] if response and response.ok else [f"status {response and response.status}"]
                if screen.before:
                    screen.before(page)
                problems += check(page, viewport)
                page.screenshot(path=str(ARTIFACTS / f"screens-{viewport}-{screen.name}.png"), full_page=True)
                shots += 1
                problems += watch.take()
                failures += [f"[{viewport}] {screen.name} ({screen.path}): {p}" for p in problems]
        finally:
            context.close()
    assert shots == 2 * len(data["screens"])
    assert failures == [], "\n".join(failures)
