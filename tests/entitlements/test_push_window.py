"""可申报 follows the application window: never after it closed, on the opening day when it opens later."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from matching.services import match_profiles_refresh, policy_version_match
from portal.entitlements.reminders import apply_window_opening_pushes
from portal.entitlements.tasks import window_openings_task
from portal.notifications.models import Notification
from tests.enterprises.factories import EnterpriseFactory
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db

RULE = {
    "all": [{"fact": "industry", "op": "under", "value": ["39"]}, {"fact": "rd_expense_ratio", "op": "gte", "value": 3}]
}
# Two sentence ends in a row, a sentence run into the next one without 。, or a stray space.
GLUED = re.compile(r"。。|[^。！？”）\s]$|\s")


def pushes(kind: str = "may_apply") -> list[Notification]:
    return list(Notification.objects.filter(kind=kind).order_by("pk"))


def test_a_closed_window_pushes_no_may_apply_and_no_needs_info() -> None:
    EnterpriseFactory()
    EnterpriseFactory(rd_expense_ratio=None)
    match_profiles_refresh()
    today = timezone.localdate()
    version = PolicyVersionFactory(
        published=True,
        rule=RULE,
        application_start=today - timedelta(days=60),
        application_end=today - timedelta(days=1),
    )

    policy_version_match(version_id=version.pk)

    assert Notification.objects.count() == 0
    assert apply_window_opening_pushes(today=today) == 0


def test_a_window_opening_later_is_pushed_on_its_opening_day_once() -> None:
    eligible = EnterpriseFactory()
    EnterpriseFactory(industry_code="5211")  # ineligible: never told
    match_profiles_refresh()
    today = timezone.localdate()
    opens = today + timedelta(days=5)
    version = PolicyVersionFactory(
        published=True,
        rule=RULE,
        application_start=opens,
        application_end=opens + timedelta(days=30),
        conditions_text="制造业企业，研发费用占比不低于3%（示例）",
    )

    policy_version_match(version_id=version.pk)
    assert pushes() == []  # decided before the window opens: nothing yet
    assert apply_window_opening_pushes(today=opens - timedelta(days=1)) == 0

    assert apply_window_opening_pushes(today=opens) == 1
    assert apply_window_opening_pushes(today=opens) == 0  # a redelivered beat message adds nothing

    (notice,) = pushes()
    assert notice.enterprise == eligible
    assert notice.dedupe_key == f"pv{version.pk}:may_apply"
    assert notice.link == f"/policies/{version.policy_id}/"
    end = opens + timedelta(days=30)
    window = f"{opens.year}年{opens.month}月{opens.day}日至{end.year}年{end.month}月{end.day}日"
    assert f"申报时间：{window}。" in notice.body
    # The catalogue's text had no full stop: it is ended, and the next sentence starts cleanly.
    assert "申报条件：制造业企业，研发费用占比不低于3%（示例）。政策咨询：区科技局" in notice.body
    assert not GLUED.search(notice.body), notice.body


def test_an_open_window_pushes_at_decision_time_and_the_opening_job_does_not_repeat_it() -> None:
    EnterpriseFactory()
    match_profiles_refresh()
    today = timezone.localdate()
    version = PolicyVersionFactory(
        published=True, rule=RULE, application_start=today, application_end=today + timedelta(days=3)
    )

    policy_version_match(version_id=version.pk)
    assert len(pushes()) == 1

    assert window_openings_task.apply().get() == 0  # opening day, but already told at decision time
    assert len(pushes()) == 1
    assert "entitlements.window_openings" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}


def test_needs_info_text_names_the_policy_and_reads_as_sentences() -> None:
    EnterpriseFactory(rd_expense_ratio=None)
    match_profiles_refresh()
    version = PolicyVersionFactory(published=True, rule=RULE, title="研发后补助（示例）")

    policy_version_match(version_id=version.pk)

    (notice,) = pushes("needs_info")
    assert notice.body.startswith("还需要以下信息才能判断贵企业是否符合“研发后补助（示例）”：")
    assert notice.body.endswith("。请在“企业信息”中补充，系统会重新判定。")
    assert not GLUED.search(notice.body), notice.body
    assert notice.link == "/workspace/profile/"


def test_confirm_fact_names_the_departments_and_the_policy_contact() -> None:
    declared = EnterpriseFactory(facts_source="self_declared")
    match_profiles_refresh()
    version = PolicyVersionFactory(published=True, rule=RULE, mode="exempt", title="研发奖励（示例）")

    policy_version_match(version_id=version.pk)

    (notice,) = pushes("confirm_fact")
    assert notice.enterprise == declared
    body = notice.body
    # industry_code is owned by 市场监督管理局, rd_expense_ratio by 科技局 (portal.enterprises.facts).
    assert "所属行业（市场监督管理局核验）" in body
    assert "研发费用占营业收入比例（科技局核验）" in body
    assert "政策咨询：区科技局，联系人王敏（示例），电话0512-0000-0000（示例）。" in body
    assert not GLUED.search(body), body


def test_deadline_reminder_skips_enterprises_that_applied_and_reads_cleanly() -> None:
    from portal.applications.models import Application
    from portal.entitlements.reminders import apply_deadline_reminders

    applied, waiting = EnterpriseFactory(), EnterpriseFactory()
    match_profiles_refresh()
    today = timezone.localdate()
    end = today + timedelta(days=3)
    version = PolicyVersionFactory(published=True, rule=RULE, title="技改补助（示例）", application_end=end)
    policy_version_match(version_id=version.pk)
    Application.objects.create(
        enterprise=applied,
        policy_version=version,
        contact_name="张敏",
        contact_phone="13912345678",
        submitted_at=timezone.now(),
    )

    assert apply_deadline_reminders(today=today) == 1
    (notice,) = pushes("apply_deadline")
    assert notice.enterprise == waiting
    assert notice.body == (
        f"“技改补助（示例）”将于3天后（{end.year}年{end.month}月{end.day}日）截止申报。贵企业符合申报条件，尚未提交申报。"
    )
