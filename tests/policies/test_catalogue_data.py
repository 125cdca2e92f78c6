"""The catalogue data file (policies/catalogue/policies.json): shape, sources in the plan, codes, rules, golden cases.

Pure checks of the data: no database. The quotes are checked against the plan's text shipped beside
the catalogue (policies/catalogue/plan.txt), which must equal the shared seed when that is mounted.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from matching.core.evaluator import evaluate
from matching.core.industries import section_divisions
from matching.core.rules import is_pending, undecidable_conditions, validate_rule
from matching.core.vocabulary import INDUSTRY_CHAINS, PARKS, QUALIFICATION_KINDS, TOWNSHIPS, ZONES
from policies.catalogue.case_profiles import CATALOGUE_DAY, case_day, profile_from_case
from portal.enterprises.sizing import classify

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "policies" / "catalogue" / "policies.json"
PLAN = ROOT / "policies" / "catalogue" / "plan.txt"
SEED_FILE = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "000_e667ff0d085481f5.txt"
INDUSTRY_FILES = (
    ROOT / "matching" / "core" / "data" / "gbt4754-2017.json",
    ROOT / "portal" / "enterprises" / "data" / "gbt4754-2017.json",
)

KEY_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SECTION_PATTERN = re.compile(r"^第[一二三四五六七八九十]+章 [一二三四五六七八九十]+(（[一二三四五六七八九十]+）)?$")
BENEFIT_KINDS = {"subsidy", "tax", "financing", "qualification", "approval", "service"}
OUTCOMES = {"eligible", "ineligible", "needs_info"}
SAMPLE = "示例"


@cache
def catalogue() -> list[dict[str, Any]]:
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))


def by_key() -> list[Any]:
    return [pytest.param(policy, id=policy["key"]) for policy in catalogue()]


@cache
def seed_text() -> str:
    return PLAN.read_text(encoding="utf-8")


@pytest.mark.skipif(not SEED_FILE.exists(), reason="the shared seed folder is not mounted beside the project")
def test_shipped_plan_is_the_seed() -> None:
    assert PLAN.read_bytes() == SEED_FILE.read_bytes()


@cache
def industry_codes() -> frozenset[str]:
    for path in INDUSTRY_FILES:
        if path.exists():
            return frozenset(json.loads(path.read_text(encoding="utf-8")))
    raise AssertionError(f"项目中没有 GB/T 4754-2017 代码表：{[str(p) for p in INDUSTRY_FILES]}")


def conditions(node: dict[str, Any]) -> list[dict[str, Any]]:
    if "all" in node:
        return [c for child in node["all"] for c in conditions(child)]
    if "any" in node:
        return [c for child in node["any"] for c in conditions(child)]
    if "not" in node:
        return conditions(node["not"])
    return [node]


def headings_path(text: str, position: int) -> str:
    """The section path ("第十章 三（二）") of the plan at `position`, from the ## / ** heading lines above it."""
    chapter = section = sub = None
    for line in text[:position].split("\n"):
        if not line.startswith(("#", "**")):
            continue
        title = line.lstrip("#").strip().strip("*").strip()
        if m := re.match(r"^(第[一二三四五六七八九十]+章)", title):
            chapter, section, sub = m.group(1), None, None
        elif m := re.match(r"^([一二三四五六七八九十]+)、", title):
            section, sub = m.group(1), None
        elif m := re.match(r"^（([一二三四五六七八九十]+)）", title):
            sub = m.group(1)
    return f"{chapter} {section}" + (f"（{sub}）" if sub else "")


def digit_codes(codes: list[str] | tuple[str, ...]) -> set[str]:
    """Industry codes with section letters spelled out as their 2-digit divisions."""
    return {d for c in codes for d in (section_divisions(c) if c.isalpha() else (c,))}


def overlaps(a: set[str], b: set[str]) -> bool:
    return any(x.startswith(y) or y.startswith(x) for x in a for y in b)


def texts(policy: dict[str, Any]) -> dict[str, str]:
    fields = {name: policy[name] for name in ("title", "summary", "body", "benefit_description", "amount_note")}
    if policy["application"]:
        fields["conditions_text"] = policy["application"]["conditions_text"]
    return fields


# ---- the file as a whole -------------------------------------------------------------------------


def test_catalogue_parses_as_a_list_of_policies() -> None:
    data = catalogue()
    assert isinstance(data, list)
    assert all(isinstance(p, dict) for p in data)


def test_keys_are_unique_slugs() -> None:
    keys = [p["key"] for p in catalogue()]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    assert [k for k in keys if not KEY_PATTERN.match(k) or len(k) > 80] == []


def test_enough_policies_and_enough_exempt() -> None:
    data = catalogue()
    assert len(data) >= 30
    assert sum(p["mode"] == "exempt" for p in data) >= 8


def test_chapter_ten_comes_first() -> None:
    sections = [p["source_section"] for p in catalogue()]
    first_other = next(i for i, s in enumerate(sections) if not s.startswith("第十章"))
    assert first_other >= 10
    assert all(not s.startswith("第十章") for s in sections[first_other:])


def test_exactly_one_expired_policy_and_it_says_so() -> None:
    expired = [p for p in catalogue() if p["effective_to"] and date.fromisoformat(p["effective_to"]) < CATALOGUE_DAY]
    assert [p["key"] for p in expired] == ["foreign-trade-loan-deferral"]
    assert date.fromisoformat(expired[0]["effective_to"]).year == 2025
    assert "已于2025年6月30日到期" in expired[0]["body"]
    assert "不再参与政策匹配" in expired[0]["body"]


# ---- each policy ---------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", by_key())
def test_fields_are_complete(policy: dict[str, Any]) -> None:
    for name in ("title", "summary", "body", "department", "benefit_description"):
        assert policy[name].strip(), name
    assert policy["benefit_kind"] in BENEFIT_KINDS
    assert policy["mode"] in {"exempt", "apply"}
    assert SECTION_PATTERN.match(policy["source_section"]), policy["source_section"]
    assert set(policy["chains"]) <= set(INDUSTRY_CHAINS)
    assert policy["source_quote"] in policy["body"], "正文应引用规划原文"


@pytest.mark.parametrize("policy", by_key())
def test_source_quote_is_verbatim_in_the_plan_under_its_section(policy: dict[str, Any]) -> None:
    text = seed_text()
    quote = policy["source_quote"]
    positions = [m.start() for m in re.finditer(re.escape(quote), text)]
    assert positions, f"引文不在规划原文中：{quote}"
    assert policy["source_section"] in {headings_path(text, p) for p in positions}


@pytest.mark.parametrize("policy", by_key())
def test_effective_period_and_application_window(policy: dict[str, Any]) -> None:
    start = date.fromisoformat(policy["effective_from"])
    end = date.fromisoformat(policy["effective_to"]) if policy["effective_to"] else None
    assert end is None or start <= end
    if policy["key"] != "foreign-trade-loan-deferral":
        assert start <= CATALOGUE_DAY and (end is None or end >= CATALOGUE_DAY)
    application = policy["application"]
    if policy["mode"] == "exempt":
        assert application is None
        assert "免申即享" in policy["body"]
        return
    window_start = date.fromisoformat(application["window_start"])
    window_end = date.fromisoformat(application["window_end"])
    assert start <= window_start <= window_end
    assert end is None or window_end <= end
    assert application["conditions_text"].strip()
    assert application["materials"] and all(m.strip() for m in application["materials"])


@pytest.mark.parametrize("policy", by_key())
def test_amounts_and_contacts_are_marked_as_samples(policy: dict[str, Any]) -> None:
    if policy["amount_max_wan"] is not None:
        assert Decimal(str(policy["amount_max_wan"])) > 0
        assert SAMPLE in policy["amount_note"]
    # No figure in 万元 reads as official: any text that names one says it is a sample.
    for name, value in texts(policy).items():
        if "万元" in value:
            assert SAMPLE in value, name
    assert policy["contact_name"].endswith("（示例）")
    assert policy["contact_phone"].endswith("（示例）")


@pytest.mark.parametrize("policy", by_key())
def test_rule_is_valid_and_names_existing_codes(policy: dict[str, Any]) -> None:
    validate_rule(policy["rule"])
    codes = industry_codes()
    for condition in conditions(policy["rule"]):
        if is_pending(condition):
            continue
        value = condition["value"]
        if condition["fact"] == "industry":
            assert [c for c in value if c not in codes] == []
        elif condition["fact"] == "qualification":
            assert value in QUALIFICATION_KINDS
        elif condition["fact"] == "zone":
            assert set(value) <= set(ZONES)
        elif condition["fact"] == "park":
            assert set(value) <= set(PARKS)


@pytest.mark.parametrize("policy", by_key())
def test_chain_tags_match_the_industries_the_rule_targets(policy: dict[str, Any]) -> None:
    targeted = digit_codes(
        [c for cond in conditions(policy["rule"]) if cond.get("fact") == "industry" for c in cond["value"]]
    )
    for chain in policy["chains"]:
        assert overlaps(targeted, digit_codes(INDUSTRY_CHAINS[chain][1])), chain


def pending(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """The policy's attestations and judgements (conditions no department data decides)."""
    return [c for c in conditions(policy["rule"]) if is_pending(c)]


@pytest.mark.parametrize("policy", by_key())
def test_golden_cases_cover_both_sides(policy: dict[str, Any]) -> None:
    cases = policy["golden_cases"]
    assert len(cases) >= 2
    assert {c["expected"] for c in cases} <= OUTCOMES
    if pending(policy):
        # Never eligible from data alone: the case that meets every data condition needs only the
        # commitments and judgements (checked in test_pending_cases_wait_only_for_them).
        assert not any(c["expected"] == "eligible" for c in cases)
        assert any(c["expected"] == "needs_info" for c in cases)
        assert any(c["expected"] != "needs_info" for c in cases)
        return
    assert any(c["expected"] == "eligible" for c in cases)
    # A rule every enterprise meets is not a rule: some case must fall outside it.
    assert any(c["expected"] != "eligible" for c in cases)
    if policy["mode"] == "exempt":
        assert any(c["expected"] == "eligible" and c["profile"]["sources"] == "department" for c in cases)


@pytest.mark.parametrize("policy", by_key())
def test_golden_profiles_are_consistent(policy: dict[str, Any]) -> None:
    for case in policy["golden_cases"]:
        profile = case["profile"]
        assert profile["sources"] in {"department", "self_declared"}
        assert profile.get("industry_code") is None or profile["industry_code"] in industry_codes()
        # The size given is the one the 2017 standard gives; a profile missing an indicator gives none.
        sized = classify(
            industry_code=profile.get("industry_code"),
            employees=profile.get("employees"),
            revenue=profile.get("revenue"),
            total_assets=profile.get("total_assets"),
        )
        assert profile.get("size", "unclassified") == sized.size, (case["name"], sized.basis)
        for site in profile.get("sites", []):
            assert site["township_code"] in TOWNSHIPS
            assert site["zone"] == TOWNSHIPS[site["township_code"]][1]
            assert set(site["parks"]) <= set(PARKS)


@pytest.mark.parametrize("policy", by_key())
def test_golden_cases_get_their_expected_outcome(policy: dict[str, Any]) -> None:
    for case in policy["golden_cases"]:
        outcome = evaluate(policy["rule"], profile_from_case(case), on=case_day(case))
        assert outcome.status == case["expected"], (case["name"], outcome.summary)
        if policy["mode"] == "exempt" and case["expected"] == "eligible" and case["profile"]["sources"] == "department":
            # Only a verified outcome may trigger 免申即享.
            assert outcome.verified, case["name"]


def test_golden_cases_hold_on_the_catalogue_day() -> None:
    for policy in catalogue():
        for case in policy["golden_cases"]:
            outcome = evaluate(policy["rule"], profile_from_case(case), on=date(2026, 11, 26))
            assert outcome.status == case["expected"], (policy["key"], case["name"])


# ---- conditions no department data decides (承诺 / 待认定) ------------------------------------------

# Entries whose 申报条件 has a condition no department feed can check, and how many such conditions
# the rule carries for it. Every other entry's conditions are all decided by data.
PENDING_COUNTS = {
    "food-prepackaged-filing": 1,
    "occupational-hazard-testing-frequency": 1,
    "low-risk-project-commitment-start": 3,
    "investment-project-one-thing": 1,
    "shared-employment-matching": 1,
    "movable-collateral-financing": 1,
    "credit-commitment-approval": 1,
    "equity-exit-reverse-linkage": 1,
    "data-resource-rd-deduction": 1,
    "industrial-internet-application-pilot": 1,
    "trademark-pledge-loan": 1,
    "key-industry-talent-program": 1,
    "enterprise-technology-center": 1,
    "ip-securitization-financing": 1,
    "first-version-software": 1,
    "first-set-equipment-insurance": 2,
    "electronic-info-tech-upgrade": 1,
    "smart-upgrade-above-size": 1,
    "smart-upgrade-below-size": 1,
    "medical-device-local-application": 1,
    "pv-industry-upgrade": 1,
    "power-battery-cluster": 1,
    "service-manufacturing-demo": 1,
    "digital-economy-enterprise": 1,
    "rooftop-distributed-pv": 1,
    "japanese-commitment-entry": 1,
    "export-credit-insurance": 1,
    "foreign-trade-loan-deferral": 1,
    "export-to-domestic-sales": 2,
    "cross-border-ecommerce": 1,
    "key-industry-skills-training": 1,
}


def test_the_entries_with_attestations_or_judgements_are_the_listed_ones() -> None:
    assert {p["key"]: len(pending(p)) for p in catalogue() if pending(p)} == PENDING_COUNTS


@pytest.mark.parametrize("policy", by_key())
def test_no_exempt_entry_has_a_condition_data_cannot_decide(policy: dict[str, Any]) -> None:
    # 免申即享 is decided from verified department data alone (the publish guard refuses the rest).
    if policy["mode"] == "exempt":
        assert undecidable_conditions(policy["rule"]) == []


@pytest.mark.parametrize("policy", by_key())
def test_each_attestation_and_judgement_quotes_the_entry(policy: dict[str, Any]) -> None:
    """Their wording is the entry's own text (申报条件, body or the plan's quote), not invented; a
    judgement names the entry's department."""
    application = policy["application"] or {}
    text = policy["body"] + policy["source_quote"] + application.get("conditions_text", "")
    for condition in pending(policy):
        wording = condition.get("attest") or condition["judge"]
        assert wording in text, wording
        if "judge" in condition:
            assert condition["department"] == policy["department"]


# Words in a 申报条件 that mark a condition no department feed decides; an entry whose conditions text
# has one must carry an attestation or judgement.
UNCHECKABLE_MARKERS = (
    *("承诺", "诚信经营", "行业领先", "贷款", "已取得", "已投保"),
    *("项目", "签订", "拥有", "持有有效注册商标"),
)


@pytest.mark.parametrize("policy", by_key())
def test_a_conditions_text_naming_such_a_condition_has_one_in_the_rule(policy: dict[str, Any]) -> None:
    application = policy["application"]
    if not application:
        return
    found = [m for m in UNCHECKABLE_MARKERS if m in application["conditions_text"]]
    if found:
        assert pending(policy), found


@pytest.mark.parametrize("policy", [p for p in by_key() if pending(p.values[0])])
def test_pending_cases_wait_only_for_them(policy: dict[str, Any]) -> None:
    """The case that meets every data condition is needs_info, says 需您承诺 / 待…认定 for each
    attestation and judgement, and never 符合."""
    waiting = []
    for case in policy["golden_cases"]:
        outcome = evaluate(policy["rule"], profile_from_case(case), on=case_day(case))
        assert outcome.status != "eligible" and not outcome.verified
        assert not outcome.summary.startswith("符合"), outcome.summary
        if outcome.pending_only:
            waiting.append(outcome)
    assert waiting, "至少一个案例应只差承诺或认定"
    for outcome in waiting:
        for condition in pending(policy):
            wording = condition.get("attest") or condition["judge"]
            assert f"“{wording}”" in outcome.summary
        if any("attest" in c for c in pending(policy)):
            assert "需您承诺：" in outcome.summary
        if any("judge" in c for c in pending(policy)):
            assert f"待{policy['department']}认定：" in outcome.summary
