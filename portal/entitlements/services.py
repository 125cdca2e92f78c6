"""Writes for 免申即享 entitlements and the pushes that follow a match decision.

`on_match_changes` runs INSIDE the transaction that wrote the changed match records (it is the
receiver of matching.signals_out.match_records_changed), so an entitlement, its notification and
the notification's outbox rows commit or roll back with the decision itself. Unique keys make it
exactly-once: one entitlement per (enterprise, policy version), one notification per (enterprise,
policy version, kind).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from matching.describe import describe_condition
from matching.rules import iter_conditions
from portal.accounts.roles import Role, has_any_role
from portal.api.exceptions import ApplicationError
from portal.lifecycle import status_move
from portal.notifications.binding import bound_cursor
from portal.notifications.models import Notification
from portal.notifications.services import NotificationSpec, notifications_create_bulk

from .models import Entitlement, EntitlementTransition

Status = Entitlement.Status
Kind = Notification.Kind
STAFF_ROLES = (Role.REVIEWER, Role.DATA_OFFICER)


def _policy_link(version: Any) -> str:
    return f"/policies/{version.policy_id}/"


def _unknown_conditions(rule: dict[str, Any], states: str) -> list[str]:
    """Wording of the conditions that were unknown (state letter U) when the decision was made."""
    conditions = list(iter_conditions(rule))
    return [
        describe_condition(cond, negated=negated)
        for (_, cond, negated), letter in zip(conditions, states, strict=False)
        if letter == "U"
    ]


def on_match_changes(*, version_id: int, changes: Sequence[Any], run_id: int | None) -> None:
    """Create entitlements and notifications for changed decisions (inside the decision's transaction)."""
    from matching.models import MatchRecord, Outcome
    from policies.models import Mode, PolicyVersion

    if not changes:
        return
    version = PolicyVersion.objects.get(pk=version_id)
    newly_eligible = [c for c in changes if c.outcome == Outcome.ELIGIBLE and c.previous_outcome != Outcome.ELIGIBLE]
    specs: list[NotificationSpec] = []
    if version.mode == Mode.EXEMPT:
        granted = [
            c
            for c in changes
            if c.outcome == Outcome.ELIGIBLE
            and c.verified
            and not (c.previous_outcome == Outcome.ELIGIBLE and c.previous_verified)
        ]
        granted_ids = [c.enterprise_id for c in granted]
        if _entitlements_create(version=version, enterprise_ids=granted_ids):
            # The incremental path has already stored the explanation; the bulk path syncs it later.
            entitlement_explanations_sync(version_id=version.pk, enterprise_ids=granted_ids)
        specs += [
            NotificationSpec(
                c.enterprise_id,
                Kind.EXEMPT_GRANTED,
                f"pv{version.pk}:{Kind.EXEMPT_GRANTED}",
                title=f"免申即享：{version.title}",
                body=(
                    f"根据相关部门共享的数据，贵企业符合“{version.title}”的条件，无需申报即可享受。"
                    "请在“免申即享兑现”中确认；如有异议可提出。"
                ),
                link="/workspace/",
                payload={"policy_version_id": version.pk},
            )
            for c in granted
        ]
        # Self-declared eligibility never creates an entitlement: say what to get confirmed.
        specs += [
            NotificationSpec(
                c.enterprise_id,
                Kind.CONFIRM_FACT,
                f"pv{version.pk}:{Kind.CONFIRM_FACT}",
                title=f"请核验信息以享受：{version.title}",
                body=(
                    "按贵企业自行填报的信息，符合该免申即享政策；相关信息经部门核验后即可直接享受。"
                    "请在“企业信息”中查看标注为“自行填报”的项目，并向主管部门申请核验。"
                ),
                link="/workspace/profile/",
                payload={"policy_version_id": version.pk},
            )
            for c in newly_eligible
            if not c.verified
        ]
    else:
        deadline = f"申报截止：{version.application_end.isoformat()}。" if version.application_end else ""
        specs += [
            NotificationSpec(
                c.enterprise_id,
                Kind.MAY_APPLY,
                f"pv{version.pk}:{Kind.MAY_APPLY}",
                title=f"可申报：{version.title}",
                body=f"贵企业符合“{version.title}”的申报条件。{deadline}{version.conditions_text}".strip(),
                link=_policy_link(version),
                payload={"policy_version_id": version.pk},
            )
            for c in newly_eligible
        ]
    needs_info = [c for c in changes if c.outcome == Outcome.NEEDS_INFO and c.previous_outcome != Outcome.NEEDS_INFO]
    if needs_info:
        states = dict(MatchRecord.objects.filter(pk__in=[c.record_id for c in needs_info]).values_list("pk", "states"))
        wording_cache: dict[str, list[str]] = {}
        for c in needs_info:
            letters = states.get(c.record_id, "")
            if letters not in wording_cache:
                wording_cache[letters] = _unknown_conditions(version.rule, letters)
            missing = "；".join(wording_cache[letters]) or "相关信息"
            specs.append(
                NotificationSpec(
                    c.enterprise_id,
                    Kind.NEEDS_INFO,
                    f"pv{version.pk}:{Kind.NEEDS_INFO}",
                    title=f"补充信息即可判断：{version.title}",
                    body=f"还需要以下信息才能判断贵企业是否符合：{missing}。请在“企业信息”中补充。",
                    link="/workspace/profile/",
                    payload={"policy_version_id": version.pk},
                )
            )
    if specs:
        notifications_create_bulk(items=specs)


# Matching determines the entitlement and the same transaction pushes it to the inbox: two audit rows.
_GRANT_STEPS = (
    ("", Status.DETERMINED, "部门共享数据核验符合条件（免申即享）"),
    (Status.DETERMINED, Status.NOTIFIED, "已推送至企业消息中心"),
)


def _entitlements_create(*, version: Any, enterprise_ids: list[int]) -> int:
    """Entitlements for these enterprises (those that already have one are left alone), each with its
    transitions; returns how many were new. The unique key decides, also against a concurrent run."""
    if not enterprise_ids:
        return 0
    now = timezone.now()
    ids = list(dict.fromkeys(enterprise_ids))
    if connection.vendor == "postgresql":
        return _entitlements_create_postgresql(version_id=version.pk, enterprise_ids=ids, now=now)
    existing = set(
        Entitlement.objects.filter(policy_version=version, enterprise_id__in=ids).values_list(
            "enterprise_id", flat=True
        )
    )
    fresh = [e for e in ids if e not in existing]
    Entitlement.objects.bulk_create(
        [
            Entitlement(enterprise_id=e, policy_version=version, status=Status.NOTIFIED, determined_at=now)
            for e in fresh
        ],
        ignore_conflicts=True,  # a concurrent run may have just created some: the unique key decides
        batch_size=5000,
    )
    created = list(
        Entitlement.objects.filter(policy_version=version, enterprise_id__in=fresh, determined_at=now).values_list(
            "pk", flat=True
        )
    )
    EntitlementTransition.objects.bulk_create(
        [
            EntitlementTransition(entitlement_id=pk, from_status=frm, to_status=to, reason=why, at=now)
            for pk in created
            for frm, to, why in _GRANT_STEPS
        ],
        batch_size=5000,
    )
    return len(created)


def _entitlements_create_postgresql(*, version_id: int, enterprise_ids: list[int], now: Any) -> int:
    """The same as one set-based statement: INSERT … SELECT FROM unnest(ids) ON CONFLICT DO NOTHING
    RETURNING feeds the transitions' INSERT, so only the rows this statement created get them."""
    from matching.models import MatchRecord

    qn = connection.ops.quote_name
    entitlement, transition = qn(Entitlement._meta.db_table), qn(EntitlementTransition._meta.db_table)
    record = qn(MatchRecord._meta.db_table)
    # Table names from model metadata; every value is a parameter. Each entitlement is created with
    # its 认定依据: the decision's explanation, written earlier in this same transaction.
    sql = f"""
        WITH new AS (
            INSERT INTO {entitlement} (enterprise_id, policy_version_id, status, explanation, objection_reason,
                                       resolution, revoke_reason, determined_at, updated_at)
            SELECT e, %(version)s, %(status)s,
                   (SELECT r.explanation FROM {record} r
                     WHERE r.policy_version_id = %(version)s AND r.enterprise_id = e),
                   '', '', '', %(now)s, %(now)s
            FROM unnest(%(ids)s::bigint[]) AS e ORDER BY e
            ON CONFLICT (enterprise_id, policy_version_id) DO NOTHING
            RETURNING id
        ), steps AS (
            SELECT * FROM unnest(%(step)s::int[], %(from)s::text[], %(to)s::text[], %(why)s::text[])
                AS s(n, from_status, to_status, reason)
        ), audit AS (
            INSERT INTO {transition} (entitlement_id, from_status, to_status, by_id, reason, at)
            SELECT new.id, s.from_status, s.to_status, NULL, s.reason, %(now)s
            FROM new CROSS JOIN steps s ORDER BY new.id, s.n
        )
        SELECT count(*) FROM new
    """  # noqa: S608
    params = {
        "version": version_id,
        "status": Status.NOTIFIED,
        "now": now,
        "ids": enterprise_ids,
        "step": list(range(len(_GRANT_STEPS))),
        "from": [str(frm) for frm, _, _ in _GRANT_STEPS],
        "to": [str(to) for _, to, _ in _GRANT_STEPS],
        "why": [why for _, _, why in _GRANT_STEPS],
    }
    with bound_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


# An entitlement in these states keeps the basis it was decided (and paid, or closed) on.
EXPLANATION_FROZEN = (Status.DISBURSED, Status.REVOKED)


def entitlement_explanations_sync(*, version_id: int, enterprise_ids: Sequence[int], refresh: bool = False) -> int:
    """Give these enterprises' entitlements their match record's explanation as 认定依据.

    Inside the decision's transaction. Only an eligible and verified record's explanation is an
    entitlement's basis. By default only entitlements without one are filled (cheap: a new one is
    created with it); `refresh` also replaces a different one (the record's explanation was restated),
    except on a disbursed or revoked entitlement, which keeps the basis it had. Sends nothing.
    """
    from matching.models import MatchRecord, Outcome

    if not enterprise_ids:
        return 0
    if connection.vendor == "postgresql":
        entitlement = connection.ops.quote_name(Entitlement._meta.db_table)
        record = connection.ops.quote_name(MatchRecord._meta.db_table)
        # Table names from model metadata; every value is a parameter.
        sql = f"""
            UPDATE {entitlement} e SET explanation = r.explanation
            FROM unnest(%(ids)s::bigint[]) AS given(enterprise_id)
            JOIN {record} r ON r.policy_version_id = %(version)s AND r.enterprise_id = given.enterprise_id
            WHERE e.policy_version_id = %(version)s AND e.enterprise_id = given.enterprise_id
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
            "version": version_id,
            "ids": list(enterprise_ids),
            "eligible": str(Outcome.ELIGIBLE),
            "frozen": [str(s) for s in EXPLANATION_FROZEN],
        }
        with bound_cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount
    explanations = dict(
        MatchRecord.objects.filter(
            policy_version_id=version_id, enterprise_id__in=enterprise_ids, outcome=Outcome.ELIGIBLE, verified=True
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
    for entitlement in pending:
        entitlement.explanation = explanations[entitlement.enterprise_id]
    Entitlement.objects.bulk_update(pending, ["explanation"], batch_size=2000)
    return len(pending)


# --- Lifecycle ----------------------------------------------------------------------------------

_ALLOWED: dict[str, tuple[str, ...]] = {
    Status.CONFIRMED: (Status.DETERMINED, Status.NOTIFIED),
    Status.OBJECTED: (Status.DETERMINED, Status.NOTIFIED, Status.CONFIRMED),
    Status.DISBURSED: (Status.CONFIRMED,),
    Status.REVOKED: (Status.DETERMINED, Status.NOTIFIED, Status.CONFIRMED, Status.OBJECTED),
}


def _move(
    *,
    entitlement: Entitlement,
    to: str,
    by: Any,
    reason: str = "",
    allowed: tuple[str, ...] | None = None,
    **fields: Any,
) -> Entitlement:
    locked = Entitlement.objects.select_for_update().get(pk=entitlement.pk)
    previous = status_move(locked, to=to, allowed=allowed or _ALLOWED[to], **fields)
    now = timezone.now()
    EntitlementTransition.objects.create(
        entitlement=locked, from_status=previous, to_status=to, by=by, reason=reason, at=now
    )
    from portal.notifications.services import notification_create

    notification_create(
        enterprise_id=locked.enterprise_id,
        kind=Kind.ENTITLEMENT_UPDATE,
        dedupe_key=f"ent{locked.pk}:{to}",
        title=f"兑现进度：{Status(to).label}",
        body=f"“{locked.policy_version.title}”的免申即享兑现记录已更新为“{Status(to).label}”。{reason}".strip(),
        link="/workspace/",
        payload={"entitlement_id": locked.pk},
    )
    return locked


def _require_reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("请填写理由", code="required", field=field)
    if len(reason) > 2000:
        raise ApplicationError("理由不能超过2000字", code="max_length", field=field)
    return reason


def _require_member(entitlement: Entitlement, user: Any) -> None:
    if getattr(user, "enterprise_id", None) != entitlement.enterprise_id:
        raise ApplicationError("只有该企业的用户可以办理", code="not_enterprise_user", http_status=403)


def _require_staff(user: Any) -> None:
    if not has_any_role(user, *STAFF_ROLES):
        raise ApplicationError("只有审核人或数据专员可以办理", code="staff_role_required", http_status=403)


@transaction.atomic
def entitlement_confirm(*, entitlement: Entitlement, by: Any) -> Entitlement:
    _require_member(entitlement, by)
    return _move(entitlement=entitlement, to=Status.CONFIRMED, by=by, reason="企业确认")


@transaction.atomic
def entitlement_object(*, entitlement: Entitlement, by: Any, reason: str) -> Entitlement:
    _require_member(entitlement, by)
    reason = _require_reason(reason)
    return _move(entitlement=entitlement, to=Status.OBJECTED, by=by, reason=reason, objection_reason=reason)


@transaction.atomic
def entitlement_resolve(*, entitlement: Entitlement, by: Any, decision: str, resolution: str) -> Entitlement:
    """Staff settle an objection: `confirm` (the entitlement stands) or `revoke` (it is withdrawn)."""
    _require_staff(by)
    resolution = _require_reason(resolution, "resolution")
    if entitlement.status != Status.OBJECTED:
        raise ApplicationError("只有“企业有异议”的记录需要处理", code="invalid_transition", http_status=409)
    if decision == "confirm":
        # Only staff settling an objection move it back to confirmed.
        return _move(
            entitlement=entitlement,
            to=Status.CONFIRMED,
            by=by,
            reason=resolution,
            resolution=resolution,
            allowed=(Status.OBJECTED,),
        )
    if decision == "revoke":
        return _move(
            entitlement=entitlement,
            to=Status.REVOKED,
            by=by,
            reason=resolution,
            resolution=resolution,
            revoke_reason=resolution,
        )
    raise ApplicationError("处理结果只能是 confirm 或 revoke", code="invalid_choice", field="decision")


@transaction.atomic
def entitlement_disburse(*, entitlement: Entitlement, by: Any) -> Entitlement:
    _require_staff(by)
    return _move(entitlement=entitlement, to=Status.DISBURSED, by=by, reason="已兑现")


@transaction.atomic
def entitlement_revoke(*, entitlement: Entitlement, by: Any, reason: str) -> Entitlement:
    _require_staff(by)
    reason = _require_reason(reason)
    return _move(entitlement=entitlement, to=Status.REVOKED, by=by, reason=reason, revoke_reason=reason)
