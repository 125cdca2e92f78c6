"""应享未享 funnel: aggregate counts equal counts computed directly from the records on random data; the
pages' query counts are fixed; the officer sees their own policies first; XLSX export; staff only."""

from __future__ import annotations

import datetime as dt
import random
from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from matching.models import MatchRecord
from policies.models import PolicyVersion
from portal.applications.models import Application
from portal.entitlements.models import Entitlement
from portal.notifications.models import Notification
from portal.ops import funnel
from tests.enterprises.factories import EnterpriseFactory
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db

ES, AS = Entitlement.Status, Application.Status
TODAY = timezone.localdate()


def random_district(seed: int, enterprises: int = 40) -> list[PolicyVersion]:
    rng = random.Random(seed)
    firms = [EnterpriseFactory() for _ in range(enterprises)]
    versions = [
        PolicyVersionFactory(published=True, mode="exempt", contact_name="王敏（示例）", title="免申甲（示例）"),
        PolicyVersionFactory(published=True, mode="exempt", contact_name="李强（示例）", title="免申乙（示例）"),
        PolicyVersionFactory(
            published=True,
            mode="apply",
            contact_name="王敏（示例）",
            title="申报丙（示例）",
            application_start=TODAY - dt.timedelta(days=60),
            application_end=TODAY - dt.timedelta(days=1),  # closed
        ),
        PolicyVersionFactory(
            published=True,
            mode="apply",
            contact_name="",
            title="申报丁（示例）",
            application_start=TODAY - dt.timedelta(days=5),
            application_end=TODAY + dt.timedelta(days=30),
        ),
    ]
    # A retired version's records never count.
    old = PolicyVersionFactory(policy=versions[0].policy, number=0, status="retired", mode="exempt")
    now = timezone.now()
    for version in [*versions, old]:
        for firm in firms:
            outcome = rng.choice(["eligible", "eligible", "needs_info", "ineligible", None])
            if outcome is None:
                continue
            MatchRecord.objects.create(
                enterprise=firm,
                policy_version=version,
                outcome=outcome,
                verified=rng.random() < 0.7,
                states="M",
                first_decided_at=now,
                decided_at=now,
            )
            if version.status != "published":
                continue
            if version.mode == "exempt" and rng.random() < 0.6:
                status = rng.choice([ES.NOTIFIED, ES.CONFIRMED, ES.OBJECTED, ES.DISBURSED, ES.REVOKED, ES.EXCLUDED])
                Entitlement.objects.create(
                    enterprise=firm,
                    policy_version=version,
                    status=status,
                    objection_reason="数据有误" if status in (ES.OBJECTED, ES.REVOKED) and rng.random() < 0.7 else "",
                    determined_at=now,
                )
            if version.mode == "apply":
                if rng.random() < 0.5:
                    Notification.objects.create(
                        enterprise=firm,
                        kind=Notification.Kind.MAY_APPLY,
                        dedupe_key=f"pv{version.pk}:may_apply",
                        title="可申报",
                        payload={"policy_version_id": version.pk},
                    )
                if rng.random() < 0.5:
                    Application.objects.create(
                        enterprise=firm,
                        policy_version=version,
                        status=rng.choice(list(AS.values)),
                        contact_name="王五",
                        contact_phone="13800000000",
                        submitted_at=now,
                    )
    return versions


def direct(version: PolicyVersion) -> dict[str, object]:
    """The funnel of one version, computed record by record (what the aggregate must equal)."""
    records = list(MatchRecord.objects.filter(policy_version=version))
    eligible = [r for r in records if r.outcome == "eligible"]
    ents = {e.enterprise_id: e for e in Entitlement.objects.filter(policy_id=version.policy_id)}
    apps = {a.enterprise_id: a for a in Application.objects.filter(policy_version__policy_id=version.policy_id)}
    pushed = {
        n.enterprise_id
        for n in Notification.objects.filter(kind="may_apply")
        if n.payload.get("policy_version_id") == version.pk
    }
    counts = dict.fromkeys(["eligible", "notified", "applied", "granted", "disbursed"], 0)
    reasons = dict.fromkeys(["missing_facts", "window_closed", "objection", "not_approved", "excluded"], 0)
    reasons["missing_facts"] = sum(1 for r in records if r.outcome == "needs_info")
    unbenefited = set()
    for r in eligible:
        e, a = ents.get(r.enterprise_id), apps.get(r.enterprise_id)
        counts["eligible"] += 1
        if version.mode == "exempt":
            counts["notified"] += e is not None
            counts["applied"] += e is not None and e.status in (ES.CONFIRMED, ES.DISBURSED, ES.OBJECTED)
            granted = e is not None and e.status in (ES.CONFIRMED, ES.DISBURSED)
            counts["granted"] += granted
            counts["disbursed"] += e is not None and e.status == ES.DISBURSED
            reasons["missing_facts"] += not r.verified and e is None
            reasons["objection"] += e is not None and bool(e.objection_reason) and not granted
            excluded = e is not None and e.status == ES.EXCLUDED
            reasons["excluded"] += excluded
            if not granted and not excluded:
                unbenefited.add(r.enterprise_id)
        else:
            applied = a is not None and a.status != AS.WITHDRAWN
            counts["notified"] += r.enterprise_id in pushed
            counts["applied"] += applied
            counts["granted"] += a is not None and a.status == AS.APPROVED
            reasons["window_closed"] += version.application_end < TODAY and not applied
            reasons["not_approved"] += a is not None and a.status == AS.REJECTED
            if not (a is not None and a.status == AS.APPROVED):
                unbenefited.add(r.enterprise_id)
    if version.mode == "apply":
        counts["disbursed"] = None
    return {**counts, "reasons": reasons, "unbenefited": unbenefited}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_funnel_counts_equal_counts_from_the_records(seed, staff_reviewer) -> None:
    versions = random_district(seed)
    rows = {row.version.pk: row for row in funnel.funnel_rows(on=TODAY)}
    assert set(rows) == {v.pk for v in versions}
    listed = funnel.unbenefited(user=staff_reviewer, limit=None)
    for version in versions:
        expected, row = direct(version), rows[version.pk]
        got = {key: getattr(row, key) for key in ("eligible", "notified", "applied", "granted", "disbursed")}
        assert got == {k: expected[k] for k in got}, version.title
        assert row.reasons == expected["reasons"], version.title
        mine = {r.enterprise_id for r in listed if r.policy_version_id == version.pk}
        assert mine == expected["unbenefited"] and row.unbenefited == len(mine), version.title


def test_the_funnel_takes_a_fixed_number_of_queries(staff_reviewer, django_assert_num_queries) -> None:
    random_district(4, enterprises=10)
    funnel.is_staff_user(staff_reviewer)  # the roles, read once per request
    with django_assert_num_queries(3):
        funnel.funnel_rows(on=TODAY)
    with django_assert_num_queries(1):
        funnel.unbenefited(user=staff_reviewer)


def test_the_pages_take_a_fixed_number_of_queries(client, staff_reviewer, django_assert_num_queries) -> None:
    random_district(5, enterprises=6)
    client.force_login(staff_reviewer)
    client.get("/console/funnel/")  # warm: session, roles
    # session, user, roles; the funnel's three aggregate queries; the to-contact list
    with django_assert_num_queries(7) as small:
        assert client.get("/console/funnel/").status_code == 200
    random_district(6, enterprises=20)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get("/console/funnel/").status_code == 200


def test_the_officer_sees_their_own_policies_first(client, staff_reviewer) -> None:
    random_district(7, enterprises=5)
    staff_reviewer.last_name, staff_reviewer.first_name = "王敏", "（示例）"
    staff_reviewer.save()
    client.force_login(staff_reviewer)
    page = client.get("/console/funnel/").content.decode()
    mine = page.index("我负责的政策（2 项）")
    assert mine < page.index("免申甲（示例）") < page.index("其他政策")
    assert mine < page.index("申报丙（示例）") < page.index("其他政策")
    assert page.index("其他政策") < page.index("免申乙（示例）")


def test_the_export_holds_the_funnel_and_the_whole_list(client, staff_reviewer) -> None:
    versions = random_district(8, enterprises=12)
    client.force_login(staff_reviewer)
    response = client.get("/console/funnel/export.xlsx")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(BytesIO(response.content))
    policies, contacts = book["各政策漏斗"], book["应享未享企业"]
    assert policies.max_row == 1 + len(versions)
    assert contacts.max_row == 1 + len(funnel.unbenefited(user=staff_reviewer, limit=None))
    one = client.get(f"/console/funnel/export.xlsx?policy={versions[0].policy_id}")
    assert load_workbook(BytesIO(one.content))["各政策漏斗"].max_row == 2


def test_strangers_are_refused_and_nothing_changes(client, alice) -> None:
    random_district(9, enterprises=3)
    before = (MatchRecord.objects.count(), Entitlement.objects.count(), Application.objects.count())
    for url in ("/console/funnel/", "/console/funnel/export.xlsx", "/console/dashboard/"):
        assert client.get(url).status_code == 302  # anonymous: to the sign-in page
    client.force_login(alice)
    for url in ("/console/funnel/", "/console/funnel/export.xlsx"):
        assert client.get(url).status_code == 403
        assert client.post(url).status_code in (403, 405)
    assert funnel.unbenefited(user=alice) == [] and funnel.funnel_for_staff(user=alice)["mine"] == []
    assert (MatchRecord.objects.count(), Entitlement.objects.count(), Application.objects.count()) == before
