"""Reads: the enterprise profile for matching (one and in bulk), and scoping by user."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from matching.core.profile import EnterpriseProfile
from portal.enterprises import selectors
from portal.enterprises.models import Enterprise, Park, Township
from tests.enterprises.factories import EnterpriseFactory, QualificationFactory, SiteFactory

pytestmark = pytest.mark.django_db

PROFILE_KEYS = {
    "industry_code",
    "established_on",
    "employees",
    "revenue",
    "total_assets",
    "rd_expense_ratio",
    "above_designated_size",
    "foreign_investor_country",
    "tax_credit_rating",
    "dishonest",
    "size",
}


def test_profile_has_the_documented_facts_with_their_sources() -> None:
    enterprise = EnterpriseFactory(foreign_investor_country="JP")
    profile = selectors.enterprise_profile(enterprise=enterprise)
    assert isinstance(profile, EnterpriseProfile)
    assert set(profile.facts) == PROFILE_KEYS
    assert profile.credit_code == enterprise.credit_code
    assert profile.fact("employees").value == 150
    assert profile.fact("employees").source == "statistics"
    assert profile.fact("employees").verified
    assert profile.fact("revenue").value == Decimal("8000.00")
    assert profile.fact("foreign_investor_country").value == "JP"
    assert profile.fact("established_on").as_of == date(2025, 12, 31)


def test_size_with_a_self_declared_input_is_self_declared_dated_by_the_deciding_figure() -> None:
    # 150 people (self-declared) put it at 小型, below the revenue's tier: the headcount decided.
    enterprise = EnterpriseFactory(
        provenance={
            "industry_code": {"source": "market_regulation", "as_of": "2024-05-01"},
            "employees": {"source": "self_declared", "as_of": "2025-06-30"},
            "revenue": {"source": "tax", "as_of": "2025-04-30"},
        }
    )
    size = selectors.enterprise_profile(enterprise=enterprise).fact("size")
    assert (size.value, size.source, size.as_of) == ("small", "self_declared", date(2025, 6, 30))
    assert not size.verified


def test_size_from_verified_inputs_is_verified() -> None:
    size = selectors.enterprise_profile(enterprise=EnterpriseFactory()).fact("size")
    assert size.verified and size.value == "small"


def test_size_is_unknown_when_an_indicator_is_missing() -> None:
    enterprise = EnterpriseFactory(revenue=None)
    assert enterprise.size == "unclassified"
    profile = selectors.enterprise_profile(enterprise=enterprise)
    assert profile.fact("size") is None
    assert profile.fact("revenue") is None


def test_size_outside_the_table_is_unclassified_not_unknown() -> None:
    profile = selectors.enterprise_profile(enterprise=EnterpriseFactory(industry_code="6621"))  # banking
    assert profile.fact("size").value == "unclassified"


def test_a_value_without_provenance_is_not_a_fact() -> None:
    enterprise = EnterpriseFactory(provenance={})
    assert selectors.enterprise_profile(enterprise=enterprise).facts == {}


def test_profile_carries_qualifications_and_sites_with_zone_and_parks() -> None:
    enterprise = EnterpriseFactory()
    QualificationFactory(enterprise=enterprise, kind="high_tech", valid_to=None)
    SiteFactory(
        enterprise=enterprise,
        township=Township.objects.get(code="320505407"),
        parks=[Park.objects.get(code="kjc_ngit_park"), Park.objects.get(code="taihu_science_city")],
    )
    profile = selectors.enterprise_profile(enterprise=enterprise)
    (q,) = profile.qualifications
    assert (q.kind, q.valid_to, q.source, q.verified) == ("high_tech", None, "science_tech", True)
    (site,) = profile.sites
    assert (site.township_code, site.zone_code, site.park_codes) == (
        "320505407",
        "tech_ecology",
        ("kjc_ngit_park", "taihu_science_city"),
    )


def _populate(n: int) -> None:
    for _ in range(n):
        enterprise = EnterpriseFactory()
        QualificationFactory(enterprise=enterprise)
        SiteFactory(enterprise=enterprise, parks=[Park.objects.get(code="shishan_finance")])


@pytest.mark.parametrize("n", [3, 12])
def test_bulk_profiles_cost_the_same_queries_whatever_the_number(n: int, django_assert_num_queries) -> None:
    _populate(n)
    # One chunk: enterprises, qualifications, sites (with township and zone), parks.
    with django_assert_num_queries(4):
        profiles = list(selectors.enterprise_profiles(chunk_size=100))
    assert len(profiles) == n
    assert all(len(p.qualifications) == 1 and len(p.sites) == 1 for p in profiles)
    assert all(p.sites[0].park_codes == ("shishan_finance",) for p in profiles)


def test_bulk_profiles_come_in_chunks_in_id_order(django_assert_num_queries) -> None:
    _populate(7)
    with django_assert_num_queries(4 * 3):
        profiles = list(selectors.enterprise_profiles(chunk_size=3))  # 3 + 3 + 1
    codes = list(Enterprise.objects.order_by("pk").values_list("credit_code", flat=True))
    assert [p.credit_code for p in profiles] == codes


def test_bulk_profiles_of_a_queryset(django_assert_num_queries) -> None:
    _populate(4)
    wanted = Enterprise.objects.order_by("pk")[:2]
    pairs = list(selectors.enterprise_profiles_by_id(queryset=Enterprise.objects.filter(pk__in=wanted)))
    assert [pk for pk, _ in pairs] == [e.pk for e in wanted]


def test_enterprise_user_gets_only_their_own(alice, charlie) -> None:
    assert (
        selectors.enterprise_get_for_user(user=alice, credit_code=alice.enterprise.credit_code.lower())
        == alice.enterprise
    )
    with pytest.raises(Http404):
        selectors.enterprise_get_for_user(user=alice, credit_code=charlie.enterprise.credit_code)
    with pytest.raises(Http404):
        selectors.enterprise_get_for_user(user=AnonymousUser(), credit_code=alice.enterprise.credit_code)


def test_staff_get_any_enterprise(alice, staff_editor) -> None:
    assert selectors.enterprise_get_for_user(user=staff_editor, credit_code=alice.enterprise.credit_code)


def test_list_is_scoped_to_the_user(alice, charlie, staff_reviewer) -> None:
    assert list(selectors.enterprise_list(user=alice, filters={})) == [alice.enterprise]
    assert set(selectors.enterprise_list(user=staff_reviewer, filters={})) == {alice.enterprise, charlie.enterprise}


@pytest.fixture
def population(db) -> dict[str, Enterprise]:
    chip = EnterpriseFactory(industry_code="3973", employees=1500, revenue=Decimal("90000"))  # C, large
    software = EnterpriseFactory(industry_code="6520", employees=8, revenue=Decimal("40"))  # I, micro
    shop = EnterpriseFactory(industry_code="5211", employees=60, revenue=Decimal("600"), above_designated_size=False)
    SiteFactory(enterprise=chip, township=Township.objects.get(code="320505400"))  # 先进制造
    SiteFactory(
        enterprise=software,
        township=Township.objects.get(code="320505407"),
        parks=[Park.objects.get(code="kjc_ngit_park")],
    )  # 科技生态
    today = timezone.localdate()
    QualificationFactory(enterprise=software, kind="high_tech")
    QualificationFactory(enterprise=shop, kind="high_tech", valid_to=today - timedelta(days=1))  # expired
    return {"chip": chip, "software": software, "shop": shop}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"industry": "C"}, {"chip"}),
        ({"industry": "65"}, {"software"}),
        ({"industry": "C,I"}, {"chip", "software"}),
        ({"industry": "F"}, {"shop"}),
        ({"size": "large"}, {"chip"}),
        ({"size": ["micro", "medium"]}, {"software", "shop"}),
        ({"zone": "advanced_manufacturing"}, {"chip"}),
        ({"zone": "tech_ecology"}, {"software"}),
        ({"park": "kjc_ngit_park"}, {"software"}),
        ({"township": "320505400"}, {"chip"}),
        ({"qualification": "high_tech"}, {"software"}),  # the shop's certificate has expired
        ({"above_designated_size": "false"}, {"shop"}),
    ],
)
def test_list_filters(population, staff_reviewer, filters, expected) -> None:
    from django.http import QueryDict

    data = QueryDict(mutable=True)
    for key, value in filters.items():
        data.setlist(key, value if isinstance(value, list) else [value])
    found = set(selectors.enterprise_list(user=staff_reviewer, filters=data))
    assert found == {population[name] for name in expected}


def test_search_by_name_or_code(population, staff_reviewer) -> None:
    chip = population["chip"]
    assert list(selectors.enterprise_list(user=staff_reviewer, filters={"q": chip.credit_code[:12].lower()})) == [chip]
    assert list(selectors.enterprise_list(user=staff_reviewer, filters={"q": chip.name[-8:]})) == [chip]


def test_invalid_filters_name_the_field(staff_reviewer) -> None:
    with pytest.raises(ValidationError) as info:
        selectors.enterprise_list(user=staff_reviewer, filters={"industry": "ZZ", "size": "huge"})
    assert set(info.value.error_dict) == {"industry", "size"}
