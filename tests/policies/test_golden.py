"""Golden-case profiles and the check that a rule gives each its expected outcome."""

from __future__ import annotations

import datetime as dt

import pytest

from policies.golden import GoldenInput, GoldenProfileError, golden_check_cases, golden_date, golden_profile
from tests.policies.factories import ELIGIBLE_PROFILE, HIGH_TECH_SOFTWARE_RULE, INELIGIBLE_PROFILE


def test_department_sources_make_facts_verified():
    profile = golden_profile(
        {**ELIGIBLE_PROFILE, "sites": [{"township_code": "320505407", "parks": ["kjc_ngit_park"]}], "dishonest": False}
    )

    assert profile.fact("industry_code").verified and profile.fact("dishonest").source == "credit"
    assert profile.qualifications[0].source == "science_tech" and profile.qualifications[0].valid_to is None
    assert profile.sites[0].zone_code == "tech_ecology"  # from the township when not given
    assert golden_profile({"revenue": 10}).fact("revenue").source == "self_declared"


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        ({"industry_code": "65"}, "industry_code"),
        ({"employees": -1}, "employees"),
        ({"dishonest": "no"}, "dishonest"),
        ({"size": "huge"}, "size"),
        ({"qualifications": [{"kind": "nobel", "valid_from": "2024-01-01"}]}, "qualifications[0].kind"),
        ({"sites": [{"township_code": "110101001"}]}, "sites[0].township_code"),
        ({"colour": "red"}, "colour"),
        ({"sources": "rumour"}, "sources"),
    ],
)
def test_malformed_profiles_name_the_field(profile, field):
    with pytest.raises(GoldenProfileError) as caught:
        golden_profile(profile)
    assert caught.value.field == field


def test_golden_date_stays_inside_the_effective_period():
    today = dt.date(2026, 6, 1)

    assert golden_date(effective_from=dt.date(2027, 1, 1), effective_to=None, on=None, today=today) == dt.date(
        2027, 1, 1
    )
    assert golden_date(
        effective_from=dt.date(2020, 1, 1), effective_to=dt.date(2025, 12, 31), on=None, today=today
    ) == (dt.date(2025, 12, 31))
    assert golden_date(effective_from=dt.date(2020, 1, 1), effective_to=None, on=dt.date(2024, 5, 5), today=today) == (
        dt.date(2024, 5, 5)
    )


def test_check_reports_each_failure_with_its_reason():
    cases = [
        GoldenInput("符合", ELIGIBLE_PROFILE, "eligible"),
        GoldenInput("预期错了", INELIGIBLE_PROFILE, "needs_info"),
        GoldenInput(
            "资质已过期",
            {
                **ELIGIBLE_PROFILE,
                "qualifications": [{"kind": "high_tech", "valid_from": "2020-01-01", "valid_to": "2022-12-31"}],
            },
            "eligible",
        ),
    ]

    results = golden_check_cases(
        rule=HIGH_TECH_SOFTWARE_RULE,
        effective_from=dt.date(2020, 1, 1),
        effective_to=None,
        cases=cases,
        today=dt.date(2026, 6, 1),
    )

    assert [(r.name, r.passed, r.actual) for r in results] == [
        ("符合", True, "eligible"),
        ("预期错了", False, "ineligible"),
        ("资质已过期", False, "ineligible"),
    ]
    assert "案例「资质已过期」预期符合条件，实际不符合条件" in results[2].reason
    assert "高新技术企业" in results[2].reason
