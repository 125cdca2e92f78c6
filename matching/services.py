"""Writes of the matching engine: refresh the profile projection, decide and record matches.

Two paths give the same decisions (a property test holds them to it):
- bulk (`policy_version_match`): one policy over the whole district, compiled to SQL (matching.core.sql);
- incremental (`enterprise_match`): one enterprise against every published policy, with the pure
  evaluator (matching.core.evaluator).
Both write only the records whose outcome or verified flag changed, with their full explanation,
and emit those changes as `events.MATCH_RECORDS_CHANGED` inside the same transaction. A
record whose outcome stands but whose explanation no longer shows the current facts (a department
figure replaced a self-declared one, a date moved) gets the new explanation without any push:
`enterprise_match` diffs each explanation (`explanation_stale`), `explanations_refresh` in bulk.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Max, Min
from django.utils import timezone

from policies.models import PolicyVersion, dates_in_effect
from policies.selectors import policy_in_effect
from portal import events
from portal.enterprises.models import FACT_FIELDS, SIZE_INPUTS, Enterprise, Site
from portal.enterprises.selectors import enterprise_profiles_read, profile_facts
from portal.jobs import (
    JobLost,
    job_claim,
    job_fail,
    job_finish,
    job_heartbeat,
    job_progress,
    job_release,
    job_sweep,
)
from portal.receipts.services import decision_receipts_create

from . import fullpass, nightly, passchunks, tasks
from .bulk import (
    ChangedRecord,
    Decided,
    compile_for,
    decide_and_write,
    decided_write,
    decision_rows,
    explanation_text,
    letters_moved,
)
from .core.evaluator import CompiledRule, Status, compile_rule, state_letters_of
from .core.gate import IndustryIndex
from .core.profile import EnterpriseProfile
from .core.projection import PROJECTION_COLUMNS, facts_row, profile_row
from .core.registry import FACTS, PlaceFact, QualificationFact
from .core.sql import CompiledSql
from .incremental import LoadedEnterprise, load_for_match
from .models import MatchOutcome, MatchProfile, MatchRecord, MatchRun
from .models import change_kind as kind_of_change
from .selectors import published_stamp_sql, published_versions_any_period, today

if TYPE_CHECKING:
    from policies.models import PolicyVersion

    from .core.profile import EnterpriseProfile


logger = logging.getLogger(__name__)

# A version that is not in effect decides nobody eligible: its stored records fall to ineligible.
_NOT_IN_EFFECT = CompiledSql(truth="FALSE", verified_true="FALSE", states="''", candidates="FALSE", condition_count=0)


@dataclass
class MatchSummary:
    version_id: int | None = None
    changes: Counter = field(default_factory=Counter)
    changed_records: int = 0
    restated_records: int = 0  # decision stands, a condition moved: explanation and letters rewritten

    def add(self, changes: Sequence[ChangedRecord]) -> None:
        self.changed_records += len(changes)
        for c in changes:
            self.changes[kind_of_change(c.previous_outcome, c.previous_verified, c.outcome, c.verified)] += 1


# --- The projection ---------------------------------------------------------------------------


def match_profiles_refresh(*, enterprise_ids: Iterable[int] | None = None, chunk_size: int = 5000) -> int:
    """Rebuild the projection rows of these enterprises (all when None).

    Reads plain rows (fact columns, provenance, whether any site exists) rather than model
    instances, and derives the facts with the registry's own `profile_facts`, so a district-wide
    refresh stays fast while meaning exactly what `enterprise_profile` means.
    """
    from django.db.models import Exists, OuterRef

    now = timezone.now()
    columns = ("pk", *FACT_FIELDS, "provenance", "has_site")
    with_sites = Enterprise.objects.annotate(has_site=Exists(Site.objects.filter(enterprise_id=OuterRef("pk"))))

    def refresh(rows: list[tuple]) -> int:
        batch = []
        for row in rows:
            values = dict(zip(FACT_FIELDS, row[1:-2], strict=True))
            facts = profile_facts(values=values, provenance=row[-2] or {})
            batch.append(MatchProfile(enterprise_id=row[0], refreshed_at=now, **facts_row(facts, has_sites=row[-1])))
        return _upsert_profiles(batch)

    count = 0
    if enterprise_ids is not None:
        ids = sorted(set(enterprise_ids))
        for i in range(0, len(ids), chunk_size):
            count += refresh(list(with_sites.filter(pk__in=ids[i : i + chunk_size]).values_list(*columns)))
        return count
    last_pk = 0
    while rows := list(with_sites.filter(pk__gt=last_pk).order_by("pk").values_list(*columns)[:chunk_size]):
        count += refresh(rows)
        last_pk = rows[-1][0]
    return count


def _upsert_profiles(rows: list[MatchProfile]) -> int:
    if rows:
        MatchProfile.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["enterprise"],
            update_fields=[*PROJECTION_COLUMNS, "refreshed_at"],
        )
    return len(rows)


# --- Bulk: one policy version over the district ------------------------------------------------


def policy_version_match(
    *,
    version_id: int,
    on: date | None = None,
    run: MatchRun | None = None,
    chunk_size: int | None = None,
    announce: bool = True,
    restate: bool = False,
) -> MatchSummary:
    """Decide one policy version for every enterprise (SQL path) and record what changed.

    `announce=False`: the caller emits CATALOGUE_DECIDED for all the versions it decided, instead of
    this version's POLICY_VERSION_DECIDED (match_everything; enterprises_match in bulk).

    `restate=True`: also re-explain the records whose decision stands while a condition moved (their state
    letters differ from today's), as the one pass does; for a version that has records already (the nightly
    run's versions taking effect or lapsing, the per-policy fallback of match_everything). A version just
    published has none, so publishing does not pay for the extra read.

    Works in chunks of enterprise ids, one transaction each, updating `run.processed` for progress.
    Each chunk's transaction writes every record it changed with its full explanation (one INSERT),
    before the change is signalled: an entitlement is created already carrying its 认定依据, and no
    crash can leave a decision without its reasons (the decision and its explanation commit together).
    """
    on = on or today()
    chunk_size = chunk_size or settings.MATCH_CHUNK_SIZE
    version = PolicyVersion.objects.get(pk=version_id)
    active = policy_in_effect(version, on)
    compiled = compile_for(_compiled(version).tree, on=on) if active else _NOT_IN_EFFECT
    explainer = _Explainer(compiled=_compiled(version), on=on) if active else None
    bounds = MatchProfile.objects.aggregate(lo=Min("enterprise_id"), hi=Max("enterprise_id"))
    summary = MatchSummary(version_id=version_id)
    if bounds["lo"] is None:
        return summary
    lo, hi = bounds["lo"], bounds["hi"] + 1
    start = lo if run is None else match_run_resume_at(run=run, lo=lo, hi=hi)
    while start < hi:
        end = min(start + chunk_size, hi)
        with transaction.atomic():
            # Serialise runs of the same version: each sees the records the previous one wrote.
            PolicyVersion.objects.select_for_update().filter(pk=version_id).first()
            changes = version_chunk_write(
                version_id=version_id,
                compiled=compiled,
                explainer=explainer,
                lo=start,
                hi=end,
                run_id=run.pk if run else None,
            )
            if restate and explainer is not None:  # not in effect: records keep what they show (nothing checked)
                moved = letters_moved(compiled, version_id=version_id, lo=start, hi=end)
                if moved:
                    summary.restated_records += len(
                        version_records_restate(version_id=version_id, enterprise_ids=moved, explainer=explainer)
                    )
            if run is not None:  # last in the chunk's transaction: progress commits with the chunk, or neither
                match_run_progress(run=run, processed=end - lo, cursor=end, changes=changes)
        summary.add(changes)
        start = end
    if announce:
        events.emit(events.POLICY_VERSION_DECIDED, version_id=version_id)
    return summary


def version_chunk_write(
    *,
    version_id: int,
    compiled: CompiledSql,
    explainer: Explains | None,
    lo: int,
    hi: int,
    run_id: int | None,
    ids: Sequence[int] | None = None,
) -> list[ChangedRecord]:
    """Decide one version for enterprises lo <= id < hi (among `ids`, when given), write what changed
    with its explanation and signal the changes. Call inside a transaction holding the version row's
    lock (the per-version path, the one-pass full re-match `fullpass.full_pass` for the versions it
    found changed, and the nightly run's crossings, `nightly.nightly_match`)."""
    changes = decide_and_write(
        compiled,
        version_id=version_id,
        lo=lo,
        hi=hi,
        ids=ids,
        now=timezone.now(),
        run_id=run_id,
        # Not in effect: the records fall to ineligible with no explanation (nothing was checked).
        explain=explainer.texts if explainer is not None else None,
    )
    _announce(version_id=version_id, changes=changes, run_id=run_id)
    return changes


def decided_record(*, rows: Sequence[Decided], rule_hashes: dict[int, str], run_id: int | None) -> list[ChangedRecord]:
    """Write decisions the pure evaluator made (the nightly run's crossings, any number of versions) and
    signal them per version, as `version_chunk_write` does for one. Call inside a transaction: the
    versions' rows are locked here, in id order (as the one-pass full re-match locks them)."""
    version_ids = sorted({row.version_id for row in rows})
    if not version_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {PolicyVersion._meta.db_table} WHERE id = ANY(%s) ORDER BY id FOR UPDATE",  # noqa: S608
            [version_ids],
        )
    written = decided_write(rows, rule_hashes=rule_hashes, now=timezone.now(), run_id=run_id)
    changed = [pk for pk in version_ids if written.get(pk)]
    # One dispatch for every version: a handler that answers many versions at once reads what it needs once.
    events.emit_many(
        events.MATCH_RECORDS_CHANGED,
        [{"version_id": pk, "changes": written[pk], "run_id": run_id} for pk in changed],
    )
    regranted = {pk: _regranted(written[pk]) for pk in changed}
    events.emit_many(
        events.MATCH_EXPLANATIONS_FILLED,
        [{"version_id": pk, "enterprise_ids": ids} for pk, ids in regranted.items() if ids],
    )
    return [c for pk in changed for c in written[pk]]


def _announce(*, version_id: int, changes: list[ChangedRecord], run_id: int | None) -> None:
    """The signals of a version's changed decisions, in the writing transaction."""
    events.emit(events.MATCH_RECORDS_CHANGED, version_id=version_id, changes=changes, run_id=run_id)
    _regranted_announce(version_id=version_id, changes=changes)


def _regranted_announce(*, version_id: int, changes: list[ChangedRecord]) -> None:
    regranted = _regranted(changes)
    if regranted:
        events.emit(events.MATCH_EXPLANATIONS_FILLED, version_id=version_id, enterprise_ids=regranted)


def _regranted(changes: Sequence[ChangedRecord]) -> list[int]:
    """An entitlement that already existed (verified again after a lapse) takes the new basis; a first
    decision (no previous outcome) has no entitlement but the one just created with it."""
    return [
        c.enterprise_id for c in changes if c.outcome == MatchOutcome.ELIGIBLE and c.verified and c.previous_outcome
    ]


class Explains(Protocol):
    """What the write path asks of an explainer: each enterprise's explanation as JSON text."""

    def texts(self, enterprise_ids: Sequence[int]) -> dict[int, str]: ...


class _Explainer:
    """Computes and stores the evaluator's full explanation for records of one version (bulk paths).

    For a rule on scalar facts only, reads just the fact columns the rule's conditions read, with
    their provenance entries, as plain rows; enterprises whose rows are equal get the same
    explanation, so each distinct row is turned into a profile (the registry's own `profile_facts`)
    and evaluated once, and each distinct explanation is sent to the database once per statement.
    A rule on qualifications or places reads whole profiles (`enterprise_profiles_read`, as plain rows).
    """

    def __init__(self, *, compiled: CompiledRule, on: date) -> None:
        self.compiled = compiled
        self.on = on
        # The facts the rule's conditions test (attestations and judgements read none).
        specs = [FACTS[name] for name in sorted(compiled.facts)]
        self.full_profiles = connection.vendor != "postgresql" or any(
            isinstance(spec, QualificationFact | PlaceFact) for spec in specs
        )
        columns: set[str] = set()
        for spec in specs:
            if spec.profile_key == "size":
                columns.update(SIZE_INPUTS)
            elif spec.profile_key in FACT_FIELDS:
                columns.add(spec.profile_key)
            else:  # a fact read some other way: read them all rather than guess
                columns.update(FACT_FIELDS)
        self.columns = tuple(f for f in FACT_FIELDS if f in columns)
        self._memo: dict[Hashable, tuple[dict[str, Any], str]] = {}

    def _remember(self, key: Hashable, profile: EnterpriseProfile) -> tuple[dict[str, Any], str]:
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) > 50_000:
                self._memo.clear()
            explanation = self.compiled.evaluate(profile, on=self.on).to_dict()
            found = self._memo[key] = (explanation, explanation_text(explanation))
        return found

    def _explained(self, enterprise_ids: Sequence[int]) -> Iterable[tuple[int, tuple[dict[str, Any], str]]]:
        import json

        if self.full_profiles:
            # Plain rows, not model instances with prefetches (about a millisecond an enterprise).
            for pk, profile in enterprise_profiles_read(enterprise_ids=enterprise_ids).items():
                profile_key = (tuple(sorted(profile.facts.items())), profile.qualifications, profile.sites)
                yield pk, self._remember(profile_key, profile)
            return
        table = connection.ops.quote_name(Enterprise._meta.db_table)
        column_of = {f.name: f.column for f in Enterprise._meta.concrete_fields if f.column is not None}
        selected = "".join(f", e.{connection.ops.quote_name(column_of[f])}, e.provenance -> %s" for f in self.columns)
        sql = f"""
            SELECT e.id{selected} FROM {table} e JOIN unnest(%s::bigint[]) AS g(id) ON g.id = e.id
        """  # noqa: S608 -- names from model metadata; values are parameters.
        with connection.cursor() as cursor:
            cursor.execute(sql, [*self.columns, list(enterprise_ids)])
            rows = cursor.fetchall()
        for pk, *cells in rows:
            # The cells are hashable as read (provenance entries as jsonb text or dicts, by driver set-up).
            key = tuple(json.dumps(c, sort_keys=True) if isinstance(c, dict) else c for c in cells)
            found = self._memo.get(key)
            if found is None:
                values, provenance = {}, {}
                for i, name in enumerate(self.columns):
                    values[name] = cells[2 * i]
                    entry = cells[2 * i + 1]
                    if entry is not None:
                        provenance[name] = json.loads(entry) if isinstance(entry, str) else entry
                profile = EnterpriseProfile(credit_code="", facts=profile_facts(values=values, provenance=provenance))
                found = self._remember(key, profile)
            yield pk, found

    def explanations(self, enterprise_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """enterprise id → explanation (Outcome.to_dict()) as of `on`."""
        return {pk: found[0] for pk, found in self._explained(enterprise_ids)}

    def texts(self, enterprise_ids: Sequence[int]) -> dict[int, str]:
        """enterprise id → explanation as JSON text, for the decision's own INSERT (bulk.decide_and_write)."""
        return {pk: found[1] for pk, found in self._explained(enterprise_ids)}


def explanations_store(*, explanations: dict[int, dict[str, Any]]) -> int:
    """Write explanations onto match records (record id → explanation), with the state letters they
    show (a condition's state can move while the outcome stands), in one statement per batch. Each
    distinct explanation travels once: records point into an array of them.

    A record is written only while its stored decision is the one its explanation states: one decided
    again since the explanation was made (by a path that does not hold the caller's lock) keeps the
    explanation its own decision wrote. Returns how many records were written.
    """

    if not explanations:
        return 0
    if connection.vendor != "postgresql":
        rows = MatchRecord.objects.filter(pk__in=list(explanations)).values_list("pk", "outcome", "verified")
        current = {pk: (outcome, verified) for pk, outcome, verified in rows}
        records = [
            MatchRecord(pk=rid, explanation=e, states=state_letters_of(e))
            for rid, e in explanations.items()
            if current.get(rid) == (e["status"], bool(e["verified"]))
        ]
        MatchRecord.objects.bulk_update(records, ["explanation", "states"], batch_size=2000)
        return len(records)
    table = connection.ops.quote_name(MatchRecord._meta.db_table)
    sql = f"""
        UPDATE {table} r SET explanation = (%(distinct)s::jsonb) -> g.i, states = g.states
          FROM unnest(%(ids)s::bigint[], %(idx)s::int[], %(states)s::text[], %(outcome)s::text[],
                      %(verified)s::boolean[]) AS g(id, i, states, outcome, verified)
         WHERE r.id = g.id AND r.outcome = g.outcome AND r.verified = g.verified
    """  # noqa: S608 -- the table name comes from model metadata; every value is a parameter.
    items = list(explanations.items())
    written = 0
    for n in range(0, len(items), 20_000):
        batch = items[n : n + 20_000]
        distinct: dict[str, int] = {}
        texts: list[str] = []
        idx: list[int] = []
        for _, explanation in batch:
            text = explanation_text(explanation)
            if text not in distinct:
                distinct[text] = len(texts)
                texts.append(text)
            idx.append(distinct[text])
        params: dict[str, Any] = {
            "distinct": "[" + ",".join(texts) + "]",
            "ids": [rid for rid, _ in batch],
            "idx": idx,
            "states": [state_letters_of(e) for _, e in batch],
            "outcome": [e["status"] for _, e in batch],
            "verified": [bool(e["verified"]) for _, e in batch],
        }
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            written += cursor.rowcount
    return written


def explanation_stale(fresh: dict[str, Any] | None, stored: dict[str, Any] | None) -> bool:
    """Whether a stored explanation no longer shows what a fresh one does: any fact, source, date or
    result differs. The day it was computed on ("on") is not an input: a mere re-run changes nothing.

    Compared as stored (JSON): the fresh one is round-tripped only when a plain comparison differs.
    """
    import json

    if fresh is None or stored is None:
        return fresh is not stored
    a = {k: v for k, v in fresh.items() if k != "on"}
    b = {k: v for k, v in stored.items() if k != "on"}
    return a != b and json.loads(json.dumps(a)) != b


def explanations_refresh(*, enterprise_ids: Sequence[int], on: date | None = None, chunk_size: int = 5000) -> int:
    """Re-explain these enterprises' eligible / needs-info records whose explanation no longer says
    what their facts say (a department figure replaced a self-declared one, a date moved), although
    the outcome did not change; their entitlements follow (not a disbursed one). Sends nothing.

    The bulk path's counterpart of the incremental path's explanation diff: diff-only, so calling it
    again is free; each version's records are rewritten under that version's lock.
    """
    on = on or today()
    ids = sorted(set(enterprise_ids))
    refreshed = 0
    for version in published_versions_any_period().order_by("pk"):
        if not policy_in_effect(version, on):
            continue
        explainer = _Explainer(compiled=_compiled(version), on=on)
        for i in range(0, len(ids), chunk_size):
            with transaction.atomic():
                PolicyVersion.objects.select_for_update().filter(pk=version.pk).first()
                refreshed += len(
                    version_records_restate(
                        version_id=version.pk,
                        enterprise_ids=ids[i : i + chunk_size],
                        explainer=explainer,
                        outcomes=(MatchOutcome.ELIGIBLE, MatchOutcome.NEEDS_INFO),
                    )
                )
    return refreshed


def version_records_restate(
    *,
    version_id: int,
    enterprise_ids: Sequence[int],
    explainer: _Explainer,
    outcomes: Sequence[str] | None = None,
) -> list[int]:
    """Re-explain one version's records of these enterprises (with one of `outcomes`, when given) whose
    decision stands but whose explanation no longer shows what the facts and the day say: a condition
    under `any` or `not` moved without moving the outcome, a figure's source changed. The state letters
    follow the explanation. Emits MATCH_EXPLANATIONS_FILLED (the matches page and the entitlements take
    the new basis) and nothing else. Returns the enterprise ids restated. Call inside a transaction
    holding the version row's lock."""
    records = MatchRecord.objects.filter(policy_version_id=version_id, enterprise_id__any_of=list(enterprise_ids))
    if outcomes is not None:
        records = records.filter(outcome__in=list(outcomes))
    stored = list(records.values_list("pk", "enterprise_id", "outcome", "verified", "explanation"))
    if not stored:
        return []
    fresh = explainer.explanations([row[1] for row in stored])
    stale: dict[int, tuple[int, dict[str, Any]]] = {}
    for pk, enterprise_id, outcome, verified, explanation in stored:
        new = fresh.get(enterprise_id)
        # A record whose outcome this explanation would change is the decision path's to write.
        if new is None or (new["status"], new["verified"]) != (outcome, verified):
            continue
        if explanation_stale(new, explanation):
            stale[pk] = (enterprise_id, new)
    records_restate_write(version_id=version_id, restated=stale)
    return [enterprise_id for enterprise_id, _ in stale.values()]


def records_restate_write(*, version_id: int, restated: dict[int, tuple[int, dict[str, Any]]]) -> int:
    """Write the explanations (record id → (enterprise id, explanation)) of one version's records whose
    decision stands, with MATCH_EXPLANATIONS_FILLED and nothing else (no receipt, no push). Returns how many
    were written: one decided again meanwhile by another path keeps its own (`explanations_store`). Call
    inside a transaction holding the version row's lock."""
    if not restated:
        return 0
    written = explanations_store(explanations={pk: e for pk, (_, e) in restated.items()})
    events.emit(
        events.MATCH_EXPLANATIONS_FILLED, version_id=version_id, enterprise_ids=[eid for eid, _ in restated.values()]
    )
    return written


# --- Incremental: one enterprise against every published policy ---------------------------------

_COMPILED: dict[tuple[int, Any], CompiledRule] = {}


def _compiled(version: PolicyVersion) -> CompiledRule:
    # Versions are immutable once submitted, so a compiled rule can be kept per version (its
    # updated_at too, in case a database is rebuilt and ids come round again).
    key = (version.pk, version.updated_at)
    compiled = _COMPILED.get(key)
    if compiled is None:
        if len(_COMPILED) > 5000:
            _COMPILED.clear()
        compiled = _COMPILED[key] = compile_rule(version.rule)
    return compiled


@dataclass(frozen=True, slots=True)
class _LiveVersion:
    pk: int
    effective_from: date
    effective_to: date | None
    compiled: CompiledRule

    def in_effect_on(self, day: date) -> bool:
        return dates_in_effect(self.effective_from, self.effective_to, day)  # the model's own rule, cached dates


@dataclass(frozen=True)
class _LiveCatalogue:
    """The published versions with their compiled rules, the industry index over them (core.gate) and
    each version's position: replaced as one object, so a reader never pairs one list with another's index."""

    versions: list[_LiveVersion]
    index: IndustryIndex
    positions: dict[int, int]


_LIVE: dict[str, Any] = {"stamp": None, "catalogue": _LiveCatalogue([], IndustryIndex(()), {})}


def _published_stamp() -> tuple:
    """(count, latest update, highest id) of the published versions (`selectors.published_stamp_sql`)."""
    with connection.cursor() as cursor:
        cursor.execute(published_stamp_sql())
        return tuple(cursor.fetchone())


def _published_catalogue(*, stamp: tuple | None = None) -> _LiveCatalogue:
    """Every published version with its compiled rule, kept in-process between calls.

    One cheap aggregate (`stamp`, when the caller read it already: the one-enterprise read carries it)
    tells whether the published set changed; only then are versions, and the rules of those not yet
    compiled, read again.
    """
    if stamp is None:
        stamp = _published_stamp()
    if stamp != _LIVE["stamp"]:
        rows = list(published_versions_any_period().values_list("pk", "updated_at", "effective_from", "effective_to"))
        missing = [pk for pk, updated_at, _, _ in rows if (pk, updated_at) not in _COMPILED]
        rules = (
            dict(published_versions_any_period().filter(pk__in=missing).values_list("pk", "rule")) if missing else {}
        )
        live = []
        for pk, updated_at, effective_from, effective_to in rows:
            key = (pk, updated_at)
            if key not in _COMPILED:
                _COMPILED[key] = compile_rule(rules[pk])
            live.append(_LiveVersion(pk, effective_from, effective_to, _COMPILED[key]))
        catalogue = _LiveCatalogue(
            live, IndustryIndex([v.compiled for v in live]), {v.pk: i for i, v in enumerate(live)}
        )
        _LIVE.update(stamp=stamp, catalogue=catalogue)
    return _LIVE["catalogue"]


@dataclass
class _EnterpriseDecisions:
    """What re-deciding one enterprise would write: its projection row (None: unchanged), new and changed
    records (by version), and records whose outcome stands but whose explanation is stale."""

    row: dict[str, Any] | None = None
    new: list[MatchRecord] = field(default_factory=list)
    updated: list[MatchRecord] = field(default_factory=list)
    restated: list[MatchRecord] = field(default_factory=list)  # rewritten, never pushed
    restated_versions: list[int] = field(default_factory=list)  # each announced: the matches pages show them
    by_version: dict[int, list[MatchRecord]] = field(default_factory=dict)

    @property
    def writes(self) -> bool:
        return self.row is not None or bool(self.new or self.updated or self.restated)


def _enterprise_decisions(
    loaded: LoadedEnterprise, *, enterprise_id: int, on: date, run_id: int | None
) -> _EnterpriseDecisions:
    profile = loaded.profile
    row = profile_row(profile)
    found = _EnterpriseDecisions(row=row if loaded.stored_row != row else None)
    stored = loaded.records
    now = timezone.now()
    catalogue = _published_catalogue(stamp=loaded.catalogue_stamp)
    # The versions whose industry condition the enterprise can meet (core.gate), and every version it has
    # a record of; the others are surely ineligible with nothing stored: nothing to write.
    chosen = set(catalogue.index.candidates(profile))
    chosen.update(catalogue.positions[pk] for pk in stored if pk in catalogue.positions)
    for version in (catalogue.versions[i] for i in sorted(chosen)):
        kept = stored.get(version.pk)
        if kept is None and version.compiled.surely_ineligible(profile, on=on):
            continue  # ineligible with no record: nothing to write (the usual case)
        # A version not in effect decides nobody: its record (if any) falls to ineligible.
        outcome = version.compiled.evaluate(profile, on=on) if version.in_effect_on(on) else None
        if kept is None:
            if outcome is None or outcome.status == Status.INELIGIBLE:
                continue
            record = MatchRecord(
                enterprise_id=enterprise_id,
                policy_version_id=version.pk,
                first_decided_at=now,
                previous_outcome="",
                previous_verified=False,
            )
            found.new.append(record)
        else:
            status = outcome.status if outcome else MatchOutcome.INELIGIBLE
            verified = outcome.verified if outcome else False
            if (kept.outcome, kept.verified) == (status, verified):
                # Same decision; a fact, source or date it shows may still have moved.
                if outcome is not None:
                    explanation = outcome.to_dict()
                    if explanation_stale(explanation, kept.explanation):
                        # The states too: a condition's state can move while the outcome stands.
                        found.restated.append(
                            MatchRecord(id=kept.record_id, explanation=explanation, states=outcome.state_letters)
                        )
                        found.restated_versions.append(version.pk)
                continue
            record = MatchRecord(
                id=kept.record_id,
                enterprise_id=enterprise_id,
                policy_version_id=version.pk,
                previous_outcome=kept.outcome,
                previous_verified=kept.verified,
            )
            found.updated.append(record)
        record.outcome = outcome.status if outcome else MatchOutcome.INELIGIBLE
        record.verified = outcome.verified if outcome else False
        record.states = outcome.state_letters if outcome else ""
        record.explanation = outcome.to_dict() if outcome else None
        record.decided_at = now
        record.run_id = run_id
        found.by_version.setdefault(version.pk, []).append(record)
    return found


def enterprise_match(*, enterprise_id: int, on: date | None = None, run_id: int | None = None) -> list[ChangedRecord]:
    """Re-decide one enterprise against every published version (pure evaluator); write the changes."""
    on = on or today()
    # Most calls change nothing (a nightly re-check, a fact no rule reads). Deciding first from a read
    # without the row lock (one statement: facts and records from one snapshot) ends those without a
    # locking transaction, whose commit waits for a disk flush; anything to write is decided again below,
    # under the lock, from what the lock lets through.
    peek = load_for_match(enterprise_id=enterprise_id, lock=False)
    if peek is None or not _enterprise_decisions(peek, enterprise_id=enterprise_id, on=on, run_id=run_id).writes:
        return []
    changes: list[ChangedRecord] = []
    with transaction.atomic():
        loaded = load_for_match(enterprise_id=enterprise_id)
        if loaded is None:
            return []
        found = _enterprise_decisions(loaded, enterprise_id=enterprise_id, on=on, run_id=run_id)
        if found.row is not None:
            _upsert_profiles([MatchProfile(enterprise_id=enterprise_id, refreshed_at=timezone.now(), **found.row)])
        MatchRecord.objects.bulk_create(found.new)
        MatchRecord.objects.bulk_update(
            found.updated,
            [
                "outcome",
                "verified",
                "states",
                "explanation",
                "previous_outcome",
                "previous_verified",
                "run",
                "decided_at",
            ],
        )
        MatchRecord.objects.bulk_update(found.restated, ["explanation", "states"])
        at = next((r.decided_at for records in found.by_version.values() for r in records), timezone.now())
        for version_id, records in found.by_version.items():
            decision_receipts_create(version_id=version_id, rows=decision_rows(records), run_id=run_id, at=at)
        for version_id in found.restated_versions:
            events.emit(events.MATCH_EXPLANATIONS_FILLED, version_id=version_id, enterprise_ids=[enterprise_id])
        for version_id, records in found.by_version.items():
            version_changes = [
                ChangedRecord(r.pk, r.enterprise_id, r.outcome, r.verified, r.previous_outcome, r.previous_verified)
                for r in records
            ]
            events.emit(events.MATCH_RECORDS_CHANGED, version_id=version_id, changes=version_changes, run_id=run_id)
            if any(r.outcome == MatchOutcome.ELIGIBLE and r.verified and r.previous_outcome for r in records):
                # An entitlement that already existed (verified again after a lapse) takes the new basis.
                events.emit(events.MATCH_EXPLANATIONS_FILLED, version_id=version_id, enterprise_ids=[enterprise_id])
            changes.extend(version_changes)
    return changes


# --- Runs ---------------------------------------------------------------------------------------


# The job cycle (claim, heartbeat, progress, release, fail, sweep) is portal.jobs'; these name it for runs.
MatchRunLost = JobLost


def match_run_claim(*, run_id: int) -> MatchRun | None:
    """Take a queued run, or a running one whose heartbeat is stale, under a new claim token (one UPDATE).

    None when it is done, failed, or held by a live worker (a message redelivered early). Only one
    UPDATE can take a given row, and the token it writes makes the previous holder's next progress step
    fail (MatchRunLost), so at most one worker advances a run. Even two overlapping would duplicate
    nothing: every write is diff-only under row locks (the version row, or the enterprise row) and
    unique keys.
    """
    return job_claim(MatchRun.objects.all(), pk=run_id)


def match_run_heartbeat(*, run_id: int, claim: uuid.UUID | None) -> bool:
    """Move the heartbeat of a run this worker still holds; False once it is no longer ours (or finished)."""
    return job_heartbeat(MatchRun.objects.all(), pk=run_id, claim=claim)


def match_run_progress(
    *, run: MatchRun, processed: int, cursor: int | None = None, changes: Sequence[ChangedRecord] = ()
) -> None:
    """Write progress (and the heartbeat) under the run's claim; MatchRunLost when another worker holds it.

    Called inside a chunk's transaction, the failure rolls that chunk back. A run nobody claimed (a
    direct call, e.g. from a test or a shell) is updated unconditionally.
    """
    fields: dict[str, Any] = {"processed": processed}
    if cursor is not None:
        fields["cursor"] = cursor
    counted = Counter(run.changed or {})
    if changes:
        for c in changes:
            counted[kind_of_change(c.previous_outcome, c.previous_verified, c.outcome, c.verified)] += 1
        fields["changed"] = dict(counted)
    job_progress(run, **fields)
    run.changed = dict(counted)


def match_run_resume_at(*, run: MatchRun, lo: int, hi: int) -> int:
    """Where a district-wide run starts: after the chunks a previous holder committed (its cursor), else lo.

    Records the total and the progress that already stands. The enterprises before the cursor were
    decided, and their entitlements and notices written, in the same transactions that moved it.
    """
    start = lo if run.cursor is None else min(max(run.cursor, lo), hi)
    if start == lo:
        run.changed = {}  # a fresh start counts from nothing
    job_progress(run, total=hi - lo, processed=start - lo, cursor=start, changed=run.changed)
    if start > lo:
        logger.info("match run %s resumes at enterprise %s (%s of %s done)", run.pk, start, start - lo, hi - lo)
    return start


# Above this many changed enterprises one pass per policy over the district beats one evaluation
# of every policy per enterprise.
BULK_THRESHOLD = 2000


def match_run_request(
    *,
    kind: str,
    version_id: int | None = None,
    enterprise_ids: Sequence[int] = (),
    nightly_for: date | None = None,
) -> MatchRun:
    """Record a run and send it to a worker. Call outside a transaction (e.g. from on_commit).

    The run row is written first: if the broker is down the send fails, the run stays queued and
    `match_runs_sweep` sends it again later, so a change is never lost, only delayed. A nightly run
    is recorded once per day (`nightly_for` is unique): asked again, the existing run is returned.
    """
    try:
        with transaction.atomic():
            run = MatchRun.objects.create(
                kind=kind,
                policy_version_id=version_id,
                enterprise_ids=sorted(set(enterprise_ids)),
                total=len(enterprise_ids),
                nightly_for=nightly_for,
            )
    except IntegrityError:
        return MatchRun.objects.get(nightly_for=nightly_for)
    _send(run.pk)
    return run


def _send(run_id: int) -> None:
    from kombu.exceptions import OperationalError as BrokerError

    try:
        tasks.match_run_task.delay(run_id)
    except BrokerError:
        logger.warning("broker unavailable: match run %s stays queued for the sweep", run_id)


def match_run_release(*, run: MatchRun) -> None:
    """Give a claimed run back (a transient error): the retry, or the sweep, claims it again (and resumes)."""
    job_release(run)


def match_run_execute(*, run: MatchRun, on: date | None = None) -> MatchSummary:
    """Do the work of a claimed run and record its outcome. Safe to repeat: writes are diff-only."""
    if run.kind == MatchRun.Kind.POLICY:
        if run.policy_version_id is None:  # a policy run always names its version (set on creation)
            raise ValueError(f"match run {run.pk} has no policy version")
        summary = policy_version_match(version_id=run.policy_version_id, on=on, run=run)
        changed = dict(run.changed or {})  # counted chunk by chunk, across every holder of the run
    elif run.kind == MatchRun.Kind.ENTERPRISES:
        summary = enterprises_match(enterprise_ids=run.enterprise_ids, on=on, run=run)
        changed = dict(summary.changes)
    else:  # nightly: only what the date moved since the previous one, or the full pass (matching.nightly)
        found = nightly.nightly_match(on=on or today(), run=run, spread=passchunks.spread_enabled())
        if found is None:
            return MatchSummary()  # the full pass's chunks decide the district, and the last of them finishes the run
        summary = found
        changed = dict(summary.changes)
    # The cursor is cleared: a finished run asked for again (set back to queued) decides everything anew.
    job_finish(run, changed=changed, cursor=None)
    logger.info("match run %s (%s) done: %s", run.pk, run.kind, changed)
    return summary


def match_run_fail(*, run_id: int, error: BaseException, claim: uuid.UUID | None = None) -> None:
    """Record a run as failed; with `claim`, only while that claim still holds it (a worker that lost
    its run to another must not fail the other's work)."""
    job_fail(MatchRun.objects.all(), pk=run_id, error=error, claim=claim)


def enterprises_match(
    *, enterprise_ids: Sequence[int], on: date | None = None, run: MatchRun | None = None
) -> MatchSummary:
    """Re-decide enterprises whose facts changed against every published policy."""
    summary = MatchSummary()
    ids = sorted(set(enterprise_ids))
    if len(ids) > BULK_THRESHOLD:
        match_profiles_refresh(enterprise_ids=ids)
        versions = list(published_versions_any_period().values_list("pk", flat=True))
        for version_id in versions:
            part = policy_version_match(version_id=version_id, on=on, run=None, announce=False)
            summary.changed_records += part.changed_records
            summary.changes.update(part.changes)
        events.emit(events.CATALOGUE_DECIDED, version_ids=versions)
        # The decisions above explain only the records whose outcome changed; these enterprises' facts
        # changed, so every explanation of theirs that shows a fact may now be stale.
        explanations_refresh(enterprise_ids=ids, on=on)
        return summary
    for n, enterprise_id in enumerate(ids, start=1):
        summary.add(enterprise_match(enterprise_id=enterprise_id, on=on, run_id=run.pk if run else None))
        if run is not None and n % 100 == 0:
            match_run_progress(run=run, processed=n)
    if run is not None:
        match_run_progress(run=run, processed=len(ids))
    return summary


def match_runs_sweep(*, pending_after_seconds: float | None = None, running_after_seconds: float | None = None) -> int:
    """Send again runs whose task was lost (broker down when requested, or a worker that died).

    A run "running" whose heartbeat has not moved for JOB_STALE_AFTER_SECONDS (`running_after_seconds`)
    lost its worker: it goes back to the queue and is sent at once; the next holder resumes after the
    chunks that committed (see match_run_claim, match_run_resume_at). A run queued for as long
    (`pending_after_seconds`) is sent again too: its message may be gone (broker down, or restarted
    without persistence); a second message for a run still queued is harmless, one claim wins.
    """
    runs = job_sweep(
        MatchRun.objects.all(),
        send=_send,
        queued_after_seconds=pending_after_seconds,
        running_after_seconds=running_after_seconds,
    )
    # The chunks of a nightly run spread over workers are jobs of their own (matching.passchunks).
    return runs + passchunks.match_run_chunks_sweep(
        pending_after_seconds=pending_after_seconds, running_after_seconds=running_after_seconds
    )


def full_pass_fallback_share() -> float:
    """The share of versions changing in the one pass's probe above which the per-policy path writes
    instead (it decides MATCH_PARALLELISM versions at once outside a transaction)."""
    parallel = settings.MATCH_PARALLELISM > 1 and not connection.in_atomic_block
    return min(0.9, 1 / settings.MATCH_PARALLELISM) if parallel else 0.9


def match_everything(*, on: date | None = None, run: MatchRun | None = None, one_pass: bool = True) -> MatchSummary:
    """The nightly job: refresh missing projection rows, then re-decide every published version.

    On PostgreSQL (and unless `one_pass` is False) in one read of the district for all versions
    (`fullpass.full_pass`: resumable from the run's cursor); otherwise version by version, as follows.

    Versions are independent (each locks its own row and writes its own records), so they are
    decided MATCH_PARALLELISM at a time, each on its own database connection; inside a caller's
    transaction (tests) they run one by one, since other connections could not see its data.
    """
    missing = Enterprise.objects.filter(match_profile__isnull=True).values_list("pk", flat=True)
    match_profiles_refresh(enterprise_ids=list(missing))
    total = MatchSummary()
    parallel = settings.MATCH_PARALLELISM > 1 and not connection.in_atomic_block
    if one_pass and connection.vendor == "postgresql":
        live = list(published_versions_any_period())
        # When most versions change (no records yet), the one pass would write each of them over
        # every chunk, one after another: the per-policy path does that same work, in parallel.
        fallback_share = full_pass_fallback_share()
        try:
            total = fullpass.full_pass(on=on or today(), versions=live, run=run, fallback_share=fallback_share)
        except fullpass.MostlyChanged:
            if run is not None:  # the per-policy path starts over: no cursor for a later holder to trust
                job_progress(run, cursor=None)
        else:
            # Every version was decided for the whole district: one reconcile query for the catalogue.
            events.emit(events.CATALOGUE_DECIDED, version_ids=[version.pk for version in live])
            return total
    versions = list(published_versions_any_period().values_list("pk", flat=True))
    if run is not None:
        job_progress(run, total=len(versions), processed=0)

    def one(version_id: int) -> MatchSummary:
        try:
            # On PostgreSQL the one pass restates; its fallback must too (SQLite re-explains below).
            return policy_version_match(
                version_id=version_id, on=on, announce=False, restate=connection.vendor == "postgresql"
            )
        finally:
            if parallel:
                connections.close_all()  # this thread's connection

    if parallel:
        with ThreadPoolExecutor(max_workers=settings.MATCH_PARALLELISM) as pool:
            results = pool.map(one, versions)
            for n, summary in enumerate(results, start=1):
                total.changed_records += summary.changed_records
                total.changes.update(summary.changes)
                if run is not None and n % 10 == 0:
                    match_run_progress(run=run, processed=n)
    else:
        for n, version_id in enumerate(versions, start=1):
            summary = one(version_id)
            total.changed_records += summary.changed_records
            total.changes.update(summary.changes)
            if run is not None:
                match_run_progress(run=run, processed=n)
    if run is not None:
        match_run_progress(run=run, processed=len(versions))
    if connection.vendor != "postgresql":
        # The per-version path compares decisions only; the one pass (PostgreSQL) also restates a record
        # whose decision stands while a condition moved. An embedded (SQLite) district is small: every
        # eligible or needs-info record whose explanation no longer says what today's facts and date do
        # is re-explained, so no page goes on showing yesterday's result.
        explanations_refresh(enterprise_ids=list(MatchProfile.objects.values_list("enterprise_id", flat=True)), on=on)
    events.emit(events.CATALOGUE_DECIDED, version_ids=versions)  # one reconcile query for the catalogue
    return total
