"""Every decision told to an enterprise gets its 决定通知书, with every required part, in the deciding transaction.

Decisions are made by the real services: a published 免申即享 policy decided for a small district (享受,
需补充), a corrected version that drops an enterprise (待复核), a revocation (不予享受), and the staff
decisions on an online application (通过 / 未通过 / 退回补正).
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from matching.models import MatchRun
from matching.services import match_profiles_refresh
from policies.services import (
    policy_approve,
    policy_create,
    policy_publish,
    policy_submit,
    policy_version_create_draft,
    policy_version_update,
)
from portal.applications import services as application_services
from portal.applications.models import Application
from portal.entitlements import services as entitlement_services
from portal.entitlements.models import Entitlement
from portal.notices.models import DecisionNotice, NoticeCounter
from portal.notices.services import NoticeSpec, notices_issue
from tests.applications.support import apply_policy, decide
from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory
from tests.support.services import need_postgres

from .support import assert_complete

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

Kind = DecisionNotice.Kind


def rule(min_rd: int) -> dict:
    return {
        "all": [
            {"fact": "industry", "op": "under", "value": ["39"]},
            {"fact": "rd_expense_ratio", "op": "gte", "value": min_rd},
        ]
    }


@pytest.fixture
def district():
    made = {
        "strong": EnterpriseFactory(rd_expense_ratio=Decimal("6.5")),
        "middle": EnterpriseFactory(rd_expense_ratio=Decimal("4.0")),
        "unknown": EnterpriseFactory(rd_expense_ratio=None),
    }
    for enterprise in made.values():
        EnterpriseUserFactory(enterprise=enterprise)
    match_profiles_refresh()
    return made


@pytest.fixture
def publish(staff_editor, staff_reviewer, django_capture_on_commit_callbacks):
    state: dict = {}

    def go(min_rd: int):
        if "policy" not in state:
            draft = policy_create(
                by=staff_editor,
                key="rd-reward-notice",
                title="研发投入奖励（示例）",
                summary="示例",
                benefit_kind="subsidy",
                mode="exempt",
                effective_from=timezone.localdate().replace(year=2020),
                rule=rule(min_rd),
                source_section="第三章 一（二）",
                source_quote="加大研发投入奖励力度（示例）",
                department="区科技创新局",
                contact_name="韩杰（示例）",
                contact_phone="0512-0000-0026（示例）",
            )
            state["policy"] = draft.policy
        else:
            draft = policy_version_create_draft(policy=state["policy"], by=staff_editor)
            draft = policy_version_update(version=draft, by=staff_editor, rule=rule(min_rd))
        policy_submit(version=draft, by=staff_editor)
        policy_approve(version=draft, by=staff_reviewer)
        with django_capture_on_commit_callbacks(execute=True):
            published = policy_publish(version=draft, by=staff_reviewer)
        assert MatchRun.objects.filter(policy_version=published, status="done").exists()
        return published

    return go


def page(user, notice: DecisionNotice) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/enterprises/{notice.credit_code}/notices/{notice.number}/")
    assert response.status_code == 200
    return response.content.decode()


def test_matching_decisions_issue_complete_notices(district, publish, staff_reviewer) -> None:
    need_postgres()
    publish(3)

    granted = DecisionNotice.objects.filter(kind=Kind.GRANTED)
    assert sorted(granted.values_list("enterprise_id", flat=True)) == sorted(
        [district["strong"].pk, district["middle"].pk]
    )
    needs_info = DecisionNotice.objects.get(kind=Kind.NEEDS_INFO)
    assert needs_info.enterprise_id == district["unknown"].pk
    for notice in DecisionNotice.objects.all():
        assert notice.department == "区科技创新局"
        assert notice.source_section == "第三章 一（二）"
        assert notice.document_number == ""  # never invented
        assert {f["fact"] for f in notice.facts} == {"industry", "rd_expense_ratio"}
        assert_complete(notice, page(notice.enterprise.users.get(), notice))
    strong = granted.get(enterprise=district["strong"])
    rd = next(f for f in strong.facts if f["fact"] == "rd_expense_ratio")
    assert rd["source"] != "无数据" and rd["as_of"] and rd["verified"]
    unknown = next(f for f in needs_info.facts if f["fact"] == "rd_expense_ratio")
    assert unknown["result"] == "缺少数据"

    # The same decisions again: no second notice.
    before = DecisionNotice.objects.count()
    match_profiles_refresh()
    assert DecisionNotice.objects.count() == before

    # A corrected version drops "middle" (4.0 < 5): 待复核, resting on the new version's finding.
    v2 = publish(5)
    review = DecisionNotice.objects.get(kind=Kind.PENDING_REVIEW)
    assert review.enterprise_id == district["middle"].pk and review.policy_version_id == v2.pk
    assert next(f for f in review.facts if f["fact"] == "rd_expense_ratio")["result"] == "不符合"
    assert_complete(review, page(staff_reviewer, review))

    # Staff revoke after the review: 不予享受.
    entitlement = Entitlement.objects.get(enterprise=district["middle"])
    entitlement_services.entitlement_review_resolve(
        entitlement=entitlement, by=staff_reviewer, decision="revoke", reason="经复核研发费用占比低于新标准"
    )
    refused = DecisionNotice.objects.get(kind=Kind.REFUSED)
    assert refused.enterprise_id == district["middle"].pk and refused.policy_version_id == v2.pk
    assert refused.decided_by == "审核人" and "经复核研发费用占比低于新标准" in refused.reasons
    assert_complete(refused, page(staff_reviewer, refused))

    # Numbers: sequential within the year, no gaps, no duplicates.
    year = timezone.localdate().year
    sequences = sorted(DecisionNotice.objects.filter(year=year).values_list("sequence", flat=True))
    assert sequences == list(range(1, len(sequences) + 1))
    assert NoticeCounter.objects.get(year=year).last == len(sequences)


def test_staff_revocation_and_objection_outcomes(alice, staff_reviewer) -> None:
    version = apply_policy(mode="exempt", title="示例免申即享政策")
    decide(alice.enterprise, version)
    entitlement = Entitlement.objects.create(
        enterprise=alice.enterprise, policy_version=version, status="notified", determined_at=timezone.now()
    )
    entitlement = entitlement_services.entitlement_object(entitlement=entitlement, by=alice, reason="数据有误")
    entitlement = entitlement_services.entitlement_resolve(
        entitlement=entitlement, by=staff_reviewer, decision="confirm", resolution="经核实数据无误"
    )
    kept = DecisionNotice.objects.get(kind=Kind.GRANTED)
    assert "维持" in kept.decision and kept.decided_by == "审核人"
    entitlement_services.entitlement_revoke(entitlement=entitlement, by=staff_reviewer, reason="企业已注销（示例）")
    refused = DecisionNotice.objects.get(kind=Kind.REFUSED)
    for notice in (kept, refused):
        assert_complete(notice, page(alice, notice))


def test_application_decisions_issue_notices(alice, staff_reviewer) -> None:
    version = apply_policy()
    decide(alice.enterprise, version)
    application = Application.objects.create(
        enterprise=alice.enterprise,
        policy_version=version,
        contact_name="张敏",
        contact_phone="13912345678",
        submitted_at=timezone.now(),
    )
    application_services.application_return(application=application, by=staff_reviewer, reason="缺少财务报表")
    returned = DecisionNotice.objects.get(kind=Kind.NEEDS_INFO)
    assert returned.subject == "在线申报" and "缺少财务报表" in returned.reasons
    Application.objects.filter(pk=application.pk).update(status="accepted")
    application_services.application_reject(application=application, by=staff_reviewer, reason="不在支持范围（示例）")
    refused = DecisionNotice.objects.get(kind=Kind.REFUSED)
    for notice in (returned, refused):
        assert notice.department == version.department
        assert_complete(notice, page(alice, notice))

    other = apply_policy(title="另一项申报政策（示例）")
    second = Application.objects.create(
        enterprise=alice.enterprise,
        policy_version=other,
        status="accepted",
        contact_name="张敏",
        contact_phone="13912345678",
        submitted_at=timezone.now(),
    )
    application_services.application_approve(application=second, by=staff_reviewer)
    granted = DecisionNotice.objects.get(kind=Kind.GRANTED)
    assert granted.facts == []  # no match record: decided on the materials, and the page says so
    html = page(alice, granted)
    assert "依据贵企业提交的申报材料作出" in html
    assert_complete(granted, html)


def test_a_document_number_is_shown_when_the_policy_states_one(alice) -> None:
    version = apply_policy(document_number="苏高新科〔2026〕8号（示例）")
    [notice] = notices_issue(
        items=[NoticeSpec(alice.enterprise.pk, Kind.GRANTED, "k1", version.pk, decision="予以享受。")]
    )
    html = page(alice, notice)
    assert "苏高新科〔2026〕8号（示例）" in html and "未载明文号" not in html
    assert_complete(notice, html)
    assert "文号：苏高新科〔2026〕8号（示例）" in Client().get(f"/policies/{version.policy_id}/").content.decode()


def test_a_notice_is_issued_once_per_enterprise_and_key_and_the_pairs_are_matched_exactly(alice) -> None:
    """Already issued: (alice, k1) and (bob, k2). Asking for every pair of those enterprises and keys issues
    the two crossed pairs and nothing twice: a key issued to one enterprise does not stand for another."""
    version = apply_policy()
    bob = EnterpriseFactory()
    notices_issue(
        items=[
            NoticeSpec(alice.enterprise.pk, Kind.GRANTED, "k1", version.pk, decision="予以享受。"),
            NoticeSpec(bob.pk, Kind.GRANTED, "k2", version.pk, decision="予以享受。"),
        ]
    )

    again = notices_issue(
        items=[
            NoticeSpec(enterprise, Kind.GRANTED, key, version.pk, decision="予以享受。")
            for enterprise in (alice.enterprise.pk, bob.pk)
            for key in ("k1", "k2")
        ]
    )

    assert sorted((n.enterprise_id, n.dedupe_key) for n in again) == [(alice.enterprise.pk, "k2"), (bob.pk, "k1")]
    assert DecisionNotice.objects.count() == 4
    assert [n.sequence for n in again] == [3, 4]  # numbered on, with no gap for the pairs already issued


def test_notices_are_immutable(alice) -> None:
    version = apply_policy()
    [notice] = notices_issue(
        items=[NoticeSpec(alice.enterprise.pk, Kind.GRANTED, "k", version.pk, decision="予以享受。")]
    )
    with pytest.raises(ValueError, match="不得修改"):
        notice.save()
    with pytest.raises(ValueError, match="不得删除"):
        notice.delete()
    if connection.vendor == "postgresql":
        for statement in (
            DecisionNotice.objects.filter(pk=notice.pk).update,
            DecisionNotice.objects.filter(pk=notice.pk).delete,
        ):
            with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
                statement(**({"decision": "改"} if statement.__name__ == "update" else {}))
    assert DecisionNotice.objects.get(pk=notice.pk).decision == "予以享受。"


def test_a_rolled_back_decision_gives_its_number_back(alice) -> None:
    version = apply_policy()
    with pytest.raises(RuntimeError), transaction.atomic():
        notices_issue(items=[NoticeSpec(alice.enterprise.pk, Kind.GRANTED, "a", version.pk, decision="予以享受。")])
        raise RuntimeError("the decision fails after its notice")
    [notice] = notices_issue(
        items=[NoticeSpec(alice.enterprise.pk, Kind.GRANTED, "b", version.pk, decision="予以享受。")]
    )
    assert notice.sequence == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_deciders_get_distinct_sequential_numbers(alice) -> None:
    """Several transactions issuing at once: every number once, 1..N, no gaps (the counter row is locked)."""
    need_postgres()
    version = apply_policy()
    enterprise_id = alice.enterprise.pk
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def decide_many(worker: int) -> None:
        try:
            start.wait()
            for i in range(5):
                with transaction.atomic():
                    notices_issue(
                        items=[
                            NoticeSpec(
                                enterprise_id, Kind.GRANTED, f"w{worker}:{i}:{j}", version.pk, decision="予以享受。"
                            )
                            for j in range(3)
                        ]
                    )
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=decide_many, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    sequences = sorted(DecisionNotice.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, 61))
    assert len(set(DecisionNotice.objects.values_list("number", flat=True))) == 60
