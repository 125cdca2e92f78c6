"""Console pages in a real browser: a data officer's upload through a real worker, the dashboard, the preview."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from matching.models import MatchRecord
from policies.models import PolicyVersion
from portal.accounts.roles import Role
from portal.enterprises.models import Township
from portal.entitlements.models import Entitlement
from portal.notifications.models import Delivery
from tests.enterprises.factories import EnterpriseFactory, SiteFactory, StaffUserFactory, UserFactory
from tests.frontend.support import software_enterprise
from tests.frontend.test_browser_flows import login
from tests.notifications.factories import NotificationFactory
from tests.policies.factories import PolicyVersionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_data_officer_uploads_a_file_and_reads_the_error_report(
    page, live_server, screenshot, start_worker, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    start_worker(extra_env={"DJANGO_MEDIA_ROOT": str(tmp_path)})
    StaffUserFactory(username="shuju", roles=[Role.DATA_OFFICER])
    good, bad = EnterpriseFactory(), EnterpriseFactory()
    csv_file = tmp_path / "统计局2025年报.csv"
    csv_file.write_text(
        f"统一社会信用代码,从业人员,营业收入\n{good.credit_code},320,45000\n{bad.credit_code},-3,100\n",
        encoding="utf-8",
    )

    login(page, live_server, "shuju")
    page.goto(live_server.url + "/console/feeds/")
    page.get_by_label("数据来源部门").select_option("statistics")
    page.get_by_label("CSV或XLSX文件").set_input_files(str(csv_file))
    page.get_by_role("button", name="上传并导入").click()

    expect(page.locator(".feed-status")).to_have_text("已完成", timeout=30000)
    expect(page.locator("progress")).to_have_attribute("value", "100")
    report = page.locator("#feed-report")
    expect(report).to_contain_text(bad.credit_code)
    expect(report.locator("tbody tr")).to_have_count(1)
    expect(report.locator("tbody tr td").first).to_have_text("3")  # the file's row 3
    expect(report).to_contain_text("从业人员")
    expect(page.locator("#feed-changed")).to_have_text("1")
    expect(page.get_by_role("link", name="下载错误报告（CSV）")).to_be_visible()
    screenshot("feed-report")
    bad.refresh_from_db()
    good.refresh_from_db()
    assert (good.employees, bad.employees) == (320, 150)


def test_staff_see_the_dashboard_and_a_preview(page, live_server, screenshot, celery_eager) -> None:
    StaffUserFactory(username="shenhe", roles=[Role.REVIEWER, Role.AUDITOR])
    rule = {
        "all": [
            {"fact": "industry", "op": "under", "value": ["65"]},
            {"fact": "qualification", "op": "has", "value": "high_tech"},
        ]
    }
    published = [
        PolicyVersionFactory(published=True, mode="exempt", department="区科技局", chains=["ngit"], rule=rule),
        PolicyVersionFactory(published=True, mode="apply", department="区商务局", chains=["electronic_info"]),
        PolicyVersionFactory(published=True, mode="apply", department="区工信局", chains=["ngit", "medical_devices"]),
    ]
    enterprises = [software_enterprise(name=f"苏州软件示例{n}有限公司") for n in range(3)]
    enterprises += [EnterpriseFactory() for _ in range(4)]
    for n, enterprise in enumerate(enterprises):
        township = "320505002" if n % 2 else "320505407"
        SiteFactory(enterprise=enterprise, township=Township.objects.get(code=township))
        for k, version in enumerate(published):
            at = timezone.now() - timedelta(days=7 * ((n + k) % 6))
            MatchRecord.objects.create(
                enterprise=enterprise,
                policy_version=version,
                outcome="eligible" if (n + k) % 3 else "ineligible",
                first_decided_at=at,
                decided_at=at,
            )
    notification = NotificationFactory(enterprise=enterprises[0])
    for n, (channel, status) in enumerate(
        [("email", "sent")] * 5 + [("email", "dead"), ("sms", "sent"), ("sms", "failed")]
    ):
        Delivery.objects.create(
            notification=notification, user=UserFactory(), channel=channel, address=f"a{n}@example.com", status=status
        )
    for n, enterprise in enumerate(enterprises[:3]):
        Entitlement.objects.create(
            enterprise=enterprise, policy_version=published[0], determined_at=timezone.now() - timedelta(days=7 * n)
        )
    review = PolicyVersionFactory(
        rule=rule, mode="exempt", status=PolicyVersion.Status.IN_REVIEW, title="软件企业研发奖励（示例）"
    )

    login(page, live_server, "shenhe")
    page.goto(live_server.url + "/console/dashboard/")
    expect(page.get_by_role("heading", name="工作台：数据看板")).to_be_visible()
    expect(page.locator("#total-published")).to_have_text("3")
    by_mode = page.locator("figure.chart", has_text="已发布政策：按兑现方式")
    by_mode.get_by_text("查看数据表").click()
    expect(by_mode.get_by_role("table")).to_contain_text("免申即享")
    screenshot("dashboard")

    page.goto(f"{live_server.url}/console/versions/{review.pk}/")
    page.get_by_role("button", name="开始试算").click()
    expect(page.locator("#preview-eligible")).to_have_text("3")
    expect(page.locator("#preview-worst")).to_contain_text("软件和信息技术服务业")
    screenshot("preview")
