"""Pages of 同一事项不重复享受: the editor's field, the policy page, the workspace advice and choice, the console."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from matching.models import MatchRecord
from policies.models import PolicyVersion
from portal.entitlements.models import Entitlement, EntitlementTransition
from portal.exclusions.combos import Option, advise
from portal.exclusions.models import ExclusionClaim
from tests.exclusions.test_claims import exempt, grant
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db


def test_the_editor_saves_the_groups_and_refuses_a_bad_one(client, staff_editor) -> None:
    version = PolicyVersionFactory(
        author=staff_editor, mode="exempt", rule={"fact": "dishonest", "op": "eq", "value": False}
    )
    client.force_login(staff_editor)
    page = client.get(f"/console/versions/{version.pk}/")
    assert "互斥事项组（同一事项不重复享受）" in page.content.decode()
    data = {
        "title": version.title,
        "benefit_kind": "subsidy",
        "mode": "exempt",
        "benefit_period": "once",
        "effective_from": "2020-01-01",
        "use_json": "1",
        "rule_json": '{"fact": "dishonest", "op": "eq", "value": false}',
        "action": "save",
    }
    client.post(
        f"/console/versions/{version.pk}/", {**data, "exclusion_groups": " 研发投入奖补 \n\n人才奖励\n研发投入奖补"}
    )
    version.refresh_from_db()
    assert version.exclusion_groups == ["研发投入奖补", "人才奖励"]
    too_long = "长" * 41
    page = client.post(f"/console/versions/{version.pk}/", {**data, "exclusion_groups": too_long})
    assert "互斥事项组名称不能超过40个字" in page.content.decode()
    version.refresh_from_db()
    assert version.exclusion_groups == ["研发投入奖补", "人才奖励"]  # nothing half-written


def test_the_policy_page_names_the_other_policies_of_its_groups(client) -> None:
    first = exempt("研发费用补助（示例）", ["研发投入"], amount_max_wan=Decimal("50"))
    exempt("研发机构奖励（示例）", ["研发投入"])
    page = client.get(f"/policies/{first.policy_id}/").content.decode()
    assert "同一事项不重复享受" in page and "研发机构奖励（示例）" in page


def test_advice_picks_the_combination_that_gives_the_most() -> None:
    a = Option(1, frozenset({"G1"}), Decimal("30"))
    b = Option(2, frozenset({"G1", "G2"}), Decimal("50"))
    c = Option(3, frozenset({"G2"}), Decimal("40"))
    lone = Option(4, frozenset({"G9"}), Decimal("1"))
    [advice] = advise([a, b, c, lone])
    assert advice.best == (a, c) and advice.total == Decimal("70")
    [unknown] = advise([a, Option(5, frozenset({"G1"}), None)])
    assert unknown.best == () and not unknown.by_amount


def test_the_workspace_shows_the_advice_and_lets_a_member_choose(client, alice, charlie) -> None:
    enterprise = alice.enterprise
    small = exempt("小额补助（示例）", ["同类"], amount_max_wan=Decimal("10"))
    large = exempt("大额奖励（示例）", ["同类"], amount_max_wan=Decimal("80"))
    for version in (small, large):
        now = timezone.now()
        MatchRecord.objects.create(
            enterprise=enterprise,
            policy_version=version,
            outcome="eligible",
            verified=True,
            states="M",
            first_decided_at=now,
            decided_at=now,
        )
    grant(small, [enterprise.pk])
    grant(large, [enterprise.pk])
    lost = Entitlement.objects.get(policy_id=large.policy_id)
    client.force_login(alice)
    page = client.get(f"/enterprises/{enterprise.credit_code}/").content.decode()
    assert "最有利的是享受「大额奖励（示例）」，合计最高 80 万元" in page
    assert "与「小额补助（示例）」同属一类事项，不重复享受" in page and "改为享受本项" in page

    # A stranger: 404, nothing changed.
    client.force_login(charlie)
    url = f"/enterprises/{enterprise.credit_code}/entitlements/{lost.pk}/choose/"
    assert client.post(url).status_code == 404
    assert Entitlement.objects.get(pk=lost.pk).status == Entitlement.Status.EXCLUDED
    assert ExclusionClaim.objects.get().policy_id == small.policy_id

    client.force_login(alice)
    client.post(url)
    assert Entitlement.objects.get(pk=lost.pk).status == Entitlement.Status.CONFIRMED
    assert ExclusionClaim.objects.get().policy_id == large.policy_id
    assert EntitlementTransition.objects.filter(entitlement=lost, by=alice).exists()  # the choice is recorded


def test_the_console_lists_the_conflicts_for_staff_only(client, staff_reviewer, alice) -> None:
    enterprise = alice.enterprise
    first, second = exempt("甲补贴（示例）", ["同类"]), exempt("乙补贴（示例）", ["同类"])
    grant(first, [enterprise.pk])
    grant(second, [enterprise.pk])
    before = list(Entitlement.objects.values_list("pk", "status"))
    assert client.get("/console/exclusions/").status_code == 302
    client.force_login(alice)
    assert client.get("/console/exclusions/").status_code == 403
    client.force_login(staff_reviewer)
    page = client.get("/console/exclusions/").content.decode()
    assert "同类（一次性）" in page and enterprise.name in page and "与「甲补贴（示例）」同属一类事项" in page
    assert list(Entitlement.objects.values_list("pk", "status")) == before
    assert PolicyVersion.objects.count() == 2


def test_the_console_application_page_warns_and_the_approval_is_refused(client, staff_reviewer) -> None:
    from portal.applications.models import Application
    from tests.applications.support import apply_policy
    from tests.enterprises.factories import EnterpriseFactory

    enterprise = EnterpriseFactory()
    grant(exempt("甲补贴（示例）", ["同类"]), [enterprise.pk])
    version = apply_policy(title="乙申报（示例）", exclusion_groups=["同类"])
    application = Application.objects.create(
        enterprise=enterprise,
        policy_version=version,
        status=Application.Status.ACCEPTED,
        contact_name="王五",
        contact_phone="13800000000",
        submitted_at=timezone.now(),
    )
    client.force_login(staff_reviewer)
    page = client.get(f"/console/applications/{application.pk}/").content.decode()
    assert 'id="exclusion-conflict"' in page and "与「甲补贴（示例）」同属一类事项，不重复享受" in page
    response = client.post(f"/console/applications/{application.pk}/approve/", {"text": ""}, follow=True)
    assert "不能再通过本项申报" in response.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.ACCEPTED and not application.transitions.exists()
