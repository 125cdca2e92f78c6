"""The staff dashboard: figures equal what the data says (read from the rendered tables), in few queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from matching.models import MatchRecord
from portal.enterprises.models import Township
from portal.entitlements.models import Entitlement
from portal.notifications.models import Delivery
from tests.enterprises.factories import EnterpriseFactory, SiteFactory, UserFactory
from tests.notifications.factories import NotificationFactory
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db


def table(html: str, caption: str) -> dict[str, list[str]]:
    """The data table of the chart captioned `caption`: {row label: [cells]}."""
    start = html.index(f'<caption class="visually-hidden">{caption}</caption>')
    body = html[start : html.index("</table>", start)]
    return {
        label: re.findall(r"<td>(.*?)</td>", cells)
        for label, cells in re.findall(r'<th scope="row">(.*?)</th>(.*?)</tr>', body, re.S)
    }


def record(enterprise, version, outcome="eligible", days_ago=0) -> MatchRecord:
    at = timezone.now() - timedelta(days=days_ago)
    return MatchRecord.objects.create(
        enterprise=enterprise, policy_version=version, outcome=outcome, first_decided_at=at, decided_at=at
    )


@pytest.fixture
def data(staff_auditor):
    v1 = PolicyVersionFactory(published=True, mode="exempt", department="区科技局", chains=["ngit"])
    v2 = PolicyVersionFactory(published=True, mode="exempt", department="区科技局", chains=[])
    v3 = PolicyVersionFactory(published=True, mode="apply", department="区商务局", chains=["ngit", "electronic_info"])
    PolicyVersionFactory(mode="apply", department="区财政局")  # a draft: not counted
    e1, e2, e3 = EnterpriseFactory(), EnterpriseFactory(), EnterpriseFactory()
    SiteFactory(enterprise=e1)  # 狮山街道, 商务创新功能区
    SiteFactory(enterprise=e2, township=Township.objects.get(code="320505407"))  # 科技生态功能区
    record(e1, v1)
    record(e2, v1, days_ago=8)
    record(e1, v3, days_ago=8)
    record(e3, v3, days_ago=200)  # before the 12 weeks: in the totals, not in the weekly series
    record(e2, v3, outcome="ineligible")
    record(e3, v2, outcome="needs_info")
    now = timezone.now()
    Entitlement.objects.create(enterprise=e1, policy_version=v1, determined_at=now)
    Entitlement.objects.create(enterprise=e2, policy_version=v1, determined_at=now - timedelta(days=8))
    notification = NotificationFactory(enterprise=e1)
    for n, (channel, status) in enumerate(
        [("email", "sent"), ("email", "sent"), ("email", "dead"), ("sms", "sent"), ("sms", "failed")]
    ):
        Delivery.objects.create(
            notification=notification, user=UserFactory(), channel=channel, address=f"a{n}", status=status
        )
    return v1, v2, v3


def test_dashboard_figures(client, staff_auditor, data) -> None:
    client.force_login(staff_auditor)

    html = client.get("/console/dashboard/").content.decode()

    assert table(html, "已发布政策：按兑现方式（项）") == {"免申即享": ["2"], "申报": ["1"]}
    assert table(html, "已发布政策：按责任部门（项）") == {"区科技局": ["2"], "区商务局": ["1"]}
    chains = table(html, "按产业链（条；一项政策标注多个产业链时分别计入）")
    assert chains == {"新一代信息技术": ["4"], "电子信息": ["2"]}
    zones = table(html, "按企业经营场所所在功能区（条；跨区企业分别计入）")
    assert zones == {"商务创新功能区": ["2"], "科技生态功能区": ["1"], "未登记经营场所": ["1"]}
    weeks = table(html, "每周新增符合条件的匹配与免申即享认定（条）")
    assert len(weeks) == 12
    assert list(weeks.values())[-1] == ["1", "1"]  # this week
    assert sum(int(m) for m, _ in weeks.values()) == 3 and sum(int(e) for _, e in weeks.values()) == 2
    assert table(html, "各渠道投递状态（条）") == {
        "电子邮件": ["2", "0", "1"],
        "短信": ["1", "1", "0"],
        "接口回调": ["0", "0", "0"],
    }
    assert 'id="total-published">3<' in html and 'id="total-eligible">4<' in html
    assert 'id="total-success">75.0%<' in html  # 3 sent of 4 finished
    # Six charts of the figures above, two of the 应享未享 funnel (tests/ops/test_funnel.py checks its figures).
    assert html.count('class="chart-bars" role="img"') == 8
    assert table(html, "符合条件 → 已告知 → 已办理 → 已认定 → 已兑现")["符合条件"] == ["4"]


def test_weekly_buckets_follow_local_weeks(staff_auditor, data) -> None:
    from frontend.selectors import console_dashboard

    today = timezone.localdate()
    d = console_dashboard(today=today)

    monday = today - timedelta(days=today.weekday())
    assert d["first_week"] == monday - timedelta(weeks=11)
    eight_days_ago = today - timedelta(days=8)
    week_of = (eight_days_ago - timedelta(days=eight_days_ago.weekday()) - d["first_week"]).days // 7
    assert d["activity_by_week"][week_of][1] == [2, 1]


def test_dashboard_query_ceiling(client, staff_auditor, data, django_assert_max_num_queries) -> None:
    client.force_login(staff_auditor)
    for _ in range(5):  # more data does not mean more queries
        PolicyVersionFactory(published=True, chains=["ngit"])
        SiteFactory()

    # 8 for the figures, 1 for the latest check, 1 for the latest nightly run, 4 for session, user, roles,
    # 3 for the 应享未享 funnel
    with django_assert_max_num_queries(17):
        assert client.get("/console/dashboard/").status_code == 200


def test_dashboard_is_staff_only(client, alice) -> None:
    assert client.get("/console/dashboard/").status_code == 302
    client.force_login(alice)
    assert client.get("/console/dashboard/").status_code == 403


def test_empty_dashboard(client, staff_auditor) -> None:
    client.force_login(staff_auditor)

    html = client.get("/console/dashboard/").content.decode()

    assert 'id="total-success">—<' in html and "暂无数据" in html


def test_dashboard_shows_the_latest_invariants_check(client, staff_auditor) -> None:
    from datetime import datetime

    from portal.ops.invariants import invariants_check
    from portal.ops.models import InvariantCheck

    client.force_login(staff_auditor)
    assert "尚未运行过数据一致性检查" in client.get("/console/dashboard/").content.decode()

    InvariantCheck.objects.create(
        checked_at=timezone.make_aware(datetime(2026, 1, 2, 4, 30)),
        counts={"unexplained_entitlements": 2, "duplicate_payable_entitlements": 0},
        ok=False,
    )
    html = client.get("/console/dashboard/").content.decode()
    assert "未通过" in html and "2026-01-02 04:30" in html
    assert "无认定依据的免申即享兑现记录：<strong>2</strong> 条" in html
    assert "unexplained_entitlements" not in html  # codes never reach the page

    invariants_check()  # an empty database breaks nothing: the newest check is shown
    html = client.get("/console/dashboard/").content.decode()
    assert "全部为零，通过" in html and "同一企业同一政策同一兑现期重复的可兑现记录：<strong>0</strong> 条" in html


def test_dashboard_shows_what_the_latest_nightly_run_re_decided_and_why(client, staff_auditor) -> None:
    from datetime import date

    from matching.models import MatchRun

    client.force_login(staff_auditor)
    assert "尚未运行过每日匹配" in client.get("/console/dashboard/").content.decode()

    MatchRun.objects.create(
        kind=MatchRun.Kind.NIGHTLY,
        nightly_for=date(2026, 12, 7),
        status=MatchRun.Status.DONE,
        changed={"no_longer_eligible": 3},
        nightly={
            "mode": "changed",
            "on": "2026-12-07",
            "since": "2026-12-06",
            "reasons": {
                "age": {"enterprises": 12},
                "qualification": {"enterprises": 4},
                "policy": {"versions": 1, "effective": 1, "window": 0},
                "profile": {"enterprises": 0},
                "retry": {"enterprises": 0, "versions": 0},
            },
            "district": 1000,
            "enterprises_by_crossing": 15,
            "decisions": 1040,
            "seconds": 0.4,
        },
    )
    html = client.get("/console/dashboard/").content.decode()
    assert (
        "2026-12-07：<strong>已完成</strong>。只重新判定自 2026-12-06 以来日期变化涉及的企业：年龄跨界 12 家企业，"
        "资质生效/到期 4 家企业，政策生效/申报窗口 1 个政策版本（对全区 1000 家企业重新判定）；"
        "共 15 家企业、1040 次判定，用时 0.4 秒。" in html
    )
    assert "匹配结果变化：不再符合条件 3 条" in html
    assert "qualification" not in html and "retry" not in html  # codes never reach the page


def test_a_nightly_run_s_progress_says_what_it_re_decided(client, staff_auditor, alice) -> None:
    from matching.models import MatchRun

    run = MatchRun.objects.create(
        kind=MatchRun.Kind.NIGHTLY,
        status=MatchRun.Status.DONE,
        nightly={"mode": "full", "full_because": "engine", "enterprises": 10, "seconds": 1.5},
    )
    url = f"/console/runs/{run.pk}/"
    client.force_login(alice)  # an enterprise user: refused, and nothing changes
    assert client.get(url).status_code == 403
    client.force_login(staff_auditor)
    html = client.get(url).content.decode()
    assert "每日匹配：<strong" in html
    assert "全量匹配（匹配程序已更新）：对全部 10 家企业重新判定全部已发布政策，用时 1.5 秒" in html
    run.refresh_from_db()
    assert run.status == MatchRun.Status.DONE
