"""Whom to ask to get a self-declared fact verified (请核验 / 申请核验): the verifying departments, which the
enterprise asks online through portal.corrections (申请核验 beside the fact), and the policy's contact.

The departments come from the registry of what each department shares (portal.enterprises.facts:
DEPARTMENT_FACTS, DEPARTMENT_QUALIFICATIONS); the policy's own contact from the catalogue (department,
contact_name, contact_phone). Nothing is invented: a part the data lacks is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from matching.core.evaluator import compile_rule
from matching.core.vocabulary import SOURCES
from matching.models import MatchOutcome
from matching.selectors import enterprise_matches
from policies.models import Mode
from portal.enterprises.facts import DEPARTMENT_FACTS, DEPARTMENT_QUALIFICATIONS
from portal.enterprises.models import Enterprise
from portal.enterprises.selectors import enterprise_profiles_by_id, enterprise_profiles_read
from portal.notifications.text import sentences

if TYPE_CHECKING:
    from policies.models import PolicyVersion
    from portal.enterprises.models import Enterprise


# Rule facts (matching.core.registry) → the enterprise fields they are read from.
_RULE_FACT_FIELDS: dict[str, tuple[str, ...]] = {
    "industry": ("industry_code",),
    "size": ("industry_code", "employees", "revenue", "total_assets"),
    "age_years": ("established_on",),
}


def departments_for_field(field: str) -> list[str]:
    """Names of the departments whose shared data verifies this enterprise field, in registry order."""
    return [SOURCES[dept] for dept, fields in DEPARTMENT_FACTS.items() if field in fields]


def departments_for_qualification(kind: str) -> list[str]:
    return [SOURCES[dept] for dept, kinds in DEPARTMENT_QUALIFICATIONS.items() if kind in kinds]


def departments_for_condition(fact: str, value: Any = None) -> list[str]:
    """Departments that can verify what a rule condition reads (empty when no department shares it)."""
    if fact == "qualification":
        kinds = value if isinstance(value, list) else [value]
        names: list[str] = []
        for kind in kinds:
            names += [d for d in departments_for_qualification(str(kind)) if d not in names]
        return names
    names = []
    for field in _RULE_FACT_FIELDS.get(fact, (fact,)):
        names += [d for d in departments_for_field(field) if d not in names]
    return names


@dataclass(frozen=True)
class PendingFact:
    label: str  # "研发费用占营业收入比例"
    departments: list[str]  # ["科技局"]; empty: no department shares it
    fact: str = ""  # the registry fact ("rd_expense_ratio"): the profile page's 申请核验 asks for it


def pending_facts(conditions: Iterable[Any]) -> list[PendingFact]:
    """The met conditions that rest on unverified (self-declared) data, one per fact label."""
    seen: dict[str, PendingFact] = {}
    for c in conditions:
        if c.result == "met" and not c.verified and c.fact_label not in seen:
            seen[c.fact_label] = PendingFact(c.fact_label, departments_for_condition(c.fact, c.value), c.fact)
    return list(seen.values())


def policy_contact(version: PolicyVersion) -> str:
    """ "区科技局，联系人张三，电话0512-…" from the catalogue, or "" when it names nobody."""
    return "，".join(
        part
        for part in (
            version.department,
            f"联系人{version.contact_name}" if version.contact_name else "",
            f"电话{version.contact_phone}" if version.contact_phone else "",
        )
        if part
    )


def pending_sentence(facts: list[PendingFact]) -> str:
    """ "待核验：营业收入（税务局或统计局核验）；…" ("" when nothing is pending)."""
    parts = []
    for f in facts:
        who = "或".join(f.departments)
        parts.append(f"{f.label}（{who}核验）" if who else f"{f.label}（暂无部门共享该项数据）")
    return f"待核验的自行填报信息：{'；'.join(parts)}" if parts else ""


def confirm_fact_body(*, version: PolicyVersion, facts: list[PendingFact]) -> str:
    """The 请核验 notice: what is pending, who verifies it, and whom to ask, in clean sentences."""
    contact = policy_contact(version)
    return sentences(
        f"按贵企业自行填报的信息，符合免申即享政策“{version.title}”的条件；相关信息经部门核验后即可直接享受，无需申报",
        pending_sentence(facts),
        "请在“企业信息”中对上述信息点击“申请核验”，由核验部门在线办理；核验通过后即可直接享受",
        f"政策咨询：{contact}" if contact else "",
    )


def confirm_fact_bodies(
    *, versions: Sequence[PolicyVersion], enterprise_ids: dict[int, list[int]], on: Any
) -> dict[tuple[int, int], str]:
    """The 请核验 text for each (version id, enterprise id) of `enterprise_ids` (version id → enterprise ids):
    the enterprise's own pending facts (the evaluator says which conditions rest on self-declared data), the
    verifying departments, and the policy's contact. The profiles are read once for every version: the
    nightly run asks for dozens of versions' newly eligible enterprises at once, mostly the same ones."""
    wanted = {version.pk: version for version in versions if enterprise_ids.get(version.pk)}
    if not wanted:
        return {}
    profiles = enterprise_profiles_read(enterprise_ids={e for pk in wanted for e in enterprise_ids[pk]})
    bodies: dict[tuple[int, int], str] = {}
    for pk, version in wanted.items():
        compiled = compile_rule(version.rule)
        for enterprise_id in enterprise_ids[pk]:
            profile = profiles.get(enterprise_id)
            if profile is not None:
                facts = pending_facts(compiled.evaluate(profile, on=on).conditions)
                bodies[(pk, enterprise_id)] = confirm_fact_body(version=version, facts=facts)
    return bodies


@dataclass(frozen=True)
class VerificationRequest:
    """A 免申即享 policy the enterprise meets on self-declared data only, and whom to contact."""

    version: PolicyVersion
    facts: list[PendingFact]
    contact: str


def verification_requests(*, enterprise: Enterprise, on: Any) -> list[VerificationRequest]:
    """For the profile page's 申请核验: each published 免申即享 version this enterprise meets only on
    self-declared data, with the pending facts (evaluated now, from the current profile) and contacts.
    The caller has already checked that the user may see `enterprise`."""
    records = [
        r
        for r in enterprise_matches(enterprise=enterprise, outcome=MatchOutcome.ELIGIBLE)
        if not r.verified and r.policy_version.mode == Mode.EXEMPT
    ]
    if not records:
        return []
    profile = next(iter(enterprise_profiles_by_id(queryset=Enterprise.objects.filter(pk=enterprise.pk))))[1]
    requests = []
    for record in records:
        version = record.policy_version
        outcome = compile_rule(version.rule).evaluate(profile, on=on)
        requests.append(VerificationRequest(version, pending_facts(outcome.conditions), policy_contact(version)))
    return requests
