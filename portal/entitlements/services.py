"""Writes for 免申即享 entitlements and the pushes that follow a match decision.

`on_match_changes` runs INSIDE the transaction that wrote the changed match records (it is the
handler of events.MATCH_RECORDS_CHANGED, see portal/events.py), so an entitlement, its notification and
the notification's outbox rows commit or roll back with the decision itself. Unique keys make it
exactly-once: one entitlement per (enterprise, policy, benefit period) whatever versions are
published, one 免申即享 notification per (enterprise, benefit, kind).

A new version of a live policy re-decides everyone; `entitlements_reconcile` (called when the version
has been decided for the whole district) settles the entitlements that rested on its predecessor.
Retiring the predecessor never moves an entitlement by itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from matching.core.describe import describe_condition
from matching.core.evaluator import compile_rule
from matching.core.receipt import ENGINE_VERSION, rule_hash
from matching.core.rules import iter_conditions
from matching.models import MatchOutcome, MatchRecord
from matching.selectors import today
from policies.models import Mode, PolicyVersion
from portal.accounts.permissions import require_deciding_staff, require_enterprise_member, require_reason
from portal.api.exceptions import ApplicationError
from portal.db import bound_cursor
from portal.enterprises.models import Enterprise
from portal.enterprises.selectors import enterprise_profiles_by_id
from portal.exclusions.services import (
    claims_release,
    claims_take_for_entitlement,
    claims_take_for_entitlements,
    claims_take_where_free,
    conflict_message,
    holders_by_enterprise,
)
from portal.lifecycle import actor_role, status_move
from portal.notices.models import DecisionNotice
from portal.notices.services import NoticeSpec, notices_issue
from portal.notifications.models import Notification
from portal.notifications.services import NotificationSpec, notification_create, notifications_create_bulk
from portal.notifications.text import sentences
from portal.receipts.models import Receipt
from portal.receipts.services import EntitlementChange, entitlement_receipts_create

from .contacts import confirm_fact_bodies
from .models import Entitlement, EntitlementTransition
from .reminders import may_apply_spec, window_closed, window_is_open

if TYPE_CHECKING:
    from policies.models import PolicyVersion
    from portal.accounts.models import User


Status = Entitlement.Status
Kind = Notification.Kind
NoticeKind = DecisionNotice.Kind


def _policy_link(version: PolicyVersion) -> str:
    return f"/policies/{version.policy_id}/"


def _unknown_conditions(rule: dict[str, Any], states: str, letters: str = "U") -> list[str]:
    """Wording of the conditions whose state letter is in `letters` when the decision was made: U
    unknown facts; A attestations and J judgements (conditions no data decides)."""
    conditions = list(iter_conditions(rule))
    return [
        describe_condition(cond, negated=negated)
        for (_, cond, negated), letter in zip(conditions, states, strict=False)
        if letter in letters
    ]


def exempt_granted_key(version: PolicyVersion) -> str:
    """The dedupe key of a version's 免申即享 granted push (shared with every version of the same benefit)."""
    return _benefit_key(version, Kind.EXEMPT_GRANTED)


def _benefit_key(version: PolicyVersion, kind: str) -> str:
    """Dedupe key of a 免申即享 push: the benefit (policy + period), not the version, so a corrected
    version that decides the same thing sends nothing again."""
    return f"p{version.policy_id}:{version.benefit_period}:{kind}"


def _unknown_facts(rule: dict[str, Any], states: str) -> list[str]:
    """The facts of the conditions that were unknown (what the enterprise would have to supply)."""
    conditions = list(iter_conditions(rule))
    facts = {cond.get("fact", "") for (_, cond, _), letter in zip(conditions, states, strict=False) if letter == "U"}
    return sorted(facts)


def _needs_info_key(version: PolicyVersion, states: str) -> str:
    if version.mode != "exempt":
        return f"pv{version.pk}:{Kind.NEEDS_INFO}"
    # Keyed by the facts still missing, not the version or the condition's wording: the same facts
    # missing under a corrected version (even with a changed threshold) are the same notice.
    facts = ",".join(_unknown_facts(version.rule, states))
    digest = hashlib.sha1(facts.encode(), usedforsecurity=False).hexdigest()[:12]
    return f"{_benefit_key(version, Kind.NEEDS_INFO)}:{digest}"


def _needs_info_spec(
    version: PolicyVersion, enterprise_id: int, key: str, unknown: list[str], pending: list[str]
) -> NotificationSpec:
    """What a needs_info decision asks for: facts to supply, and commitments / judgements no data decides."""
    payload = {"policy_version_id": version.pk}
    waiting = "；".join(pending)
    if unknown or not pending:
        missing = "；".join(unknown) or "相关信息"
        also = f"另有以下条件没有部门数据可以核验，需企业承诺或由主管部门认定：{waiting}" if pending else ""
        return NotificationSpec(
            enterprise_id,
            Kind.NEEDS_INFO,
            key,
            title=f"补充信息即可判断：{version.title}",
            body=sentences(
                f"还需要以下信息才能判断贵企业是否符合“{version.title}”：{missing}",
                "请在“企业信息”中补充，系统会重新判定",
                also,
            ),
            link="/workspace/profile/",
            payload=payload,
        )
    return NotificationSpec(
        enterprise_id,
        Kind.NEEDS_INFO,
        key,
        title=f"需承诺或认定：{version.title}",
        body=sentences(
            f"“{version.title}”还有以下条件没有部门数据可以核验，需企业承诺或由主管部门认定：{waiting}",
            "请在政策页面查看申报要求",
        ),
        link=_policy_link(version),
        payload=payload,
    )


def on_match_changes(*, version_id: int, changes: Sequence[Any], run_id: int | None) -> None:
    """Create entitlements and notifications for changed decisions (inside the decision's transaction)."""
    if not changes:
        return
    version = PolicyVersion.objects.get(pk=version_id)
    specs, notices = _match_changes(version, changes, _needs_info_records(changes))
    if notices:
        notices_issue(items=notices)
    if specs:
        notifications_create_bulk(items=_with_confirm_bodies(specs, {version.pk: version}))


def _on_match_changes_many(payloads: Sequence[dict[str, Any]]) -> None:
    """`on_match_changes` for many versions' changes written together (matching's nightly run): the versions
    and the records read once, and the notices and notifications of every version issued in one call
    each, in the order the per-version calls would issue them."""
    payloads = [p for p in payloads if p["changes"]]
    if not payloads:
        return
    versions = PolicyVersion.objects.in_bulk([p["version_id"] for p in payloads])
    records = _needs_info_records([c for p in payloads for c in p["changes"]])
    standing = None  # off PostgreSQL each version looks for itself (`_entitlements_rebase`)
    if connection.vendor == "postgresql":
        changes_of = {p["version_id"]: p["changes"] for p in payloads}
        exempt = [versions[pk] for pk in changes_of]
        exempt = [v for v in exempt if v.mode == Mode.EXEMPT and v.status == PolicyVersion.Status.PUBLISHED]
        standing = _standing_elsewhere(exempt, {v.pk: _granted(changes_of[v.pk]) for v in exempt})
    specs: list[NotificationSpec] = []
    notices: list[NoticeSpec] = []
    to_explain: dict[int, list[int]] = {}
    for payload in payloads:
        version_specs, version_notices = _match_changes(
            versions[payload["version_id"]], payload["changes"], records, standing, to_explain
        )
        specs += version_specs
        notices += version_notices
    entitlement_explanations_sync_many(enterprise_ids_by_version=to_explain)
    if notices:
        notices_issue(items=notices)
    if specs:
        notifications_create_bulk(items=_with_confirm_bodies(specs, versions))


# The events table calls one handler per version unless the handler answers many at once (events.emit_many).
on_match_changes.many = _on_match_changes_many  # type: ignore[attr-defined]


def _needs_info_records(changes: Sequence[Any]) -> dict[int, tuple[str, Any]]:
    """record id → (states, explanation) of the changes that now need information (one query)."""
    wanted = [
        c.record_id
        for c in changes
        if c.outcome == MatchOutcome.NEEDS_INFO and c.previous_outcome != MatchOutcome.NEEDS_INFO
    ]
    if not wanted:
        return {}
    rows = MatchRecord.objects.filter(pk__any_of=wanted).values_list("pk", "states", "explanation")
    return {pk: (letters, explanation) for pk, letters, explanation in rows}


def _granted(changes: Sequence[Any]) -> list[int]:
    """The enterprises a 免申即享 version's changes entitle: eligible on verified data, and not already so."""
    return list(
        dict.fromkeys(
            c.enterprise_id
            for c in changes
            if c.outcome == MatchOutcome.ELIGIBLE
            and c.verified
            and not (c.previous_outcome == MatchOutcome.ELIGIBLE and c.previous_verified)
        )
    )


def _standing_elsewhere(versions: Sequence[PolicyVersion], granted: dict[int, list[int]]) -> set[tuple[int, int]]:
    """(version id, enterprise id) among `granted` (version id → enterprise ids) whose enterprise holds the
    version's benefit (policy and period) under another version: the only ones `_entitlements_rebase` can
    move (the live entitlements of `_benefit_entitlements`). One query for every version of the nightly
    run's call (PostgreSQL), where a probe per version cost a second. Nothing the other versions of the same
    call write can add such a row: a policy has one published version, so no two of them share a benefit."""
    rows = [(v.pk, v.policy_id, v.benefit_period, e) for v in versions for e in granted.get(v.pk, ())]
    if not rows:
        return set()
    qn = connection.ops.quote_name
    # The table name from model metadata; every value is a parameter.
    sql = f"""
        SELECT g.version_id, e.enterprise_id
          FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::bigint[])
               AS g(version_id, policy_id, period, enterprise)
          JOIN {qn(Entitlement._meta.db_table)} e
            ON e.policy_id = g.policy_id AND e.period = g.period AND e.enterprise_id = g.enterprise
         WHERE e.duplicate_of_id IS NULL AND NOT (e.status = ANY(%s)) AND e.policy_version_id <> g.version_id
    """  # noqa: S608
    columns = [list(column) for column in zip(*rows, strict=True)]
    with bound_cursor() as cursor:
        cursor.execute(sql, [*columns, [str(status) for status in _NOT_HOLDING]])
        return set(cursor.fetchall())


def _match_changes(
    version: PolicyVersion,
    changes: Sequence[Any],
    records: dict[int, tuple[str, Any]],
    standing: set[tuple[int, int]] | None = None,
    to_explain: dict[int, list[int]] | None = None,
) -> tuple[list[NotificationSpec], list[NoticeSpec]]:
    """The entitlements one version's changed decisions create (written here) and the notices and
    notifications they call for (returned, for the caller to issue). `records`: `_needs_info_records`;
    `standing`: `_standing_elsewhere` for these changes, or None to look for each version here;
    `to_explain`: where to leave the granted enterprises (version id → ids) whose entitlements the caller
    gives their explanation, for every version at once, or None to do it here."""
    newly_eligible = [
        c for c in changes if c.outcome == MatchOutcome.ELIGIBLE and c.previous_outcome != MatchOutcome.ELIGIBLE
    ]
    specs: list[NotificationSpec] = []
    notices: list[NoticeSpec] = []
    if version.mode == Mode.EXEMPT:
        if version.status != PolicyVersion.Status.PUBLISHED:
            # A retired (or never published) version's decisions are history: whether its records
            # stay or fall to ineligible, they neither grant, move nor revoke an entitlement. The
            # published successor decides (see entitlements_reconcile).
            return [], []
        granted_ids = _granted(changes)
        created = _entitlements_create(version=version, enterprise_ids=granted_ids)
        # 同一事项不重复享受: a new entitlement whose exclusion group is already held is set aside.
        excluded = _entitlements_exclude_losers(version=version, enterprise_ids=created)
        # Already entitled to this benefit under an earlier version: the entitlement now rests on
        # this version's decision; the enterprise's situation did not change, so no push.
        created_set = set(created)
        rebase = [e for e in granted_ids if e not in created_set]
        if standing is not None:  # the caller read which of them hold this benefit under another version
            rebase = [e for e in rebase if (version.pk, e) in standing]
        _entitlements_rebase(version=version, enterprise_ids=rebase)
        # Rebased entitlements (and new ones on SQLite, whose insert carries none) take this decision's
        # explanation, in the decision's own transaction. Nothing below reads an entitlement's explanation.
        if to_explain is not None:
            to_explain.setdefault(version.pk, []).extend(granted_ids)
        elif granted_ids:
            entitlement_explanations_sync(version_id=version.pk, enterprise_ids=granted_ids)
        notices += _granted_notices(version, [e for e in created if e not in excluded])
        notices += _excluded_notices(version, excluded)
        specs += [
            NotificationSpec(
                enterprise_id,
                Kind.EXEMPT_GRANTED,
                _benefit_key(version, Kind.EXEMPT_GRANTED),
                title=f"免申即享：{version.title}",
                body=(
                    f"根据相关部门共享的数据，贵企业符合“{version.title}”的条件，无需申报即可享受。"
                    "请在“免申即享兑现”中确认；如有异议可提出。"
                ),
                link="/workspace/",
                payload={"policy_version_id": version.pk},
            )
            for enterprise_id in created
            if enterprise_id not in excluded
        ]
        specs += [
            NotificationSpec(
                enterprise_id,
                Kind.ENTITLEMENT_UPDATE,
                _benefit_key(version, Status.EXCLUDED),
                title=f"同类事项不重复享受：{version.title}",
                body=sentences(
                    f"根据相关部门共享的数据，贵企业符合“{version.title}”的条件",
                    f"但该政策{note}",
                    "如希望改为享受本项，可在“免申即享兑现”中选择（已兑现的除外）",
                ),
                link="/workspace/",
                payload={"policy_version_id": version.pk},
            )
            for enterprise_id, note in excluded.items()
        ]
        # Self-declared eligibility never creates an entitlement: say what to get confirmed.
        specs += [
            NotificationSpec(
                c.enterprise_id,
                Kind.CONFIRM_FACT,
                _benefit_key(version, Kind.CONFIRM_FACT),
                title=f"请核验信息以享受：{version.title}",
                body=(
                    "按贵企业自行填报的信息，符合该免申即享政策；相关信息经部门核验后即可直接享受。"
                    "请在“企业信息”中对标注为“自行填报”的项目点击“申请核验”，由主管部门在线核验。"
                ),
                link="/workspace/profile/",
                payload={"policy_version_id": version.pk},
            )
            for c in newly_eligible
            if not c.verified
        ]
    else:
        # 可申报 only while the window is open: a window that opens later is pushed on its opening day
        # (reminders.apply_window_opening_pushes, same dedupe key); a closed one is never pushed.
        if window_is_open(version, timezone.localdate()):
            specs += [may_apply_spec(enterprise_id=c.enterprise_id, version=version) for c in newly_eligible]
    needs_info = [
        c for c in changes if c.outcome == MatchOutcome.NEEDS_INFO and c.previous_outcome != MatchOutcome.NEEDS_INFO
    ]
    # Supplying information cannot help with a 申报 policy whose window has closed.
    if needs_info and version.mode == Mode.APPLY and window_closed(version, timezone.localdate()):
        needs_info = []
    if needs_info:
        states = {pk: row[0] for pk, row in records.items()}
        explanations = {pk: row[1] for pk, row in records.items()}
        wording_cache: dict[str, tuple[list[str], list[str]]] = {}
        for c in needs_info:
            letters = states.get(c.record_id, "")
            if letters not in wording_cache:
                wording_cache[letters] = (
                    _unknown_conditions(version.rule, letters),
                    _unknown_conditions(version.rule, letters, letters="AJ"),
                )
            key = _needs_info_key(version, letters)
            spec = _needs_info_spec(version, c.enterprise_id, key, *wording_cache[letters])
            specs.append(spec)
            notices.append(
                NoticeSpec(
                    c.enterprise_id,
                    NoticeKind.NEEDS_INFO,
                    key,
                    version.pk,
                    decision=f"现有数据尚不足以判定贵企业是否符合“{version.title}”的条件，需补充信息、作出承诺或经主管部门认定后重新判定。",
                    reasons=spec.body,
                    explanation=explanations.get(c.record_id),
                    subject=version.get_mode_display(),
                    link=spec.link,
                )
            )
    return specs, notices


def _with_confirm_bodies(specs: list[NotificationSpec], versions: dict[int, PolicyVersion]) -> list[NotificationSpec]:
    """请核验 must lead somewhere: each enterprise's notice names its pending facts, the departments that
    verify them and the policy's contact (built after `_match_changes` chose whom to tell, for every
    version's specs at once: one profile read however many versions changed)."""
    # Each 请核验 spec names its version in its payload (built in `_match_changes`).
    keys = [
        (spec.payload["policy_version_id"], spec.enterprise_id)
        if spec.kind == Kind.CONFIRM_FACT and spec.payload
        else None
        for spec in specs
    ]
    confirm: dict[int, list[int]] = {}
    for key in keys:
        if key is not None:
            confirm.setdefault(key[0], []).append(key[1])
    if not confirm:
        return specs
    bodies = confirm_fact_bodies(
        versions=[versions[pk] for pk in confirm], enterprise_ids=confirm, on=timezone.localdate()
    )
    return [
        replace(spec, body=bodies[key]) if key is not None and key in bodies else spec
        for spec, key in zip(specs, keys, strict=True)
    ]


def _granted_notices(version: PolicyVersion, enterprise_ids: list[int]) -> list[NoticeSpec]:
    """享受 notices for new entitlements, each with the decision's explanation (the facts it used)."""
    if not enterprise_ids:
        return []
    explanations = dict(
        MatchRecord.objects.filter(policy_version=version, enterprise_id__in=enterprise_ids).values_list(
            "enterprise_id", "explanation"
        )
    )
    return [
        NoticeSpec(
            enterprise_id,
            NoticeKind.GRANTED,
            _benefit_key(version, Kind.EXEMPT_GRANTED),
            version.pk,
            decision=(
                f"经依据部门共享数据核验，贵企业符合“{version.title}”（{version.benefit_period_label}）的条件，"
                "予以享受（免申即享），无需申报。请在“免申即享兑现”中确认；如有异议可提出。"
            ),
            reasons=(explanations.get(enterprise_id) or {}).get("summary", ""),
            explanation=explanations.get(enterprise_id),
            link="/workspace/",
        )
        for enterprise_id in enterprise_ids
    ]


def _excluded_notices(version: PolicyVersion, excluded: dict[int, str]) -> list[NoticeSpec]:
    """不予享受 notices for new entitlements set aside (同一事项不重复享受): eligible, but the exclusion group
    is held by another benefit of the enterprise ({enterprise_id: note naming it})."""
    if not excluded:
        return []
    explanations = dict(
        MatchRecord.objects.filter(policy_version=version, enterprise_id__in=list(excluded)).values_list(
            "enterprise_id", "explanation"
        )
    )
    return [
        NoticeSpec(
            enterprise_id,
            NoticeKind.REFUSED,
            _benefit_key(version, Status.EXCLUDED),
            version.pk,
            decision=(
                f"贵企业符合“{version.title}”（{version.benefit_period_label}）的条件，但该政策{note}，"
                "本项不予重复享受。如希望改为享受本项，可在“免申即享兑现”中选择（已兑现的除外）。"
            ),
            reasons=note,
            explanation=explanations.get(enterprise_id),
            link="/workspace/",
        )
        for enterprise_id, note in excluded.items()
    ]


# Matching determines the entitlement and the same transaction pushes it to the inbox: two audit rows.
_GRANT_STEPS = (
    ("", Status.DETERMINED, "部门共享数据核验符合条件（免申即享）"),
    (Status.DETERMINED, Status.NOTIFIED, "已推送至企业消息中心"),
)


_GRANT_REASON = "；".join(why for _, _, why in _GRANT_STEPS)


def _version_transition(
    row: Entitlement, previous_status: str, *, version: PolicyVersion, reason: str, now: Any
) -> Any:
    """The system's history row when a new version re-decides an entitlement: both decisions kept
    (the earlier version and its explanation on the row, the new version as the current one)."""
    return EntitlementTransition(
        entitlement_id=row.pk,
        from_status=previous_status,
        to_status=row.status,
        by_role=EntitlementTransition.ByRole.SYSTEM,
        policy_version=version,
        previous_version_id=row.policy_version_id,
        previous_explanation=row.explanation,
        reason=reason,
        at=now,
    )


def _entitlements_create(*, version: PolicyVersion, enterprise_ids: list[int]) -> list[int]:
    """Entitlements for these enterprises where they have none for this benefit (policy + period),
    each with its transitions; returns the enterprises that got a new one. The unique key on the
    benefit decides, also against a concurrent run or a concurrent version."""
    if not enterprise_ids:
        return []
    now = timezone.now()
    ids = list(dict.fromkeys(enterprise_ids))
    if connection.vendor == "postgresql":
        return _entitlements_create_postgresql(version=version, enterprise_ids=ids, now=now)
    existing = set(
        Entitlement.objects.filter(
            policy_id=version.policy_id, period=version.benefit_period, enterprise_id__in=ids
        ).values_list("enterprise_id", flat=True)
    )
    fresh = [e for e in ids if e not in existing]
    Entitlement.objects.bulk_create(
        [
            Entitlement(
                enterprise_id=e,
                policy_id=version.policy_id,
                period=version.benefit_period,
                policy_version=version,
                status=Status.NOTIFIED,
                determined_at=now,
            )
            for e in fresh
        ],
        ignore_conflicts=True,  # a concurrent run may have just created some: the unique key decides
        batch_size=5000,
    )
    created = list(
        Entitlement.objects.filter(policy_version=version, enterprise_id__in=fresh, determined_at=now).values_list(
            "pk", "enterprise_id"
        )
    )
    EntitlementTransition.objects.bulk_create(
        [
            EntitlementTransition(
                entitlement_id=pk, from_status=frm, to_status=to, reason=why, at=now, policy_version=version
            )
            for pk, _ in created
            for frm, to, why in _GRANT_STEPS
        ],
        batch_size=5000,
    )
    _grant_receipts(version=version, created=created, now=now)
    return [e for _, e in created]


def _grant_receipts(*, version: PolicyVersion, created: Sequence[tuple[int, int]], now: Any) -> None:
    """A receipt for each entitlement just created ((entitlement id, enterprise id)), resting on its decision's."""
    entitlement_receipts_create(
        changes=[
            EntitlementChange(
                entitlement_id=pk,
                enterprise_id=enterprise_id,
                policy_version_id=version.pk,
                status=Status.NOTIFIED,
                previous_status="",
                reason=_GRANT_REASON,
                by_role=EntitlementTransition.ByRole.SYSTEM,
            )
            for pk, enterprise_id in created
        ],
        at=now,
    )


def _transition_receipts(pairs: Sequence[tuple[Entitlement, EntitlementTransition]], now: Any) -> None:
    """A receipt for each status change or re-decision just written (the entitlement as it now stands)."""
    entitlement_receipts_create(
        changes=[
            EntitlementChange(
                entitlement_id=row.pk,
                enterprise_id=row.enterprise_id,
                # The version that decided this step (a newer one re-deciding it), else the one it rests on.
                policy_version_id=transition.policy_version_id or row.policy_version_id,
                status=transition.to_status,
                previous_status=transition.from_status,
                reason=transition.reason,
                by_role=transition.by_role,
                explanation=(
                    row.review_explanation
                    if row.review_version_id is not None and row.review_version_id == transition.policy_version_id
                    else row.explanation
                ),
            )
            for row, transition in pairs
        ],
        at=now,
    )


def _entitlements_exclude_losers(*, version: PolicyVersion, enterprise_ids: Sequence[int]) -> dict[int, str]:
    """Claim the version's exclusion groups for its new entitlements; those that find a group held by
    another benefit become 同类不重复享受 (with a transition and the note naming the holder). In the
    creating transaction. Returns {enterprise_id: note} of the excluded."""
    if not version.exclusion_groups or not enterprise_ids:
        return {}
    pairs = list(
        Entitlement.objects.filter(
            policy_id=version.policy_id, period=version.benefit_period, enterprise_id__in=list(enterprise_ids)
        ).values_list("pk", "enterprise_id")
    )
    losers = claims_take_for_entitlements(version=version, entitlements=pairs)
    if not losers:
        return {}
    now = timezone.now()
    rows = list(Entitlement.objects.filter(pk__in=list(losers)).select_for_update())
    notes: dict[int, str] = {}
    transitions = []
    for row in rows:
        note = conflict_message(losers[row.pk])
        notes[row.enterprise_id] = note
        transitions.append(
            EntitlementTransition(
                entitlement_id=row.pk,
                from_status=row.status,
                to_status=Status.EXCLUDED,
                by_role=EntitlementTransition.ByRole.SYSTEM,
                policy_version=version,
                reason=note,
                at=now,
            )
        )
        row.status, row.exclusion_note, row.updated_at = Status.EXCLUDED, note, now
    Entitlement.objects.bulk_update(rows, ["status", "exclusion_note", "updated_at"], batch_size=2000)
    EntitlementTransition.objects.bulk_create(transitions, batch_size=2000)
    _transition_receipts(list(zip(rows, transitions, strict=True)), now)  # 认定依据 of each set-aside
    return notes


def _entitlements_create_postgresql(*, version: PolicyVersion, enterprise_ids: list[int], now: Any) -> list[int]:
    """The same as one set-based statement: INSERT … SELECT FROM unnest(ids) ON CONFLICT DO NOTHING
    RETURNING feeds the transitions' INSERT, so only the rows this statement created get them."""
    qn = connection.ops.quote_name
    entitlement, transition = qn(Entitlement._meta.db_table), qn(EntitlementTransition._meta.db_table)
    record, receipt = qn(MatchRecord._meta.db_table), qn(Receipt._meta.db_table)
    # Table names from model metadata; every value is a parameter. Each entitlement is created with
    # its 认定依据: the decision's explanation, written earlier in this same transaction.
    sql = f"""
        WITH new AS (
            INSERT INTO {entitlement} (enterprise_id, policy_id, period, policy_version_id, status, explanation,
                                       objection_reason, resolution, revoke_reason, review_version_id,
                                       review_explanation, status_before_review, recovery_flagged_at,
                                       recovery_note, duplicate_of_id, determined_at, updated_at)
            SELECT e, %(policy)s, %(period)s, %(version)s, %(status)s,
                   (SELECT r.explanation FROM {record} r
                     WHERE r.policy_version_id = %(version)s AND r.enterprise_id = e),
                   '', '', '', NULL, NULL, '', NULL, '', NULL, %(now)s, %(now)s
            FROM unnest(%(ids)s::bigint[]) AS e ORDER BY e
            ON CONFLICT (enterprise_id, policy_id, period) WHERE duplicate_of_id IS NULL DO NOTHING
            RETURNING id, enterprise_id
        ), steps AS (
            SELECT * FROM unnest(%(step)s::int[], %(from)s::text[], %(to)s::text[], %(why)s::text[])
                AS s(n, from_status, to_status, reason)
        ), audit AS (
            INSERT INTO {transition} (entitlement_id, from_status, to_status, by_id, by_role, policy_version_id,
                                      previous_version_id, previous_explanation, reason, at)
            SELECT new.id, s.from_status, s.to_status, NULL, %(role)s, %(version)s, NULL, NULL, s.reason, %(now)s
            FROM new CROSS JOIN steps s ORDER BY new.id, s.n
        ), receipts AS (
            INSERT INTO {receipt} (kind, enterprise_id, policy_version_id, match_record_id, entitlement_id, outcome,
                                   verified, previous_outcome, previous_verified, status, previous_status, reason,
                                   by_role, rule_hash, engine_version, explanation, facts, basis_id, run_id, at)
            SELECT %(receipt_kind)s, new.enterprise_id, %(version)s, b.match_record_id, new.id,
                   COALESCE(b.outcome, ''), COALESCE(b.verified, FALSE), '', FALSE, %(status)s, '', %(grant_reason)s,
                   %(role)s, COALESCE(b.rule_hash, %(rule_hash)s), COALESCE(b.engine_version, %(engine)s),
                   b.explanation, COALESCE(b.facts, '{{}}'::jsonb), b.id, NULL, %(now)s
            FROM new LEFT JOIN LATERAL (
                SELECT * FROM {receipt} r
                 WHERE r.enterprise_id = new.enterprise_id AND r.policy_version_id = %(version)s
                   AND r.kind = %(decision_kind)s
                 ORDER BY r.id DESC LIMIT 1) b ON TRUE
            ORDER BY new.id
        )
        SELECT enterprise_id FROM new ORDER BY enterprise_id
    """  # noqa: S608
    params = {
        "policy": version.policy_id,
        "period": version.benefit_period,
        "version": version.pk,
        "status": Status.NOTIFIED,
        "role": EntitlementTransition.ByRole.SYSTEM,
        "now": now,
        "ids": enterprise_ids,
        "step": list(range(len(_GRANT_STEPS))),
        "from": [str(frm) for frm, _, _ in _GRANT_STEPS],
        "to": [str(to) for _, to, _ in _GRANT_STEPS],
        "why": [why for _, _, why in _GRANT_STEPS],
        # Each new entitlement's receipt rests on its decision's receipt, written earlier in this transaction.
        "receipt_kind": Receipt.Kind.ENTITLEMENT.value,
        "decision_kind": Receipt.Kind.DECISION.value,
        "grant_reason": _GRANT_REASON,
        "rule_hash": rule_hash(version.rule),
        "engine": ENGINE_VERSION,
    }
    with bound_cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _benefit_entitlements(version: PolicyVersion) -> Any:
    """The live entitlements to `version`'s benefit (same policy, same period), merged duplicates aside."""
    return _benefit_entitlements_of(policy_id=version.policy_id, period=version.benefit_period)


# An entitlement in these states no longer holds its benefit (nor does one merged into another: duplicate_of).
_NOT_HOLDING = (Status.REVOKED, Status.EXCLUDED)


def _benefit_entitlements_of(*, policy_id: Any, period: Any) -> Any:
    return Entitlement.objects.filter(policy_id=policy_id, period=period, duplicate_of__isnull=True).exclude(
        status__in=_NOT_HOLDING
    )


def _entitlements_rebase(*, version: PolicyVersion, enterprise_ids: Sequence[int], now: Any = None) -> int:
    """Entitlements to this benefit granted under an earlier version, whose enterprise `version` finds
    eligible (verified) too: they stay, now resting on `version`'s decision. The earlier decision is
    kept in the transition row. One under review (待复核) because an intermediate version dropped it
    goes back to where it was; a disbursed one flagged as a possible 追回 case is unflagged."""
    if not enterprise_ids:
        return 0
    now = now or timezone.now()
    held = _benefit_entitlements(version).filter(enterprise_id__in=list(enterprise_ids)).exclude(policy_version=version)
    # Usually there are none (the nightly run asks for every exempt version it wrote): a bare probe costs
    # half the locking read with its join, so the read runs only when there is something to rebase.
    if not held.exists():
        return 0
    rows = list(held.select_related("policy_version").select_for_update(of=("self",)))
    transitions = []
    for row in rows:
        previous_status = row.status
        reason = f"政策更新为第{version.number}版，按新版本重新核验仍符合条件，兑现记录不变"
        if row.status == Status.PENDING_REVIEW:
            row.status = row.status_before_review or Status.NOTIFIED
            reason += "；复核自动解除"
        if row.recovery_flagged_at is not None:
            row.recovery_flagged_at = None
            row.recovery_note = f"第{version.number}版重新核验符合条件，不再列为可能追回"
        transitions.append(_version_transition(row, previous_status, version=version, reason=reason, now=now))
        row.policy_version = version
        row.explanation = None  # the new decision's, copied by entitlement_explanations_sync
        row.review_version = None
        row.review_explanation = None
        row.status_before_review = ""
        row.updated_at = now
    Entitlement.objects.bulk_update(
        rows,
        [
            "status",
            "policy_version",
            "explanation",
            "review_version",
            "review_explanation",
            "status_before_review",
            "recovery_flagged_at",
            "recovery_note",
            "updated_at",
        ],
        batch_size=2000,
    )
    EntitlementTransition.objects.bulk_create(transitions, batch_size=2000)
    _transition_receipts(list(zip(rows, transitions, strict=True)), now)
    # A corrected version may name exclusion groups: the standing entitlements claim what is free.
    claims_take_where_free(version=version, entitlements=[(row.pk, row.enterprise_id) for row in rows])
    return len(rows)


def _decision_explanations(version: PolicyVersion, enterprise_ids: list[int]) -> dict[int, Any]:
    """`version`'s explanation for each enterprise: its stored match record's, or (no record: the bulk
    path stores none for an ineligible decision) the evaluator's, computed now."""
    found = dict(
        MatchRecord.objects.filter(policy_version=version, enterprise_id__in=enterprise_ids)
        .exclude(explanation__isnull=True)
        .values_list("enterprise_id", "explanation")
    )
    missing = [e for e in enterprise_ids if e not in found]
    if missing:
        on = today()
        compiled = compile_rule(version.rule)
        for pk, profile in enterprise_profiles_by_id(queryset=Enterprise.objects.filter(pk__in=missing)):
            found[pk] = compiled.evaluate(profile, on=on).to_dict() if version.in_effect_on(on) else None
    return found


def versions_with_entitlements_to_settle(*, version_ids: Sequence[int]) -> list[int]:
    """Of these versions, those `entitlements_reconcile` would find something to settle for, in one query:
    a published 免申即享 version with a live entitlement to its benefit resting on another version and not
    yet reviewed under it. The rest would return at once with nothing done, so they can be skipped."""
    if not version_ids:
        return []
    return [version.pk for version in _versions_to_settle_query(version_ids=version_ids)]


def _versions_to_settle_query(*, version_ids: Sequence[int]) -> Any:
    """The pre-check's query (a RawQuerySet of versions, in id order): PostgreSQL's form, or the ORM's."""
    if connection.vendor == "postgresql":
        entitlement = connection.ops.quote_name(Entitlement._meta.db_table)
        version = connection.ops.quote_name(PolicyVersion._meta.db_table)
        # "Rests on another version" as two row ranges over (policy, period, version) rather than `<>`, so
        # each EXISTS stops at its first row in entitlement_benefit_ver_idx: the row comparison is a range
        # of that index only, where `policy_version_id < v.id` drew the planner to the version's own index
        # and read each benefit's every entitlement. Table names from model metadata; values are parameters.
        probe = f"""
            EXISTS (SELECT 1 FROM {entitlement} e
                     WHERE e.policy_id = v.policy_id AND e.period = v.benefit_period AND e.duplicate_of_id IS NULL
                       AND (e.policy_id, e.period, e.policy_version_id) {{}} (v.policy_id, v.benefit_period, v.id)
                       AND NOT (e.status = ANY(%(not_holding)s)) AND e.review_version_id IS DISTINCT FROM v.id)
        """  # noqa: S608
        sql = f"""
            SELECT v.id FROM {version} v
             WHERE v.id = ANY(%(ids)s::bigint[]) AND v.mode = %(exempt)s AND v.status = %(published)s
               AND ({probe.format("<")} OR {probe.format(">")})
             ORDER BY v.id
        """  # noqa: S608
        params = {
            "ids": list(version_ids),
            "exempt": str(Mode.EXEMPT),
            "published": str(PolicyVersion.Status.PUBLISHED),
            "not_holding": [str(status) for status in _NOT_HOLDING],
        }
        return PolicyVersion.objects.raw(sql, params)
    stale = (
        _benefit_entitlements_of(policy_id=OuterRef("policy_id"), period=OuterRef("benefit_period"))
        .exclude(review_version=OuterRef("pk"))
        .values("pk")
    )
    return (
        PolicyVersion.objects.filter(pk__in=list(version_ids), mode=Mode.EXEMPT, status=PolicyVersion.Status.PUBLISHED)
        .filter(
            Exists(stale.filter(policy_version__lt=OuterRef("pk")))
            | Exists(stale.filter(policy_version__gt=OuterRef("pk")))
        )
        .order_by("pk")
    )


def entitlements_reconcile_many(*, version_ids: Sequence[int]) -> dict[str, int]:
    """`entitlements_reconcile` for each of these versions (a whole catalogue decided by the nightly run),
    with the same result: one query finds the versions with something to settle, and only those are
    reconciled (each in its own transaction, as when decided one by one)."""
    counts = {"rebased": 0, "review": 0, "recovery": 0}
    for version_id in versions_with_entitlements_to_settle(version_ids=version_ids):
        for key, n in entitlements_reconcile(version_id=version_id).items():
            counts[key] += n
    return counts


def entitlements_reconcile(*, version_id: int) -> dict[str, int]:
    """After `version` has been decided for the whole district: settle the entitlements to its benefit
    that rest on an earlier version's decision.

    State-based, so the result does not depend on the order in which the new version's chunks, its
    predecessor's retirement or an incremental match arrived, and running it again changes nothing:
    - the new version finds the enterprise eligible (verified): the entitlement now rests on it;
    - it does not, and nothing was paid: 待复核 (staff keep or revoke; never revoked here);
    - it does not, and it was already disbursed: listed as a possible 追回 case, status unchanged.
    An entitlement staff already reviewed under this version (review_version) is left alone.
    """
    counts = {"rebased": 0, "review": 0, "recovery": 0}
    if not versions_with_entitlements_to_settle(version_ids=[version_id]):
        # The common case (nothing rests on an earlier version): one query, no lock. Whatever a chunk of
        # this version still running commits is settled when that run announces its own end.
        return counts
    with transaction.atomic():
        # Serialise with the version's own chunks (they lock the same row).
        version = PolicyVersion.objects.select_for_update().filter(pk=version_id).first()
        if version is None or version.mode != Mode.EXEMPT or version.status != PolicyVersion.Status.PUBLISHED:
            return counts
        stale = (
            _benefit_entitlements(version)
            .exclude(policy_version=version)
            .exclude(review_version=version)
            .values_list("enterprise_id", flat=True)
        )
        enterprise_ids = list(stale)
        if not enterprise_ids:
            return counts
        eligible = set(
            MatchRecord.objects.filter(
                policy_version=version, enterprise_id__in=enterprise_ids, outcome=MatchOutcome.ELIGIBLE, verified=True
            ).values_list("enterprise_id", flat=True)
        )
        now = timezone.now()
        counts["rebased"] = _entitlements_rebase(version=version, enterprise_ids=sorted(eligible), now=now)
        if counts["rebased"]:
            entitlement_explanations_sync(version_id=version.pk, enterprise_ids=sorted(eligible))
        dropped = sorted(set(enterprise_ids) - eligible)
        if not dropped:
            return counts
        explanations = _decision_explanations(version, dropped)
        rows = list(
            _benefit_entitlements(version)
            .filter(enterprise_id__in=dropped)
            .exclude(policy_version=version)
            .exclude(review_version=version)
            .select_for_update()
        )
        transitions, specs, notices = [], [], []
        for row in rows:
            previous_status = row.status
            row.review_version = version
            row.review_explanation = explanations.get(row.enterprise_id)
            if row.status == Status.DISBURSED:
                row.recovery_flagged_at = now
                row.recovery_note = ""
                reason = (
                    f"政策更新为第{version.number}版，按新版本不再符合条件；该笔已兑现，列为可能追回，"
                    "由工作人员核查（不自动追回）"
                )
                counts["recovery"] += 1
            else:
                if row.status != Status.PENDING_REVIEW:
                    row.status_before_review = row.status
                row.status = Status.PENDING_REVIEW
                reason = f"政策更新为第{version.number}版，按新版本未认定符合条件；转工作人员复核，复核前不撤销、不兑现"
                counts["review"] += 1
                specs.append(
                    NotificationSpec(
                        row.enterprise_id,
                        Kind.ENTITLEMENT_UPDATE,
                        f"ent{row.pk}:review:pv{version.pk}",
                        title=f"兑现进度：{Status.PENDING_REVIEW.label}",
                        body=(
                            f"“{version.title}”已更新为第{version.number}版。按新版本，贵企业的兑现记录需由工作人员复核；"
                            "复核期间记录不会被撤销，复核结果将在此告知。"
                        ),
                        link="/workspace/",
                        payload={"entitlement_id": row.pk},
                    )
                )
                notices.append(
                    NoticeSpec(
                        row.enterprise_id,
                        NoticeKind.PENDING_REVIEW,
                        f"ent{row.pk}:review:pv{version.pk}",
                        version.pk,
                        decision=(
                            f"“{version.title}”已更新为第{version.number}版。按新版本，贵企业的兑现记录"
                            f"（{row.period_label}）转工作人员复核；复核期间记录不撤销、不兑现，复核结果将另行通知。"
                        ),
                        reasons=reason,
                        explanation=row.review_explanation,
                        link="/workspace/",
                    )
                )
            row.updated_at = now
            transitions.append(_version_transition(row, previous_status, version=version, reason=reason, now=now))
        Entitlement.objects.bulk_update(
            rows,
            [
                "status",
                "status_before_review",
                "review_version",
                "review_explanation",
                "recovery_flagged_at",
                "recovery_note",
                "updated_at",
            ],
            batch_size=2000,
        )
        EntitlementTransition.objects.bulk_create(transitions, batch_size=2000)
        if notices:
            notices_issue(items=notices)
        _transition_receipts(list(zip(rows, transitions, strict=True)), now)
        if specs:
            notifications_create_bulk(items=specs)
    return counts


# An entitlement in these states keeps the basis it was decided (and paid, or closed) on.
EXPLANATION_FROZEN = (Status.DISBURSED, Status.REVOKED)


def entitlement_explanations_sync(*, version_id: int, enterprise_ids: Sequence[int], refresh: bool = False) -> int:
    """Give these enterprises' entitlements their match record's explanation as 认定依据.

    Inside the decision's transaction. Only an eligible and verified record's explanation is an
    entitlement's basis. By default only entitlements without one are filled (cheap: a new one is
    created with it); `refresh` also replaces a different one (the record's explanation was restated),
    except on a disbursed or revoked entitlement, which keeps the basis it had. Sends nothing.
    """
    return entitlement_explanations_sync_many(enterprise_ids_by_version={version_id: enterprise_ids}, refresh=refresh)


def entitlement_explanations_sync_many(
    *, enterprise_ids_by_version: Mapping[int, Sequence[int]], refresh: bool = False
) -> int:
    """`entitlement_explanations_sync` for several versions (version id → enterprise ids) at once: one
    statement on PostgreSQL, where the nightly run's versions cost a statement each (763 on the bench's busy
    day, against 65 now). Returns how many entitlements took a new explanation."""
    pairs = sorted({(v, e) for v, ids in enterprise_ids_by_version.items() for e in ids})
    if not pairs:
        return 0
    if connection.vendor == "postgresql":
        entitlement = connection.ops.quote_name(Entitlement._meta.db_table)
        record = connection.ops.quote_name(MatchRecord._meta.db_table)
        # Table names from model metadata; every value is a parameter.
        sql = f"""
            UPDATE {entitlement} e SET explanation = r.explanation
            FROM unnest(%(versions)s::bigint[], %(ids)s::bigint[]) AS given(version_id, enterprise_id)
            JOIN {record} r ON r.policy_version_id = given.version_id AND r.enterprise_id = given.enterprise_id
            WHERE e.policy_version_id = given.version_id AND e.enterprise_id = given.enterprise_id
              AND r.outcome = %(eligible)s AND r.verified AND r.explanation IS NOT NULL
              AND {
            "e.explanation IS DISTINCT FROM r.explanation AND NOT (e.status = ANY(%(frozen)s))"
            if refresh
            else "e.explanation IS NULL"
        }
        """  # noqa: S608
        # unnest + join, not `= ANY(ids)`: rows written earlier in this transaction leave the planner
        # with empty-table statistics, and it then tested every row against the whole id array.
        params = {
            "versions": [v for v, _ in pairs],
            "ids": [e for _, e in pairs],
            "eligible": str(MatchOutcome.ELIGIBLE),
            "frozen": [str(s) for s in EXPLANATION_FROZEN],
        }
        with bound_cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount
    return sum(
        _explanations_sync_portable(version_id=version_id, enterprise_ids=list(enterprise_ids), refresh=refresh)
        for version_id, enterprise_ids in enterprise_ids_by_version.items()
    )


def _explanations_sync_portable(*, version_id: int, enterprise_ids: list[int], refresh: bool) -> int:
    """Off PostgreSQL: one version's, read and written through the ORM."""
    if not enterprise_ids:
        return 0
    explanations = dict(
        MatchRecord.objects.filter(
            policy_version_id=version_id, enterprise_id__in=enterprise_ids, outcome=MatchOutcome.ELIGIBLE, verified=True
        )
        .exclude(explanation__isnull=True)
        .values_list("enterprise_id", "explanation")
    )
    candidates = Entitlement.objects.filter(policy_version_id=version_id, enterprise_id__in=explanations)
    if refresh:
        candidates = candidates.exclude(status__in=EXPLANATION_FROZEN)
    else:
        candidates = candidates.filter(explanation__isnull=True)
    pending = [
        entitlement
        for entitlement in candidates.only("pk", "enterprise_id", "explanation")
        if entitlement.explanation != explanations[entitlement.enterprise_id]
    ]
    for row in pending:
        row.explanation = explanations[row.enterprise_id]
    Entitlement.objects.bulk_update(pending, ["explanation"], batch_size=2000)
    return len(pending)


def _explanations_filled_many(payloads: Sequence[dict[str, Any]], *, refresh: bool = False) -> None:
    """MATCH_EXPLANATIONS_FILLED for many versions at once (events.emit_many): one statement."""
    by_version: dict[int, list[int]] = {}
    for payload in payloads:
        by_version.setdefault(payload["version_id"], []).extend(payload["enterprise_ids"])
    entitlement_explanations_sync_many(enterprise_ids_by_version=by_version, refresh=refresh)


entitlement_explanations_sync.many = _explanations_filled_many  # type: ignore[attr-defined]


# --- Lifecycle ----------------------------------------------------------------------------------

_ALLOWED: dict[str, tuple[str, ...]] = {
    Status.CONFIRMED: (Status.DETERMINED, Status.NOTIFIED),
    Status.OBJECTED: (Status.DETERMINED, Status.NOTIFIED, Status.CONFIRMED),
    Status.DISBURSED: (Status.CONFIRMED,),
    Status.REVOKED: (Status.DETERMINED, Status.NOTIFIED, Status.CONFIRMED, Status.OBJECTED, Status.PENDING_REVIEW),
}


def _move(
    *,
    entitlement: Entitlement,
    to: str,
    by: User,
    reason: str = "",
    allowed: tuple[str, ...] | None = None,
    notice: str = "",
    decision: tuple[str, str] | None = None,
    **fields: Any,
) -> Entitlement:
    locked = Entitlement.objects.select_for_update().get(pk=entitlement.pk)
    previous = status_move(locked, to=to, allowed=allowed or _ALLOWED[to], **fields)
    if to in (Status.REVOKED, Status.EXCLUDED):
        claims_release(entitlement_id=locked.pk)  # the exclusion groups it held are free again
    now = timezone.now()
    transition = EntitlementTransition.objects.create(
        entitlement=locked,
        from_status=previous,
        to_status=to,
        by=by,
        by_role=actor_role(by),
        policy_version_id=locked.policy_version_id,
        reason=reason,
        at=now,
    )
    _transition_receipts([(locked, transition)], now)

    # One notice per step taken: a second objection round or review gets its own.
    step = EntitlementTransition.objects.filter(entitlement=locked, to_status=to).count()
    reviewed = previous == Status.PENDING_REVIEW
    key = f"ent{locked.pk}:{to}" if step == 1 else f"ent{locked.pk}:{to}:{step}"
    if decision is not None:
        # A decision on the benefit itself (revoked, or kept after an objection or a review): its 决定通知书.
        notice_kind, text = decision
        notices_issue(
            items=[
                NoticeSpec(
                    locked.enterprise_id,
                    notice_kind,
                    key,
                    # A review decides on the newer version's finding; anything else on the one it rests on.
                    locked.review_version_id if reviewed and locked.review_version_id else locked.policy_version_id,
                    decision=text,
                    reasons=reason,
                    explanation=locked.review_explanation if reviewed else locked.explanation,
                    decided_by=EntitlementTransition.ByRole(actor_role(by)).label,
                    link=f"/workspace/#entitlement-{locked.pk}",
                )
            ]
        )
    notification_create(
        enterprise_id=locked.enterprise_id,
        kind=Kind.ENTITLEMENT_UPDATE,
        dedupe_key=key,
        title=f"兑现进度：{Status(to).label}",
        body=notice
        or sentences(
            f"“{locked.policy_version.title}”的免申即享兑现记录已更新为“{Status(to).label}”",
            f"说明：{reason}" if reason else "",
        ),
        # /workspace/ leads to the enterprise's own page; the fragment is its card there.
        link=f"/workspace/#entitlement-{locked.pk}",
        payload={"entitlement_id": locked.pk},
        actor=by,
    )
    return locked


def sentence(text: str) -> str:
    """`text` ending as a sentence, so the next one ("下一步：…") does not run on."""
    text = (text or "").strip()
    return text if not text or text[-1] in "。！？.!?；;" else f"{text}。"


@transaction.atomic
def entitlement_confirm(*, entitlement: Entitlement, by: User) -> Entitlement:
    require_enterprise_member(by, entitlement.enterprise_id)
    return _move(entitlement=entitlement, to=Status.CONFIRMED, by=by, reason="企业确认")


@transaction.atomic
def entitlement_object(*, entitlement: Entitlement, by: User, reason: str) -> Entitlement:
    require_enterprise_member(by, entitlement.enterprise_id)
    reason = require_reason(reason)
    return _move(entitlement=entitlement, to=Status.OBJECTED, by=by, reason=reason, objection_reason=reason)


@transaction.atomic
def entitlement_resolve(*, entitlement: Entitlement, by: User, decision: str, resolution: str) -> Entitlement:
    """Staff settle an objection: `confirm` (the entitlement stands) or `revoke` (it is withdrawn).

    A resolution that keeps the entitlement does NOT count as the enterprise's confirmation: the
    record goes back to 已通知，待确认, and only the enterprise's own confirmation (or a new objection)
    moves it on. Staff cannot agree on an enterprise's behalf, and disbursement needs its consent.
    The enterprise is told the resolution and this next step.
    """
    require_deciding_staff(by)
    resolution = require_reason(resolution, "resolution")
    if entitlement.status != Status.OBJECTED:
        raise ApplicationError("只有“企业有异议”的记录需要处理", code="invalid_transition", http_status=409)
    title = entitlement.policy_version.title
    role = EntitlementTransition.ByRole(actor_role(by)).label
    if decision == "confirm":
        return _move(
            entitlement=entitlement,
            to=Status.NOTIFIED,
            by=by,
            reason=f"异议处理：维持认定。{sentence(resolution)}",
            allowed=(Status.OBJECTED,),
            decision=(
                NoticeKind.GRANTED,
                f"经对贵企业异议的处理，维持对“{title}”（{entitlement.period_label}）的认定，予以享受（免申即享）。"
                "请在“免申即享兑现”中确认，确认后安排兑现。",
            ),
            notice=(
                f"您对“{title}”兑现记录提出的异议已由{role}处理：维持认定。处理意见：{sentence(resolution)}"
                "下一步：请在“免申即享兑现”中确认，确认后安排兑现；如仍有异议，可再次提出。"
            ),
            resolution=resolution,
        )
    if decision == "revoke":
        return _move(
            entitlement=entitlement,
            to=Status.REVOKED,
            by=by,
            reason=f"异议处理：撤销。{sentence(resolution)}",
            decision=(
                NoticeKind.REFUSED,
                f"经对贵企业异议的处理，撤销“{title}”（{entitlement.period_label}）的免申即享兑现记录，不予享受。",
            ),
            notice=(
                f"您对“{title}”兑现记录提出的异议已由{role}处理：撤销该兑现记录。处理意见：{sentence(resolution)}"
                "下一步：无需办理；如对处理结果有疑问，请联系政策的责任部门。"
            ),
            resolution=resolution,
            revoke_reason=resolution,
        )
    raise ApplicationError("处理结果只能是 confirm 或 revoke", code="invalid_choice", field="decision")


@transaction.atomic
def entitlement_review_resolve(*, entitlement: Entitlement, by: User, decision: str, reason: str) -> Entitlement:
    """Staff settle a 待复核 entitlement (a newer version did not find the enterprise eligible):
    `keep` (it returns to the status it had, and stays kept under that version) or `revoke`."""
    require_deciding_staff(by)
    reason = require_reason(reason)
    if entitlement.status != Status.PENDING_REVIEW:
        raise ApplicationError("只有“待复核”的记录需要复核", code="invalid_transition", http_status=409)
    title = entitlement.policy_version.title
    if decision == "keep":
        back = entitlement.status_before_review or Status.NOTIFIED
        next_steps: dict[str, str] = {
            Status.CONFIRMED: "下一步：等待兑现，无需办理。",
            Status.OBJECTED: "下一步：您此前提出的异议仍由工作人员处理。",
        }
        next_step = next_steps.get(back, "下一步：请在“免申即享兑现”中确认；如有异议可提出。")
        return _move(
            entitlement=entitlement,
            to=back,
            by=by,
            reason=f"复核：维持认定。{sentence(reason)}",
            allowed=(Status.PENDING_REVIEW,),
            decision=(
                NoticeKind.GRANTED,
                f"经复核，维持对“{title}”（{entitlement.period_label}）的认定，予以享受（免申即享）。",
            ),
            notice=f"“{title}”兑现记录复核完成：维持认定。复核意见：{sentence(reason)}{next_step}",
            status_before_review="",
        )
    if decision == "revoke":
        return _move(
            entitlement=entitlement,
            to=Status.REVOKED,
            by=by,
            reason=f"复核：撤销。{sentence(reason)}",
            decision=(
                NoticeKind.REFUSED,
                f"经复核，按更新后的政策贵企业不符合“{title}”（{entitlement.period_label}）的条件，"
                "撤销该免申即享兑现记录，不予享受。",
            ),
            notice=(
                f"“{title}”兑现记录复核完成：按更新后的政策不符合条件，撤销该兑现记录。复核意见：{sentence(reason)}"
                "下一步：无需办理；如有疑问，请联系政策的责任部门。"
            ),
            revoke_reason=reason,
            status_before_review="",
        )
    raise ApplicationError("复核结果只能是 keep 或 revoke", code="invalid_choice", field="decision")


@transaction.atomic
def entitlement_recovery_note(*, entitlement: Entitlement, by: User, note: str) -> Entitlement:
    """Staff record what they found on a possible 追回 case (nothing is clawed back by the system).
    The status stays 已兑现; the case leaves the list once noted. Not shown to the enterprise."""
    require_deciding_staff(by)
    note = require_reason(note, "note")
    locked = Entitlement.objects.select_for_update().get(pk=entitlement.pk)
    if locked.recovery_flagged_at is None:
        raise ApplicationError("该记录不在可能追回清单中", code="invalid_transition", http_status=409)
    locked.recovery_note = note
    locked.recovery_flagged_at = None
    locked.save(update_fields=["recovery_note", "recovery_flagged_at", "updated_at"])
    return locked


@transaction.atomic
def entitlement_disburse(*, entitlement: Entitlement, by: User) -> Entitlement:
    require_deciding_staff(by)
    return _move(entitlement=entitlement, to=Status.DISBURSED, by=by, reason="已兑现")


@transaction.atomic
def entitlement_revoke(*, entitlement: Entitlement, by: User, reason: str) -> Entitlement:
    require_deciding_staff(by)
    reason = require_reason(reason)
    title = entitlement.policy_version.title
    return _move(
        entitlement=entitlement,
        to=Status.REVOKED,
        by=by,
        reason=reason,
        revoke_reason=reason,
        decision=(
            NoticeKind.REFUSED,
            f"撤销贵企业“{title}”（{entitlement.period_label}）的免申即享兑现记录，不予享受。",
        ),
    )


# The benefit holding a group may be set aside for another of the same group until it is paid.
SWITCHABLE = (Status.DETERMINED, Status.NOTIFIED, Status.CONFIRMED)


@transaction.atomic
def entitlement_choose(*, entitlement: Entitlement, by: User) -> Entitlement:
    """同一事项不重复享受: the enterprise pursues this 同类不重复享受 entitlement instead of the benefit
    that holds its exclusion group(s). That one becomes 同类不重复享受 (its group claims released), this
    one takes the claims and is confirmed (the enterprise's own choice). Refused when the holder is an
    approved application or an entitlement already disbursed, objected or under review."""
    require_enterprise_member(by, entitlement.enterprise_id)
    locked = Entitlement.objects.select_for_update(of=("self",)).select_related("policy_version").get(pk=entitlement.pk)
    if locked.status != Status.EXCLUDED:
        raise ApplicationError("只有“同类不重复享受”的记录可以改选", code="invalid_transition", http_status=409)
    version = locked.policy_version
    if version.status != PolicyVersion.Status.PUBLISHED:
        raise ApplicationError(
            "该政策已更新或停用，需按现行版本重新认定后才能选择", code="version_not_current", http_status=409
        )
    holders = holders_by_enterprise(version=version, enterprise_ids=[locked.enterprise_id]).get(
        locked.enterprise_id, []
    )
    if any(claim.application_id for claim in holders):
        raise ApplicationError(
            f"{conflict_message(holders)}：同组政策的申报已审核通过，不能改选", code="exclusive_locked", http_status=409
        )
    others = list(
        Entitlement.objects.select_for_update()
        .filter(pk__in=sorted({claim.entitlement_id for claim in holders if claim.entitlement_id}))
        .select_related("policy_version")
    )
    fixed = [other for other in others if other.status not in SWITCHABLE]
    if fixed:
        raise ApplicationError(
            f"同组的「{fixed[0].policy_version.title}」{fixed[0].get_status_display()}，不能改选",
            code="exclusive_locked",
            http_status=409,
        )
    note = f"与「{version.title}」同属一类事项，不重复享受（企业选择享受「{version.title}」）"
    for other in others:
        _move(
            entitlement=other,
            to=Status.EXCLUDED,
            by=by,
            reason=note,
            allowed=SWITCHABLE,
            notice=f"贵企业选择享受「{version.title}」。“{other.policy_version.title}”{note}。",
            exclusion_note=note,
        )
    claims_take_for_entitlement(version=version, enterprise_id=locked.enterprise_id, entitlement_id=locked.pk)
    return _move(
        entitlement=locked,
        to=Status.CONFIRMED,
        by=by,
        reason="企业选择享受本项并确认（同组其他政策不再享受）",
        allowed=(Status.EXCLUDED,),
        exclusion_note="",
    )
