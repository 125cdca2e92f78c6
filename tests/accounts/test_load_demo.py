"""`manage.py load_demo`: 示例 enterprises and logins, through the real services; idempotent."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from devtools.demo.accounts import DEMO_LOGINS
from portal.accounts.models import User
from portal.accounts.roles import Role, has_role, is_enterprise_user
from portal.enterprises import credit_code as cc
from portal.enterprises import industries
from portal.enterprises.models import Enterprise, EnterpriseChange, FeedImport, Qualification, Site

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Enterprise, Qualification, Site, EnterpriseChange, FeedImport, User)
    }


@pytest.fixture
def demo() -> None:
    call_command("load_demo", stdout=io.StringIO())


def test_running_twice_changes_nothing(demo) -> None:
    before = counts()
    snapshot = list(
        Enterprise.objects.order_by("pk").values_list("credit_code", "employees", "provenance", "updated_at")
    )
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "未作任何修改" in out.getvalue()
    assert counts() == before
    assert (
        list(Enterprise.objects.order_by("pk").values_list("credit_code", "employees", "provenance", "updated_at"))
        == snapshot
    )


def test_a_few_hundred_valid_enterprises_mostly_in_the_district(demo) -> None:
    codes = list(Enterprise.objects.values_list("credit_code", flat=True))
    assert 200 <= len(codes) <= 500
    assert all(cc.is_valid(code) for code in codes)
    in_district = sum(code[2:8] == cc.HUQIU_REGION for code in codes)
    assert in_district / len(codes) > 0.8


def test_the_mix_covers_industries_sizes_zones_and_sources(demo) -> None:
    industries_seen = set(Enterprise.objects.values_list("industry_code", flat=True))
    for prefix in ("39", "34", "6520", "358", "3825", "L", "M"):  # 2+3+X and services
        assert any(industries.is_under(code, prefix) for code in industries_seen), prefix
    assert set(Enterprise.objects.values_list("size", flat=True)) == {
        "large",
        "medium",
        "small",
        "micro",
        "unclassified",
    }
    zones = set(Site.objects.values_list("township__zone__code", flat=True))
    assert {"business_innovation", "advanced_manufacturing", "tech_ecology"} <= zones
    multi = Counter(Site.objects.values_list("enterprise_id", flat=True))
    assert sum(1 for n in multi.values() if n > 1) >= 10  # 一照多址
    sources = Counter(
        entry["source"]
        for provenance in Enterprise.objects.values_list("provenance", flat=True)
        for entry in provenance.values()
    )
    assert sources["self_declared"] > 0 and sources["statistics"] > 0 and sources["tax"] > 0


def test_qualifications_include_expired_and_self_declared_ones(demo) -> None:
    from django.utils import timezone

    today = timezone.localdate()
    qualifications = list(Qualification.objects.all())
    assert any(not q.valid_on(today) for q in qualifications)
    assert any(q.valid_on(today) for q in qualifications)
    assert any(q.source == "self_declared" for q in qualifications)
    assert {q.kind for q in qualifications} >= {"high_tech", "tech_sme", "specialized_sme"}


def test_demo_logins_work_with_their_roles(demo) -> None:
    for username, password, description in DEMO_LOGINS:
        # django-axes counts sign-ins per request, so authenticate() is given one, as the login view does.
        request = RequestFactory().post("/accounts/login/")
        assert authenticate(request, username=username, password=password) is not None, username
        assert description and not description.isascii()
    assert User.objects.get(username="admin").is_superuser
    assert has_role(User.objects.get(username="editor"), Role.POLICY_EDITOR)
    assert has_role(User.objects.get(username="dataofficer"), Role.DATA_OFFICER)
    a, a2, b = (User.objects.get(username=u) for u in ("qiye_a", "qiye_a2", "qiye_b"))
    assert is_enterprise_user(a) and a.enterprise == a2.enterprise != b.enterprise


def test_demo_history_comes_from_the_feeds(demo) -> None:
    featured = Enterprise.objects.get(name="苏州澄芯微电子科技有限公司")
    assert featured.provenance["employees"]["source"] == "statistics"
    assert EnterpriseChange.objects.filter(enterprise=featured, source="market_regulation").exists()


def test_refused_with_production_settings(monkeypatch) -> None:
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "portal.settings.production")
    err = io.StringIO()
    call_command("load_demo", stdout=io.StringIO(), stderr=err)
    assert "production" in err.getvalue()
    assert not Enterprise.objects.exists()


def test_the_demo_is_rematched_once_after_commit(facts_changed, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=io.StringIO())
    assert len(facts_changed.calls) == 1
    assert set(facts_changed.calls[0]) == set(Enterprise.objects.values_list("pk", flat=True))
