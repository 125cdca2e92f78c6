"""Run a compiled rule over the district in the database and write only what changed.

PostgreSQL: one statement per chunk of enterprise ids decides every candidate and compares with the
stored records; the changed ones get their explanation (the caller's `explain`) and are upserted
with it by a second statement (`INSERT … SELECT FROM unnest … ON CONFLICT`), returning them, so
each record is written once, decision and reasons together. Other databases (SQLite in embedded mode): the same decision
query, with the writes done through the ORM.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from django.db import connection

from portal.db import bound_cursor
from portal.enterprises.models import Park, Qualification, Site, Township, Zone
from portal.receipts.models import Receipt
from portal.receipts.services import DecisionRow, decision_receipts_create, facts_texts, version_rule_hash

from .core.receipt import ENGINE_VERSION
from .core.sql import CompiledSql, Tables, compile_rule_sql
from .models import MatchOutcome, MatchProfile, MatchRecord


@dataclass(frozen=True, slots=True)
class ChangedRecord:
    record_id: int
    enterprise_id: int
    outcome: str
    verified: bool
    previous_outcome: str
    previous_verified: bool


def tables() -> Tables:
    through = Site.parks.through
    return Tables(
        profile=MatchProfile._meta.db_table,
        qualification=Qualification._meta.db_table,
        site=Site._meta.db_table,
        township=Township._meta.db_table,
        zone=Zone._meta.db_table,
        site_parks=through._meta.db_table,
        park=Park._meta.db_table,
        site_parks_site_column=through._meta.get_field("site").column,
        site_parks_park_column=through._meta.get_field("park").column,
    )


def compile_for(rule: object, *, on: date) -> CompiledSql:
    """The SQL of a rule (its JSON or its parsed tree) over this database's tables."""
    return compile_rule_sql(rule, tables=tables(), on=on, lateral=connection.vendor == "postgresql")


def _changed_sql(compiled: CompiledSql, *, version_id: int, lo: int, hi: int, ids: Sequence[int] | None = None) -> str:
    """SELECT of the decisions in [lo, hi) (and among `ids`, when given) that differ from the stored records."""
    records = MatchRecord._meta.db_table
    profile = MatchProfile._meta.db_table
    v, lo, hi = int(version_id), int(lo), int(hi)
    among_p = among_r = ""
    if ids is not None:  # integers, written as such
        listed = ",".join(str(int(i)) for i in ids) or "NULL"
        among_p, among_r = f" AND p.enterprise_id IN ({listed})", f" AND r.enterprise_id IN ({listed})"
    return f"""
WITH cand AS (
    SELECT p.enterprise_id FROM {profile} p
     WHERE p.enterprise_id >= {lo} AND p.enterprise_id < {hi}{among_p} AND {compiled.candidates}
    UNION
    SELECT r.enterprise_id FROM {records} r
     WHERE r.policy_version_id = {v} AND r.enterprise_id >= {lo} AND r.enterprise_id < {hi}{among_r}
), decided AS MATERIALIZED (
    SELECT p.enterprise_id AS enterprise_id, {compiled.truth} AS t, {compiled.verified_true} AS vt,
           {compiled.states} AS states
      FROM {profile} p JOIN cand c ON c.enterprise_id = p.enterprise_id {compiled.joins}
), outcomes AS (
    SELECT d.enterprise_id,
           CASE WHEN d.t THEN '{MatchOutcome.ELIGIBLE}' WHEN NOT d.t THEN '{MatchOutcome.INELIGIBLE}'
                ELSE '{MatchOutcome.NEEDS_INFO}' END AS outcome,
           d.vt AS verified, d.states
      FROM decided d
)
SELECT o.enterprise_id, o.outcome, o.verified, o.states, r.id AS record_id,
       r.outcome AS previous_outcome, r.verified AS previous_verified
  FROM outcomes o
  LEFT JOIN {records} r ON r.policy_version_id = {v} AND r.enterprise_id = o.enterprise_id
 WHERE (r.id IS NULL AND o.outcome <> '{MatchOutcome.INELIGIBLE}')
    OR (r.id IS NOT NULL AND (r.outcome <> o.outcome OR r.verified <> o.verified))
"""


def letters_moved(compiled: CompiledSql, *, version_id: int, lo: int, hi: int) -> list[int]:
    """The enterprises in [lo, hi) whose stored record of this version holds the decision `compiled` makes
    while its state letters differ: a condition under `any` or `not` moved and the outcome stood (the
    per-version path's own diff, `_changed_sql`, compares decisions only). Sorted ids."""
    records = MatchRecord._meta.db_table
    profile = MatchProfile._meta.db_table
    v, lo, hi = int(version_id), int(lo), int(hi)
    sql = f"""
SELECT d.enterprise_id FROM (
    SELECT p.enterprise_id, {compiled.truth} AS t, {compiled.verified_true} AS vt, {compiled.states} AS states,
           r.outcome AS stored_outcome, r.verified AS stored_verified, r.states AS stored_states
      FROM {profile} p
      JOIN {records} r ON r.policy_version_id = {v} AND r.enterprise_id = p.enterprise_id {compiled.joins}
     WHERE p.enterprise_id >= {lo} AND p.enterprise_id < {hi}
) d
 WHERE d.stored_outcome = CASE WHEN d.t THEN '{MatchOutcome.ELIGIBLE}' WHEN NOT d.t THEN '{MatchOutcome.INELIGIBLE}'
                               ELSE '{MatchOutcome.NEEDS_INFO}' END
   AND d.stored_verified = d.vt AND d.stored_states IS DISTINCT FROM d.states
 ORDER BY d.enterprise_id
"""
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


# enterprise ids → {enterprise id: explanation as JSON text}: the decisions' reasons, computed
# between deciding and writing so that each record is written once, with its explanation.
Explain = Callable[[Sequence[int]], dict[int, str]]


def decide_and_write(
    compiled: CompiledSql,
    *,
    version_id: int,
    lo: int,
    hi: int,
    now: datetime,
    run_id: int | None,
    explain: Explain | None = None,
    ids: Sequence[int] | None = None,
) -> list[ChangedRecord]:
    """Decide enterprises with lo <= id < hi (only those in `ids`, when given: the nightly run's
    crossings) and upsert the changed records, each with its explanation (`explain`; none when not
    given, e.g. a version not in effect). Call inside a transaction."""
    select = _changed_sql(compiled, version_id=version_id, lo=lo, hi=hi, ids=ids)
    if connection.vendor == "postgresql":
        return _write_postgresql(select, version_id=version_id, now=now, run_id=run_id, explain=explain)
    return _write_orm(select, version_id=version_id, now=now, run_id=run_id, explain=explain)


def _write_postgresql(
    select: str, *, version_id: int, now: datetime, run_id: int | None, explain: Explain | None
) -> list[ChangedRecord]:
    # Two statements: the decision (inlined, not bound: the rule's LIKE patterns contain "%", which
    # parameter binding would parse), then the upsert of the changed rows with their explanations and
    # receipts (`decided_write`, the statement the nightly run writes many versions with).
    with connection.cursor() as cursor:
        # The planner's cost for a rule's correlated sub-selects easily passes jit_above_cost, and
        # compiling the expressions then takes seconds for a statement that runs in milliseconds.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(select)
        rows = cursor.fetchall()
    if not rows:
        return []
    texts = explain([row[0] for row in rows]) if explain is not None else {}
    decided = [
        Decided(version_id, enterprise_id, outcome, verified, states, texts.get(enterprise_id), before, was_verified)
        for enterprise_id, outcome, verified, states, _record_id, before, was_verified in rows
    ]
    written = decided_write(decided, rule_hashes={version_id: version_rule_hash(version_id)}, now=now, run_id=run_id)
    return written.get(version_id, [])


def explanation_text(explanation: dict[str, Any]) -> str:
    """An explanation as the JSON text a write binds (PostgreSQL stores it as jsonb: key order and spacing do
    not matter). orjson: a tenth of json's cost, and the nightly run serialises every changed decision's.
    json for what orjson refuses: an integer beyond 64 bits, which a rule's threshold may be (a rule's
    validation bounds no number, and the explanation shows the threshold)."""
    try:
        return orjson.dumps(explanation, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(explanation, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True, slots=True)
class Decided:
    """A decision already made (by the pure evaluator) that differs from the stored record: the nightly run's
    crossings, written for many versions at once (`decided_write`)."""

    version_id: int
    enterprise_id: int
    outcome: str
    verified: bool
    states: str
    explanation: str | None  # JSON text; None for a version not in effect (nothing was checked)
    previous_outcome: str | None  # the stored record's, None when there is none
    previous_verified: bool | None


def decided_write(
    rows: Sequence[Decided], *, rule_hashes: dict[int, str], now: datetime, run_id: int | None
) -> dict[int, list[ChangedRecord]]:
    """Upsert decisions of any number of versions with their explanations and receipts in one statement
    (PostgreSQL), as `decide_and_write` does for one version: the same record and receipt columns, the same
    guard against a concurrent writer that stored the same decision. Returns version id → its changes.
    Call inside a transaction holding the versions' row locks."""
    if not rows:
        return {}
    records = MatchRecord._meta.db_table
    receipts = Receipt._meta.db_table
    distinct: dict[str, int] = {}
    index: list[int | None] = []
    for row in rows:
        if row.explanation is None:
            index.append(None)
            continue
        if row.explanation not in distinct:
            distinct[row.explanation] = len(distinct)
        index.append(distinct[row.explanation])
    sql = f"""
WITH changed AS (
    SELECT * FROM unnest(%(version)s::bigint[], %(enterprise)s::bigint[], %(outcome)s::text[], %(verified)s::boolean[],
                         %(states)s::text[], %(previous_outcome)s::text[], %(previous_verified)s::boolean[],
                         %(i)s::int[], %(rule_hash)s::text[])
        AS c(policy_version_id, enterprise_id, outcome, verified, states, previous_outcome, previous_verified, i,
             rule_hash)
), up AS (
INSERT INTO {records} AS m (enterprise_id, policy_version_id, outcome, verified, states, explanation,
                            previous_outcome, previous_verified, run_id, first_decided_at, decided_at)
SELECT c.enterprise_id, c.policy_version_id, c.outcome, c.verified, c.states, (%(explanations)s::jsonb) -> c.i,
       COALESCE(c.previous_outcome, ''), COALESCE(c.previous_verified, FALSE), %(run)s, %(now)s, %(now)s
  FROM changed c
ON CONFLICT (enterprise_id, policy_version_id) DO UPDATE
   SET outcome = EXCLUDED.outcome, verified = EXCLUDED.verified, states = EXCLUDED.states,
       explanation = EXCLUDED.explanation, previous_outcome = m.outcome, previous_verified = m.verified,
       run_id = EXCLUDED.run_id, decided_at = EXCLUDED.decided_at
 WHERE (m.outcome, m.verified) IS DISTINCT FROM (EXCLUDED.outcome, EXCLUDED.verified)
RETURNING m.id, m.enterprise_id, m.policy_version_id, m.outcome, m.verified, m.previous_outcome, m.previous_verified
), receipts AS (
INSERT INTO {receipts} (kind, enterprise_id, policy_version_id, match_record_id, entitlement_id, outcome, verified,
                        previous_outcome, previous_verified, status, previous_status, reason, by_role, rule_hash,
                        engine_version, explanation, facts, basis_id, run_id, at)
SELECT %(kind)s, up.enterprise_id, up.policy_version_id, up.id, NULL, up.outcome, up.verified, up.previous_outcome,
       up.previous_verified, '', '', '', 'system', c.rule_hash, %(engine)s, (%(explanations)s::jsonb) -> c.i,
       COALESCE((%(facts)s::jsonb) -> c.i, '{{}}'::jsonb), NULL, %(run)s, %(now)s
  FROM up JOIN changed c ON c.enterprise_id = up.enterprise_id AND c.policy_version_id = up.policy_version_id
 ORDER BY up.id
)
SELECT id, enterprise_id, policy_version_id, outcome, verified, previous_outcome, previous_verified FROM up
 ORDER BY policy_version_id, enterprise_id
"""  # the table names come from model metadata; every value is a parameter
    params = {
        "version": [r.version_id for r in rows],
        "enterprise": [r.enterprise_id for r in rows],
        "outcome": [r.outcome for r in rows],
        "verified": [bool(r.verified) for r in rows],
        "states": [r.states for r in rows],
        "previous_outcome": [r.previous_outcome for r in rows],
        "previous_verified": [r.previous_verified for r in rows],
        "i": index,
        "rule_hash": [rule_hashes[r.version_id] for r in rows],
        "explanations": "[" + ",".join(distinct) + "]",
        "facts": facts_texts(list(distinct)),
        "kind": Receipt.Kind.DECISION.value,
        "engine": ENGINE_VERSION,
        "run": run_id,
        "now": now,
    }
    found: dict[int, list[ChangedRecord]] = {}
    with bound_cursor() as cursor:
        cursor.execute(sql, params)
        for record_id, enterprise_id, version_id, *rest in cursor.fetchall():
            found.setdefault(version_id, []).append(ChangedRecord(record_id, enterprise_id, *rest))
    return found


def _write_orm(
    select: str, *, version_id: int, now: datetime, run_id: int | None, explain: Explain | None
) -> list[ChangedRecord]:
    import json

    with connection.cursor() as cursor:
        cursor.execute(select)
        rows = cursor.fetchall()
    texts = explain([row[0] for row in rows]) if explain is not None and rows else {}
    new: list[MatchRecord] = []
    updates: list[MatchRecord] = []
    for enterprise_id, outcome, verified, states, record_id, previous_outcome, previous_verified in rows:
        text = texts.get(enterprise_id)
        record = MatchRecord(
            id=record_id,
            enterprise_id=enterprise_id,
            policy_version_id=version_id,
            outcome=outcome,
            verified=bool(verified),
            states=states,
            explanation=json.loads(text) if text is not None else None,
            previous_outcome=previous_outcome or "",
            previous_verified=bool(previous_verified),
            run_id=run_id,
            first_decided_at=now,
            decided_at=now,
        )
        (updates if record_id else new).append(record)
    MatchRecord.objects.bulk_create(new, batch_size=2000)
    MatchRecord.objects.bulk_update(
        updates,
        ["outcome", "verified", "states", "explanation", "previous_outcome", "previous_verified", "run", "decided_at"],
        batch_size=2000,
    )
    decision_receipts_create(version_id=version_id, rows=decision_rows([*new, *updates]), run_id=run_id, at=now)
    return [
        ChangedRecord(r.id, r.enterprise_id, r.outcome, r.verified, r.previous_outcome, r.previous_verified)
        for r in (*new, *updates)
    ]


def decision_rows(records: Sequence[MatchRecord]) -> list[DecisionRow]:
    """The receipts' view of changed records just written (ids set)."""
    return [
        DecisionRow(
            r.pk, r.enterprise_id, r.outcome, r.verified, r.previous_outcome, r.previous_verified, r.explanation
        )
        for r in records
    ]
