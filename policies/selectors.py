"""Reads of the policy catalogue: the public list and its filters, versions, preview, the 政策计算器."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from matching.core.authoring import contradictions
from matching.core.describe import describe_rule
from matching.core.evaluator import CompiledRule, Outcome, compile_rule
from matching.core.industries import SECTION_DIVISIONS, section_divisions
from matching.core.profile import EnterpriseProfile
from matching.core.registry import FACTS, MET, OPERATOR_LABELS, UNKNOWN, UNMET
from matching.core.rules import RuleError, as_tree, parse_rule_keyed
from matching.core.tree import AllOf, Condition, Leaf, Node, child_paths, iter_leaves, three_valued
from matching.core.vocabulary import SOURCES
from portal.accounts.permissions import can_review_policies
from portal.api.exceptions import ApplicationError
from portal.enterprises import selectors as enterprise_selectors
from portal.enterprises.place_names import place_names

from .golden import GoldenInput, golden_check_cases
from .models import GoldenCase, Mode, Policy, PolicyTransition, PolicyVersion, PreviewRun

if TYPE_CHECKING:
    from portal.accounts.models import User


Status = PolicyVersion.Status
NOT_IN_EFFECT = "不在有效期"


def policy_in_effect(version: PolicyVersion, on: date | None = None) -> bool:
    """Whether a version may match enterprises on `on` (today): published and inside its effective period.

    Matching callers (preview, calculator, bulk matching) skip versions for which this is False.
    """
    on = on or timezone.localdate()
    return version.status == Status.PUBLISHED and version.in_effect_on(on)


def effect_note(version: PolicyVersion, on: date) -> str:
    """Why a version is outside its effective period on `on`, in Chinese ("" when inside)."""
    if on < version.effective_from:
        return f"{NOT_IN_EFFECT}（{version.effective_from.isoformat()} 起生效）"
    if version.effective_to is not None and on > version.effective_to:
        return f"{NOT_IN_EFFECT}（已于 {version.effective_to.isoformat()} 失效）"
    return ""


def published_versions_in_effect(*, on: date | None = None) -> QuerySet[PolicyVersion]:
    """Published versions in effect on `on` (today), one per policy."""
    on = on or timezone.localdate()
    return (
        PolicyVersion.objects.filter(status=Status.PUBLISHED, effective_from__lte=on)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
        .select_related("policy")
        .order_by("policy_id")
    )


def policy_current_published(*, policy: Policy) -> PolicyVersion | None:
    return policy.versions.filter(status=Status.PUBLISHED).first()


# Filters on what the rule says. A rule is read with partial knowledge (only the filtered facts are
# known; every other condition is "unknown"), and a policy is kept unless the known facts alone
# already rule it out. So "industry 6520" keeps policies whose industry condition covers 6520 and
# policies with no industry condition; "zone tech_ecology" keeps policies for a park (the filter
# does not say which park), but drops those limited to another zone. The rule's tree is combined
# by the evaluator's own three-valued logic (`three_valued`); only the leaves are read differently.


def _expand(code: str) -> list[str]:
    return list(section_divisions(code)) if code in SECTION_DIVISIONS else [code]


def _industry_relation(filter_code: str, listed: Iterable[str]) -> int:
    """MET when every enterprise under `filter_code` is under a listed code; UNMET when none can be."""
    wanted = _expand(filter_code)
    prefixes = [p for code in listed for p in _expand(code)]
    if all(any(w.startswith(p) for p in prefixes) for w in wanted):
        return MET
    if any(w.startswith(p) or p.startswith(w) for w in wanted for p in prefixes):
        return UNKNOWN
    return UNMET


def _known_value(leaf: Leaf, known: dict[str, str]) -> int:
    """A condition's value when only the filtered facts are known (unknown for every other one)."""
    if not isinstance(leaf, Condition) or leaf.fact not in known:
        return UNKNOWN
    fact, op, value = leaf.fact, leaf.op, leaf.value
    if fact == "industry" and op == "under":
        return _industry_relation(known["industry"], value)
    if fact == "size" and op in ("in", "not_in"):
        return MET if (known["size"] in value) == (op == "in") else UNMET
    if fact == "zone" and op == "in":
        return MET if known["zone"] in value else UNMET
    return UNKNOWN


def rule_admits(rule: Any, *, industry: str = "", size: str = "", zone: str = "", key: Hashable | None = None) -> bool:
    """False only when the given facts alone make the rule unmet (see the comment above).

    `rule` is a rule's JSON or its parsed tree; with `key` (a published version's (pk, updated_at)),
    its JSON is parsed once per process, not on every request. A rule that does not parse is
    admitted (published rules always parse: publishing validates them)."""
    known = {k: v for k, v in (("industry", industry), ("size", size), ("zone", zone)) if v}
    if not known:
        return True
    try:
        tree = as_tree(rule) if key is None else parse_rule_keyed(key, rule)
    except RuleError:
        return True
    return three_valued(tree, lambda leaf: _known_value(leaf, known)) != UNMET


def policy_list(*, filters: dict[str, Any] | None = None, on: date | None = None) -> list[PolicyVersion]:
    """The public catalogue: published versions in effect, filtered. One query.

    Filters: mode, department, benefit_kind (exact); q (text in title/summary/body); chain (tag);
    industry (a GB/T 4754 code of any level), size, zone (what the rule admits, see rule_admits).
    The catalogue has hundreds of policies at most, so the rule and tag filters run in Python.
    """
    filters = filters or {}
    versions = published_versions_in_effect(on=on)
    for name in ("mode", "department", "benefit_kind"):
        if filters.get(name):
            versions = versions.filter(**{name: filters[name]})
    if filters.get("q"):
        q = filters["q"].strip()
        versions = versions.filter(Q(title__icontains=q) | Q(summary__icontains=q) | Q(body__icontains=q))
    chain = filters.get("chain")
    industry, size, zone = filters.get("industry", ""), filters.get("size", ""), filters.get("zone", "")
    return [
        v
        for v in versions
        if (not chain or chain in v.chains)
        and rule_admits(v.rule, industry=industry, size=size, zone=zone, key=(v.pk, v.updated_at))
    ]


def policy_public_get(*, policy_id: int) -> PolicyVersion:
    """The published version of a policy (in effect or not); 404 when it has none."""
    version = (
        PolicyVersion.objects.filter(policy_id=policy_id, status=Status.PUBLISHED).select_related("policy").first()
    )
    if version is None:
        raise Http404
    return version


def policy_public_versions(*, policy_id: int) -> list[PolicyVersion]:
    """Every version of a policy that has been public (published now or retired), newest first."""
    versions = list(
        PolicyVersion.objects.filter(policy_id=policy_id, published_at__isnull=False)
        .select_related("policy")
        .order_by("-number")
    )
    if not versions:
        raise Http404
    return versions


def policy_public_version_get(*, policy_id: int, number: int) -> PolicyVersion:
    version = (
        PolicyVersion.objects.filter(policy_id=policy_id, number=number, published_at__isnull=False)
        .select_related("policy")
        .first()
    )
    if version is None:
        raise Http404
    return version


def policy_rule_in_force(*, policy_id: int, on: date) -> PolicyVersion:
    """The version whose rule was in force for a policy on `on` (开放规则: "the rule in force on …").

    That is the version the catalogue published on that day (published on or before it, not yet
    replaced or retired by the end of it) when its effective period covers the day. A version
    published later with an earlier effective_from is not back-dated: on days before its
    publication the portal decided with what was published then, and so does this answer. A day
    in the future answers with what is published now (a later version may still replace it).
    Raises ApplicationError (404, `no_rule_in_force`) when no rule was in force.
    """
    day_end = datetime.combine(on + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone())
    version = (
        PolicyVersion.objects.filter(policy_id=policy_id, published_at__lt=day_end)
        .filter(Q(retired_at__isnull=True) | Q(retired_at__gte=day_end))
        .select_related("policy")
        .order_by("-published_at")
        .first()
    )
    if version is None or not version.in_effect_on(on):
        if not PolicyVersion.objects.filter(policy_id=policy_id, published_at__isnull=False).exists():
            raise Http404
        raise ApplicationError(
            f"该政策在 {on.isoformat()} 没有生效的规则", code="no_rule_in_force", field="on", http_status=404
        )
    return version


def fact_registry_public() -> list[dict[str, Any]]:
    """The fact registry as the open-rules API shows it: one entry per fact a rule may name.

    Zone and park codes come from the database (administrators add them); every other list of
    codes is the registry's own.
    """
    names = place_names()
    places = {"zone": names.zones, "park": names.parks}
    entries = []
    for spec in FACTS.values():
        choices = places.get(spec.name, spec.choices)
        entries.append(
            {
                "name": spec.name,
                "label": spec.label,
                "type": str(spec.type),
                "unit": spec.unit,
                "operators": [{"code": op, "label": OPERATOR_LABELS[op]} for op in spec.operators],
                "choices": [{"code": code, "label": label} for code, label in choices.items()],
                "maximum": None if spec.maximum is None else str(spec.maximum),
                "verified_by": [{"code": code, "label": SOURCES[code]} for code in sorted(spec.verified_sources)],
                "shared_by": [{"code": code, "label": SOURCES[code]} for code in spec.shared_by],
            }
        )
    return entries


# Staff reads. Access is checked by the API permission (staff only); every staff role may read.


def staff_policy_list() -> QuerySet[Policy]:
    return Policy.objects.select_related("created_by").prefetch_related("versions").order_by("id")


def staff_version_queryset() -> QuerySet[PolicyVersion]:
    return PolicyVersion.objects.select_related("policy", "author", "submitted_by", "approved_by")


def staff_review_queue(*, user: User) -> dict[str, list[PolicyVersion]]:
    """待我审核: versions in review that `user` may act on now, oldest submission first.

    "approve": not yet approved, and neither written nor submitted by `user` (policy_approve refuses
    those: four eyes). "publish": approved, waiting for a reviewer to publish. Empty for non-reviewers.
    """
    if not can_review_policies(user):
        return {"approve": [], "publish": []}
    in_review = staff_version_queryset().filter(status=Status.IN_REVIEW).order_by("submitted_at", "id")
    return {
        "approve": list(in_review.filter(approved_by__isnull=True).exclude(author=user).exclude(submitted_by=user)),
        "publish": list(in_review.filter(approved_by__isnull=False)),
    }


def staff_version_transitions(*, version: PolicyVersion) -> QuerySet[PolicyTransition]:
    return version.transitions.select_related("by").order_by("at", "id")


def staff_golden_cases(*, version: PolicyVersion) -> QuerySet[GoldenCase]:
    return version.golden_cases.order_by("id")


def staff_golden_results(*, version: PolicyVersion, today: date | None = None) -> list[tuple[GoldenCase, Any]]:
    """Each golden case with its current check (a GoldenResult), or None when the rule itself is invalid."""
    cases = list(staff_golden_cases(version=version))
    try:
        results = golden_check_cases(
            rule=version.rule,
            effective_from=version.effective_from,
            effective_to=version.effective_to,
            cases=[GoldenInput(c.name, c.profile, c.expected, c.on) for c in cases],
            today=today,
            places=place_names(),
        )
    except RuleError:
        return [(case, None) for case in cases]
    return list(zip(cases, results, strict=True))


# Preview: how the version would match the district's enterprises, before it is published.

OUTCOMES = ("eligible", "needs_info", "ineligible")


def _top_level_paths(tree: Node) -> list[tuple[str, Node]]:
    """(path, node) of each top-level condition: the children of a root `all`, else the root itself."""
    if isinstance(tree, AllOf):
        return list(child_paths(tree, ""))
    return [("", tree)]


def _sample_row(profile: EnterpriseProfile, outcome: Outcome) -> dict[str, Any]:
    return {
        "credit_code": profile.credit_code,
        "name": profile.name,
        "status": outcome.status,
        "verified": bool(outcome.verified),
        "summary": outcome.summary,
    }


def rule_contradictions(*, version: PolicyVersion) -> list[dict[str, Any]]:
    """Groups of the version's rule that no enterprise can meet, read from the rule alone ([] when invalid)."""
    try:
        tree = as_tree(version.rule)
    except RuleError:
        return []
    return [c.to_dict() for c in contradictions(tree)]


OVERLAPS_SHOWN = 10


class _AuthoringCounts:
    """The preview's authoring checks that need the district's data (编写检查), counted in its one walk.

    - a condition no enterprise in the district meets (each leaf condition that the rule needs met);
    - a top-level condition of an `all` whose removal changes no enterprise's outcome;
    - overlap with live policies: how many enterprises the version makes eligible are eligible for
      each published policy in effect as well (the version's own policy's current version included).
    Warnings only: the author decides. A rule's contradictions need no data (matching.core.authoring).
    """

    def __init__(self, version: PolicyVersion, tree: Node, on: date) -> None:
        self.on = on
        self.policy_id = version.policy_id
        self.leaves = [
            (path, leaf, compile_rule(leaf))
            for path, leaf, negated in iter_leaves(tree)
            if isinstance(leaf, Condition) and not negated
        ]
        self.leaf_met: Counter[str] = Counter()
        self.leaf_unknown: Counter[str] = Counter()
        self.without: list[tuple[str, Node, CompiledRule]] = []
        if isinstance(tree, AllOf) and len(tree.children) > 1:
            for index, (path, child) in enumerate(child_paths(tree, "")):
                if not any(isinstance(leaf, Condition) for _, leaf, _ in iter_leaves(child)):
                    continue  # commitments and judgements: no data decides them
                rest = AllOf(tree.children[:index] + tree.children[index + 1 :])
                self.without.append((path, child, compile_rule(rest)))
        self.changed_without: Counter[str] = Counter()
        self.live = [
            (live, compile_rule(live.rule))
            for live in published_versions_in_effect(on=on)
            if live.pk != version.pk and live.rule
        ]
        self.eligible = 0
        self.both: Counter[int] = Counter()

    def count(self, profile: EnterpriseProfile, status: str) -> None:
        on = self.on
        for path, _, leaf in self.leaves:
            leaf_status = leaf.evaluate(profile, on=on).status
            if leaf_status == "eligible":
                self.leaf_met[path] += 1
            elif leaf_status == "needs_info":
                self.leaf_unknown[path] += 1
        for path, _, rest in self.without:
            if rest.evaluate(profile, on=on).status != status:
                self.changed_without[path] += 1
        if status == "eligible":
            self.eligible += 1
            for index, (_, compiled) in enumerate(self.live):
                if compiled.evaluate(profile, on=on).status == "eligible":
                    self.both[index] += 1

    def result(self, tree: Node, total: int) -> dict[str, Any]:
        found: dict[str, Any] = {
            "on": self.on.isoformat(),
            "counted": total > 0,
            "eligible": self.eligible,
            "contradictions": [c.to_dict() for c in contradictions(tree)],
            "unmeetable": [],
            "no_effect": [],
            "overlaps": [],
        }
        if total == 0:
            return found  # no district to count: only what the rule says by itself
        found["unmeetable"] = [
            {"path": path, "wording": "；".join(describe_rule(leaf)), "unknown": self.leaf_unknown[path]}
            for path, leaf, _ in self.leaves
            if self.leaf_met[path] == 0
        ]
        found["no_effect"] = [
            {"path": path, "wording": "；".join(describe_rule(child))}
            for path, child, _ in self.without
            if self.changed_without[path] == 0
        ]
        overlaps: list[dict[str, Any]] = [
            {
                "policy_id": live.policy_id,
                "version": live.number,
                "title": live.title,
                "same_policy": live.policy_id == self.policy_id,
                "both": both,
                "share": round(100 * both / self.eligible, 1),
            }
            for index, (live, _) in enumerate(self.live)
            if (both := self.both[index])
        ]
        overlaps.sort(key=lambda o: (-int(o["both"]), int(o["policy_id"])))
        found["overlaps"] = overlaps[:OVERLAPS_SHOWN]
        return found


def policy_preview(
    *,
    version: PolicyVersion,
    on: date | None = None,
    sample_size: int = 10,
    profiles: Iterable[EnterpriseProfile] | None = None,
) -> dict[str, Any]:
    """Count the enterprises the version would make eligible / needs_info / ineligible on `on`.

    Also, for `exempt`, how many eligible outcomes are verified (only those are granted without an
    application); per top-level condition, how many enterprises it makes unmet or unknown; a sample
    per outcome; and the authoring checks (`checks`, see _AuthoringCounts). Pure counting over plain
    profiles (`enterprise_profiles()` by default), the rule compiled once. A version outside its
    effective period matches nobody: every enterprise is counted under `not_in_effect` and the result
    says 不在有效期; its authoring checks are still counted as of `on`, so a draft for next year is
    checked against today's district.
    """
    on = on or timezone.localdate()
    if profiles is None:
        profiles = enterprise_selectors.enterprise_profiles()
    note = effect_note(version, on)
    compiled = compile_rule(version.rule)  # parsed once: the parts below are its tree's
    parts = _top_level_paths(compiled.tree)
    top_level = [(path, compile_rule(node)) for path, node in parts]
    checks = _AuthoringCounts(version, compiled.tree, on)
    counts: Counter[str] = Counter()
    verified = 0
    unmet_by: Counter[str] = Counter()
    unknown_by: Counter[str] = Counter()
    samples: dict[str, list[dict[str, Any]]] = {status: [] for status in OUTCOMES}
    total = 0
    for profile in profiles:
        total += 1
        outcome = compiled.evaluate(profile, on=on)
        checks.count(profile, outcome.status)
        if note:
            counts["not_in_effect"] += 1
            continue
        counts[outcome.status] += 1
        if outcome.status == "eligible" and outcome.verified:
            verified += 1
        if outcome.status != "eligible":
            for path, part in top_level:
                status = part.evaluate(profile, on=on).status
                if status == "ineligible":
                    unmet_by[path] += 1
                elif status == "needs_info":
                    unknown_by[path] += 1
        bucket = samples[outcome.status]
        if len(bucket) < sample_size:
            bucket.append(_sample_row(profile, outcome))

    wordings = [describe_rule(node) for _, node in parts]
    conditions = [
        {
            "path": path,
            "wording": "；".join(wording),
            "unmet": unmet_by[path],
            "unknown": unknown_by[path],
        }
        for (path, _), wording in zip(top_level, wordings, strict=True)
    ]
    return {
        "version_id": version.pk,
        "on": on.isoformat(),
        "in_effect": not note,
        "note": note,
        "mode": version.mode,
        "total": total,
        "eligible": counts["eligible"],
        "needs_info": counts["needs_info"],
        "ineligible": counts["ineligible"],
        "not_in_effect": counts["not_in_effect"],
        "verified": verified if version.mode == Mode.EXEMPT else None,
        "conditions": conditions,
        "samples": samples,
        "checks": checks.result(compiled.tree, total),
    }


def policy_preview_by_id(version_id: int, *, on: date | None = None, sample_size: int = 10) -> dict[str, Any]:
    """Entry point for a task: the preview of version `version_id` (plain data, JSON-ready)."""
    version = PolicyVersion.objects.get(pk=version_id)
    return policy_preview(version=version, on=on, sample_size=sample_size)


def preview_run_get(*, run_id: int) -> PreviewRun:
    """A preview run for the staff console (any staff role may read); 404 when there is none."""
    run = PreviewRun.objects.select_related("version", "requested_by").filter(pk=run_id).first()
    if run is None:
        raise Http404
    return run


def preview_run_latest(*, version: PolicyVersion) -> PreviewRun | None:
    return version.preview_runs.select_related("requested_by").order_by("-created_at", "-pk").first()


# The public 政策计算器: every published policy in effect, evaluated on facts a visitor typed.


@dataclass(frozen=True, slots=True)
class CheckResult:
    version: PolicyVersion
    outcome: Outcome


_STATUS_ORDER = {"eligible": 0, "needs_info": 1, "ineligible": 2}


def eligibility_check(*, profile: EnterpriseProfile, on: date | None = None) -> list[CheckResult]:
    """Every published in-effect policy's outcome for `profile`, eligible first. Reads only."""
    on = on or timezone.localdate()
    results = [
        CheckResult(version, compile_rule(version.rule).evaluate(profile, on=on))
        for version in published_versions_in_effect(on=on)
    ]
    results.sort(key=lambda r: (_STATUS_ORDER.get(r.outcome.status, 9), r.version.policy_id))
    return results


def exclusion_peers(*, version: PolicyVersion) -> list[tuple[str, list[PolicyVersion]]]:
    """同一事项不重复享受: each exclusion group of `version` with the other published policies in it (one query)."""
    groups = list(version.exclusion_groups or [])
    if not groups:
        return []
    any_group = Q()
    for group in groups:
        any_group |= Q(exclusion_groups__contains=[group])
    peers = list(
        PolicyVersion.objects.filter(any_group, status=PolicyVersion.Status.PUBLISHED)
        .exclude(policy_id=version.policy_id)
        .only("id", "policy_id", "title", "exclusion_groups", "amount_max_wan", "benefit_period", "mode")
        .order_by("title")
    )
    return [(group, [peer for peer in peers if group in peer.exclusion_groups]) for group in groups]
