"""编写检查 in the preview: conditions nobody in the district meets, conditions that change nothing, overlaps."""

from __future__ import annotations

import datetime as dt

import pytest

from policies.models import PolicyVersion
from policies.selectors import policy_preview
from tests.policies.factories import PolicyVersionFactory
from tests.policies.test_policy_preview import ON, PROFILES, RULE, profile

pytestmark = pytest.mark.django_db


def live(rule: dict, **kwargs) -> PolicyVersion:
    return PolicyVersionFactory(published=True, rule=rule, effective_from=dt.date(2026, 1, 1), **kwargs)


def test_a_condition_nobody_in_the_district_meets_is_named_with_the_missing_data():
    rule = {
        "all": [{"fact": "industry", "op": "under", "value": ["65"]}, {"fact": "employees", "op": "gte", "value": 5000}]
    }
    version = PolicyVersionFactory(rule=rule, effective_from=dt.date(2026, 1, 1))

    checks = policy_preview(version=version, on=ON, profiles=PROFILES)["checks"]

    assert checks["counted"] is True
    [unmeetable] = checks["unmeetable"]
    assert unmeetable["path"] == "all[1]" and "5000" in unmeetable["wording"]
    assert unmeetable["unknown"] == 4  # PROFILES know employees for C2 and C3 only
    assert checks["contradictions"] == []


def test_a_top_level_condition_that_changes_no_outcome_is_named_and_one_that_does_is_not():
    rule = {
        "all": [
            {"fact": "industry", "op": "under", "value": ["65"]},
            {"fact": "industry", "op": "under", "value": ["I"]},  # implied by the first
        ]
    }
    version = PolicyVersionFactory(rule=rule, effective_from=dt.date(2026, 1, 1))
    district = [*PROFILES, profile("D1", industry="6311", high_tech=None, zone=None)]

    checks = policy_preview(version=version, on=ON, profiles=district)["checks"]

    assert [item["path"] for item in checks["no_effect"]] == ["all[1]"]
    assert checks["unmeetable"] == []


def test_overlap_with_live_policies_counts_enterprises_eligible_for_both():
    version = PolicyVersionFactory(rule=RULE, effective_from=dt.date(2026, 1, 1))
    own_current = live(RULE, policy=version.policy, number=version.number + 1, title="本政策现行版")
    high_tech = live({"fact": "qualification", "op": "has", "value": "high_tech"}, title="高企奖励")
    live({"fact": "industry", "op": "under", "value": ["33"]}, title="制造业政策")  # no common enterprise
    live(RULE, title="已失效", effective_to=dt.date(2026, 3, 31))  # not in effect on ON

    checks = policy_preview(version=version, on=ON, profiles=PROFILES)["checks"]

    assert checks["eligible"] == 2
    rows = {row["title"]: row for row in checks["overlaps"]}
    assert set(rows) == {"本政策现行版", "高企奖励"}
    assert (rows["高企奖励"]["both"], rows["高企奖励"]["share"], rows["高企奖励"]["same_policy"]) == (2, 100.0, False)
    assert rows["本政策现行版"]["same_policy"] is True and rows["本政策现行版"]["version"] == own_current.number
    assert high_tech.policy_id == rows["高企奖励"]["policy_id"]


def test_a_draft_for_a_later_period_is_still_checked_against_todays_district():
    rule = {
        "all": [{"fact": "industry", "op": "under", "value": ["65"]}, {"fact": "employees", "op": "gte", "value": 5000}]
    }
    version = PolicyVersionFactory(rule=rule, effective_from=dt.date(2027, 1, 1))

    preview = policy_preview(version=version, on=ON, profiles=PROFILES)

    assert preview["not_in_effect"] == 6 and preview["eligible"] == 0
    assert [item["path"] for item in preview["checks"]["unmeetable"]] == ["all[1]"]


def test_with_no_enterprises_only_the_rule_itself_is_checked():
    rule = {"all": [{"fact": "employees", "op": "gte", "value": 500}, {"fact": "employees", "op": "lte", "value": 100}]}
    version = PolicyVersionFactory(rule=rule, effective_from=dt.date(2026, 1, 1))

    checks = policy_preview(version=version, on=ON, profiles=[])["checks"]

    assert checks["counted"] is False
    assert (checks["unmeetable"], checks["no_effect"], checks["overlaps"]) == ([], [], [])
    [contradiction] = checks["contradictions"]
    assert contradiction["paths"] == ["all[0]", "all[1]"]
