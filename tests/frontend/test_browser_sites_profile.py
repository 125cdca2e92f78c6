"""In a real browser: filing 一照多址 sites (refusals only after a refused filing, the address text decides,
duplicates refused, withdrawal) and the profile's qualifications (expired, tags, the enterprise's own edits)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.enterprises.models import Qualification, Site
from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory, QualificationFactory, SiteFactory
from tests.enterprises.support import seed_places
from tests.frontend.test_browser_flows import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BRANCH = "分支机构登记"


def file_site(page, address: str, township: str) -> None:
    page.get_by_label("经营场所地址").fill(address)
    page.get_by_label("所在街道（镇）").select_option(township)
    page.get_by_role("button", name="提交备案").click()


def test_enterprise_files_and_withdraws_sites(page, live_server, screenshot) -> None:
    seed_places()
    enterprise = EnterpriseFactory(name="苏州一照多址示例有限公司")
    SiteFactory(enterprise=enterprise, kind=Site.Kind.REGISTERED, address="苏州高新区狮山路88号")
    EnterpriseUserFactory(username="duozhi", enterprise=enterprise)
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, live_server, "duozhi")
    page.goto(f"{live_server.url}/enterprises/{enterprise.credit_code}/sites/")

    # The empty form says what the filing is for, and no refusal.
    expect(page.get_by_role("heading", name="新增经营场所备案（一照多址）")).to_be_visible()
    expect(page.get_by_text(BRANCH)).to_have_count(0)
    expect(page.locator(".errorlist")).to_have_count(0)
    screenshot("empty-form")

    file_site(page, "上海市浦东新区世纪大道100号", "320505002")
    error = page.locator("#id_address_error")
    expect(error).to_contain_text("上海市浦东新区")
    expect(error).to_contain_text(BRANCH)
    expect(page.get_by_label("经营场所地址")).to_have_value("上海市浦东新区世纪大道100号")  # kept for correction
    screenshot("shanghai-refused")

    file_site(page, "苏州工业园区星湖街328号", "320505002")
    expect(page.locator("#id_address_error")).to_contain_text("苏州工业园区")
    expect(page.locator("#id_address_error")).to_contain_text(BRANCH)

    file_site(page, "苏州高新区通安镇华金路9号", "320505002")
    expect(page.locator("#id_township_error")).to_contain_text("通安镇")

    file_site(page, "狮山路88号", "320505002")
    expect(page.locator("#id_address_error")).to_contain_text("住所")
    assert Site.objects.filter(enterprise=enterprise).count() == 1

    file_site(page, "苏州高新区科技城科灵路78号", "320505407")
    expect(page.get_by_text("经营场所已备案，即时生效。")).to_be_visible()
    expect(page.get_by_role("cell", name="苏州高新区科技城科灵路78号", exact=True)).to_be_visible()
    expect(page.get_by_text(BRANCH)).to_have_count(0)
    screenshot("accepted")

    file_site(page, "科灵路 ７８ 号楼", "320505407")
    expect(page.locator("#id_address_error")).to_contain_text("已经备案")
    assert Site.objects.filter(enterprise=enterprise).count() == 2
    screenshot("duplicate-refused")

    page.get_by_role("button", name="撤销备案：苏州高新区科技城科灵路78号").click()
    expect(page.get_by_text("已撤销经营场所备案：苏州高新区科技城科灵路78号")).to_be_visible()
    expect(page.get_by_role("cell", name="苏州高新区科技城科灵路78号", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="撤销备案：苏州高新区狮山路88号")).to_have_count(0)  # the registered address
    assert list(Site.objects.filter(enterprise=enterprise).values_list("kind", flat=True)) == ["registered"]
    screenshot("withdrawn")


def test_profile_shows_expired_qualifications_and_tags_and_edits_own_ones(page, live_server, screenshot) -> None:
    enterprise = EnterpriseFactory(name="苏州资质示例有限公司")
    today = timezone.localdate()
    ended = today - timedelta(days=10)
    QualificationFactory(enterprise=enterprise, kind="tech_sme", valid_from=date(2023, 1, 1), valid_to=ended)
    own = QualificationFactory(
        enterprise=enterprise, kind="gazelle", source="self_declared", certificate_no="", valid_from=date(2025, 1, 1)
    )
    EnterpriseUserFactory(username="zizhi", enterprise=enterprise)
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, live_server, "zizhi")
    page.goto(f"{live_server.url}/enterprises/{enterprise.credit_code}/profile/")

    quals = page.locator("section", has=page.locator("#quals-heading"))
    expired = quals.locator("tr", has_text="科技型中小企业")
    expect(expired).to_contain_text("已过期")
    expect(expired).to_contain_text(f"{ended.isoformat()}到期")
    expect(expired).to_contain_text("已核验")
    expect(expired).to_contain_text("部门核验，不能自行修改")
    gazelle = quals.locator("tr", has_text="瞪羚企业")
    expect(gazelle).to_contain_text("自行填报")
    facts = page.locator("section", has=page.locator("#facts-heading"))
    expect(facts.get_by_role("row", name="从业人员（人）")).to_contain_text("已核验")
    expect(facts.locator("tr", has_text="企业规模")).to_contain_text("已核验")
    screenshot("profile")

    gazelle.locator("summary", has_text="修改").click()
    gazelle.get_by_label("有效期止").fill("2024-01-01")
    gazelle.get_by_role("button", name="保存修改").click()
    expect(page.locator("tr", has_text="瞪羚企业")).to_contain_text("有效期止不能早于有效期起")
    screenshot("edit-refused")
    page.locator("tr", has_text="瞪羚企业").get_by_label("有效期止").fill(ended.isoformat())
    page.locator("tr", has_text="瞪羚企业").get_by_role("button", name="保存修改").click()
    expect(page.get_by_text("已修改资质：瞪羚企业")).to_be_visible()
    expect(page.locator("tr", has_text="瞪羚企业")).to_contain_text("已过期")
    own.refresh_from_db()
    assert own.valid_to == ended

    page.get_by_role("button", name="撤回资质：瞪羚企业").click()
    expect(page.get_by_text("已撤回自行填报的资质：瞪羚企业")).to_be_visible()
    assert not Qualification.objects.filter(pk=own.pk).exists()
    assert Qualification.objects.filter(enterprise=enterprise, kind="tech_sme").exists()
    screenshot("withdrawn")
