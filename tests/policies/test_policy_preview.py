"""policy_preview: counts per outcome, verified for 免申即享, exclusions per condition, samples, effective period."""

from __future__ import annotations

import datetime as dt

import pytest

from matching.core.profile import EnterpriseProfile, Fact, QualificationRecord, SiteRecord
from policies.selectors import policy_preview
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 6, 1)
RULE = {
    "all": [
        {"fact": "industry", "op": "under", "value": ["65"]},
        {"fact": "qualification", "op": "has", "value": "high_tech"},
        {
            "any": [
                {"fact": "zone", "op": "in", "value": ["tech_ecology"]},
                {"fact": "employees", "op": "gte", "value": 100},
            ]
        },
    ]
}


def profile(
    code: str, *, industry: str | None, high_tech: str | None, zone: str | None, employees=None
) -> EnterpriseProfile:
    facts = {}
    if industry:
        facts["industry_code"] = Fact(industry, "market_regulation")
    if employees is not None:
        facts["employees"] = Fact(employees, "statistics")
    qualifications = ()
    if high_tech:
        qualifications = (QualificationRecord("high_tech", dt.date(2024, 1, 1), None, source=high_tech),)
    sites = (SiteRecord("320505407", zone),) if zone else ()
    return EnterpriseProfile(
        credit_code=code, name=f"企业{code}", facts=facts, qualifications=qualifications, sites=sites
    )


PROFILES = [
    # eligible, verified (every deciding fact from a department)
    profile("A1", industry="6520", high_tech="science_tech", zone="tech_ecology"),
    # eligible, not verified: the qualification is self-declared
    profile("A2", industry="6513", high_tech="self_declared", zone="tech_ecology"),
    # needs_info: no sites and no employees known
    profile("B1", industry="6520", high_tech="science_tech", zone=None),
    # ineligible by industry only
    profile("C1", industry="3311", high_tech="science_tech", zone="tech_ecology"),
    # ineligible by industry and by the qualification
    profile("C2", industry="3311", high_tech=None, zone="advanced_manufacturing", employees=10),
    # ineligible by the zone-or-employees condition only
    profile("C3", industry="6520", high_tech="science_tech", zone="advanced_manufacturing", employees=20),
]


def test_it_counts_outcomes_and_exclusions_per_condition():
    version = PolicyVersionFactory(rule=RULE, mode="exempt", effective_from=dt.date(2026, 1, 1))

    preview = policy_preview(version=version, on=ON, profiles=PROFILES)

    assert (preview["total"], preview["eligible"], preview["needs_info"], preview["ineligible"]) == (6, 2, 1, 3)
    assert preview["verified"] == 1
    assert preview["in_effect"] is True and preview["note"] == ""
    by_path = {c["path"]: c for c in preview["conditions"]}
    assert list(by_path) == ["all[0]", "all[1]", "all[2]"]
    assert (by_path["all[0]"]["unmet"], by_path["all[1]"]["unmet"], by_path["all[2]"]["unmet"]) == (2, 1, 2)
    assert by_path["all[2]"]["unknown"] == 1
    assert "65" in by_path["all[0]"]["wording"] and "高新技术企业" in by_path["all[1]"]["wording"]
    assert [s["credit_code"] for s in preview["samples"]["ineligible"]] == ["C1", "C2", "C3"]
    assert preview["samples"]["needs_info"][0]["summary"]


def test_sample_size_caps_each_sample():
    version = PolicyVersionFactory(rule=RULE, effective_from=dt.date(2026, 1, 1))

    preview = policy_preview(version=version, on=ON, profiles=PROFILES, sample_size=1)

    assert [len(preview["samples"][k]) for k in ("eligible", "needs_info", "ineligible")] == [1, 1, 1]
    assert preview["ineligible"] == 3
    assert preview["verified"] is None  # only reported for 免申即享


def test_a_version_outside_its_effective_period_matches_nobody():
    version = PolicyVersionFactory(rule=RULE, effective_from=dt.date(2027, 1, 1))

    preview = policy_preview(version=version, on=ON, profiles=PROFILES)

    assert preview["in_effect"] is False and preview["note"].startswith("不在有效期")
    assert (preview["eligible"], preview["needs_info"], preview["ineligible"]) == (0, 0, 0)
    assert preview["not_in_effect"] == 6

    expired = PolicyVersionFactory(rule=RULE, effective_from=dt.date(2020, 1, 1), effective_to=dt.date(2025, 12, 31))
    assert "已于 2025-12-31 失效" in policy_preview(version=expired, on=ON, profiles=PROFILES)["note"]


def test_preview_over_the_registry(django_assert_max_num_queries):
    from tests.enterprises.factories import EnterpriseFactory, QualificationFactory, SiteFactory

    # given: five enterprises built with the registry's factories
    verified = EnterpriseFactory(industry_code="6520")
    QualificationFactory(enterprise=verified)
    declared = EnterpriseFactory(industry_code="6513")
    QualificationFactory(enterprise=declared, source="self_declared")
    manufacturer = EnterpriseFactory(industry_code="3311")
    QualificationFactory(enterprise=manufacturer)
    small_team = EnterpriseFactory(industry_code="6520", employees=20)
    SiteFactory(enterprise=small_team)  # 狮山街道: 商务创新功能区
    unknown_staff = EnterpriseFactory(industry_code="6520", employees=None)
    QualificationFactory(enterprise=unknown_staff)
    version = PolicyVersionFactory(rule=RULE, mode="exempt", effective_from=dt.date(2020, 1, 1))

    # when
    with django_assert_max_num_queries(8):
        preview = policy_preview(version=version)

    # then
    assert (preview["total"], preview["eligible"], preview["needs_info"], preview["ineligible"]) == (5, 2, 1, 2)
    assert preview["verified"] == 1
    assert [s["credit_code"] for s in preview["samples"]["eligible"]] == [verified.credit_code, declared.credit_code]
    assert preview["samples"]["needs_info"][0]["name"] == unknown_staff.name
    unmet = {c["path"]: c["unmet"] for c in preview["conditions"]}
    assert unmet == {"all[0]": 1, "all[1]": 1, "all[2]": 1}
    assert {c["path"]: c["unknown"] for c in preview["conditions"]}["all[2]"] == 1
