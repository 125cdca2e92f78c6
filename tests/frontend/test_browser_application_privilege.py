"""In a real browser: the console application page as an auditor (not a deciding role: contact and phone
masked, file names hidden, no download link, a direct file URL refused with 403) and as a 审核人 (everything,
and the file downloads)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.accounts.roles import Role
from portal.applications import services
from tests.applications.support import PDF_BYTES, apply_policy, decide, pdf, xlsx
from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory, StaffUserFactory
from tests.frontend.test_browser_flows import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_console_application_page_masked_for_an_auditor_full_for_a_reviewer(
    page, live_server, screenshot, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    applicant = EnterpriseUserFactory(
        username="qiye-privacy",
        last_name="周",
        first_name="晓红",
        enterprise=EnterpriseFactory(name="苏州隐私示例有限公司"),
    )
    version = apply_policy(title="研发项目补助（示例）")
    decide(applicant.enterprise, version)
    application = services.application_submit(
        enterprise=applicant.enterprise,
        version=version,
        by=applicant,
        contact_name="王小明",
        contact_phone="13812345678",
        statement="申请研发补助（示例）",
        files={1: [pdf("王小明身份证.pdf")], 2: [xlsx()]},
    )
    attachment = application.attachments.get(material="项目申报书")
    StaffUserFactory(username="shenji", roles=[Role.AUDITOR])
    StaffUserFactory(username="shenhe", last_name="李", first_name="审核", roles=[Role.REVIEWER])
    url = f"{live_server.url}/console/applications/{application.pk}/"
    file_url = f"{url}attachments/{attachment.pk}/"

    # An auditor: masked, no link, no decision form, the file URL refused.
    login(page, live_server, "shenji")
    page.goto(url)
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("王**")
    expect(facts).to_contain_text("138****5678")
    expect(facts).to_contain_text("已脱敏：完整信息只有审核人、数据专员可见")
    expect(page.locator("#attachments-restricted")).to_contain_text("只有审核人、数据专员和申报企业可以查看和下载")
    expect(page.get_by_text("***.pdf")).to_be_visible()
    expect(page.get_by_role("list", name="办理进度")).to_contain_text("周**")
    expect(page.locator("a[href*='/attachments/']")).to_have_count(0)
    expect(page.get_by_role("heading", name="办理", exact=True)).to_have_count(0)
    expect(page.locator("#decide-restricted")).to_contain_text("由审核人、数据专员负责，您的角色只能查看")
    body = page.content()
    for secret in ("王小明", "13812345678", "王小明身份证", "周晓红"):
        assert secret not in body, secret
    screenshot("auditor")
    refused = page.goto(file_url)
    assert refused is not None and refused.status == 403
    expect(page.get_by_text("申报材料只有审核人、数据专员和申报企业可以下载")).to_be_visible()
    assert "%PDF" not in page.content()
    screenshot("auditor-file-refused")

    # A reviewer: everything, and the file downloads.
    page.context.clear_cookies()
    login(page, live_server, "shenhe")
    page.goto(url)
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("王小明")
    expect(facts).to_contain_text("13812345678")
    expect(facts).not_to_contain_text("已脱敏")
    expect(page.get_by_role("list", name="办理进度")).to_contain_text("周晓红")
    expect(page.get_by_role("heading", name="办理", exact=True)).to_be_visible()
    screenshot("reviewer")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="王小明身份证.pdf").click()
    download = download_info.value
    assert download.suggested_filename == "王小明身份证.pdf"
    assert Path(download.path()).read_bytes() == PDF_BYTES

    page.get_by_role("button", name="受理").click()
    expect(page.get_by_text("已办理，企业将收到消息通知。")).to_be_visible()

    # The enterprise: its own data in full, the reviewer only as 审核人.
    page.context.clear_cookies()
    login(page, live_server, "qiye-privacy")
    page.goto(f"{live_server.url}/enterprises/{applicant.enterprise.credit_code}/applications/{application.pk}/")
    timeline = page.get_by_role("list", name="办理进度")
    expect(timeline).to_contain_text("审核人")
    expect(timeline).to_contain_text("已受理")
    expect(page.locator("dl.facts")).to_contain_text("13812345678")
    for secret in ("李审核", "shenhe"):
        assert secret not in page.content(), secret
    screenshot("enterprise")
