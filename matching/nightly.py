"""The nightly run: re-decide only what the date can have changed since the previous nightly run.

Decisions change for three reasons: facts change (the incremental path, `services.enterprise_match`,
decides the enterprise on the day), the catalogue changes (a publish decides the version for the
district), and the date moves. For the last, `core.boundaries.date_crossings` reads the live rules'
trees and the versions' dates and says what lies between the previous run's day (`since`) and today:

- 年龄跨界: enterprises whose establishment date had an anniversary an age condition tests (one scan of
  the projection's dates, in SQL);
- 资质生效/到期: enterprises with a qualification of a tested kind that started or ended (one scan of
  the qualification dates);
- 政策生效/申报窗口: versions whose effective period has a boundary in between are re-decided for every
  enterprise (the per-policy path, that version only). A boundary of the application window is only
  counted: no decision reads the window (a 申报 window moves pushes, sent by the reminders on the day,
  not outcomes), so such a version keeps its enterprises' crossings like any other. A decision that one
  day reads the window changes the matching code, and `engine_stamp` then makes the next run a full pass.

For those enterprises, each of those versions is decided with the pure evaluator over their profiles
(read once; held equal to the SQL path by tests/matching/test_bulk_matches_evaluator.py, as the
incremental path's decisions are); only the pairs whose decision differs from the stored record are
written, every version at once (`services.decided_record`: one transaction, one upsert with the
receipts, and one dispatch of MATCH_RECORDS_CHANGED whose handlers answer all the versions together),
with the same records, explanations, receipts, entitlements and pushes as the full pass. A busy day thus
costs a few statements, not a transaction per version. A pair whose decision stands while a condition's
result moved (under `any` or `not`) gets today's explanation and state letters, without a receipt or push
(`restated` in the run's summary), as the full pass restates it. Also re-decided, by
the incremental path: enterprises with no projection row yet (补建企业画像) and the work of match runs
that failed since the previous run (补判失败的匹配).

The full pass (`services.match_everything`) runs instead when there is no previous run to start from, when
the matching code (`engine_stamp`) or the zone and park map (`places_stamp`) changed since it, when a rule
declares a boundary kind this module cannot read, when the last full pass is MATCH_NIGHTLY_FULL_EVERY_DAYS
days old (a periodic check against anything no event announced; 0: never), or when asked
(`manage.py rematch --all`). The run stores what it did in `MatchRun.nightly` (see `nightly_text`).

Why this is the full pass's result: every stored decision was made on some day d >= since with today's
data (by the previous nightly run, a publish, or a fact change), and nothing but a crossed boundary makes
a decision on d differ from one on today. tests/matching/test_nightly.py compares the two on random data.
"""

# Every statement here is built from model metadata (table and column names); values are parameters.
# ruff: noqa: S608

from __future__ import annotations

import bisect
import functools
import hashlib
import logging
import time
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Q

from policies.models import PolicyVersion
from policies.selectors import policy_in_effect
from portal import events
from portal.db import ahead
from portal.enterprises.models import Enterprise, Park, Qualification, Township, Zone
from portal.enterprises.selectors import enterprise_profiles_read
from portal.jobs import job_progress

from . import passchunks, services
from .bulk import Decided, explanation_text
from .core.boundaries import POLICY_EFFECTIVE, Crossings, PolicyDates, date_crossings
from .core.evaluator import CompiledRule, Status
from .core.gate import IndustryIndex
from .core.profile import EnterpriseProfile
from .core.receipt import rule_hash
from .models import MatchOutcome, MatchProfile, MatchRecord, MatchRun
from .selectors import published_versions_any_period

logger = logging.getLogger(__name__)

MODE_FULL = "full"
MODE_CHANGED = "changed"

# Why enterprises (or versions) were re-decided, in the order pages show them.
REASON_LABELS: dict[str, str] = {
    "age": "年龄跨界",
    "qualification": "资质生效/到期",
    "policy": "政策生效/申报窗口",
    "profile": "补建企业画像",
    "retry": "补判失败的匹配",
}
# Why the full pass ran instead.
FULL_LABELS: dict[str, str] = {
    "first": "没有上一次每日匹配可作起点",
    "engine": "匹配程序已更新",
    "places": "功能区或园区划分已变化",
    "boundary": "规则含有无法按日期筛选的条件",
    "periodic": "定期全量核对",
    "clock": "日期早于上一次每日匹配",
    "asked": "按要求全量匹配",
}

# The modules whose code decides (or writes) outcomes: any change to them makes the next night a full pass.
_ENGINE_FILES = ("core", "bulk.py", "fullpass.py", "nightly.py", "services.py", "incremental.py")
_IDS_PER_STATEMENT = 20_000
# Enterprises per part of the crossings: each part is found while the one before is written.
PART_ENTERPRISES = 2_000


@functools.cache
def engine_stamp() -> str:
    """A digest of the matching code's source (matching/core with its data, and the writing paths)."""
    base = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in _ENGINE_FILES:
        path = base / name
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".py", ".csv", ".json", ".txt"))
        for file in files if path.is_dir() else [path]:
            digest.update(str(file.relative_to(base)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def places_stamp() -> str:
    """A digest of the place map the zone and park conditions read (township → zone, zone and park codes).

    Moving a township to another zone is not an enterprise's fact change: no event re-decides its sites'
    enterprises, so the next nightly run is a full pass.
    """
    digest = hashlib.sha256()
    digest.update(repr(list(Township.objects.order_by("pk").values_list("pk", "zone_id"))).encode())
    digest.update(repr(list(Zone.objects.order_by("pk").values_list("pk", "code"))).encode())
    digest.update(repr(list(Park.objects.order_by("pk").values_list("pk", "code"))).encode())
    return digest.hexdigest()[:16]


def previous_nightly(*, exclude: int | None = None) -> MatchRun | None:
    """The last nightly run that finished."""
    runs = MatchRun.objects.filter(kind=MatchRun.Kind.NIGHTLY, status=MatchRun.Status.DONE)
    if exclude is not None:
        runs = runs.exclude(pk=exclude)
    return runs.order_by("-finished_at", "-pk").first()


def _decided_on(run: MatchRun) -> date | None:
    day = (run.nightly or {}).get("on")
    return date.fromisoformat(day) if day else run.nightly_for


def nightly_plan(*, on: date, run: MatchRun | None = None, full: bool = False) -> dict[str, Any]:
    """How tonight's run goes: {"mode": "full" | "changed", "on", "since", "full_because", stamps…}."""
    plan: dict[str, Any] = {"on": on.isoformat(), "engine": engine_stamp(), "places": places_stamp()}
    because = "asked" if full else ""
    previous = None if full else previous_nightly(exclude=run.pk if run is not None else None)
    if run is not None and (run.nightly or {}).get("mode") == MODE_FULL:
        because = run.nightly.get("full_because") or "asked"  # a revived run keeps its holder's choice
    elif not because:
        if previous is None or _decided_on(previous) is None:
            because = "first"
        else:
            before = previous.nightly or {}
            since = _decided_on(previous)
            assert since is not None
            last_full = date.fromisoformat(before["last_full"]) if before.get("last_full") else since
            every = settings.MATCH_NIGHTLY_FULL_EVERY_DAYS
            if before.get("engine") != plan["engine"]:
                because = "engine"
            elif before.get("places") != plan["places"]:
                because = "places"
            elif since > on:
                because = "clock"
            elif every and on - last_full >= timedelta(days=every):
                because = "periodic"
            else:
                plan.update(mode=MODE_CHANGED, since=since.isoformat(), last_full=last_full.isoformat())
                plan["previous_run"] = previous.pk
                return plan
    plan.update(mode=MODE_FULL, full_because=because, since=None, last_full=on.isoformat())
    if previous is not None:
        plan["previous_run"] = previous.pk
    return plan


def nightly_match(
    *,
    on: date,
    run: MatchRun | None = None,
    full: bool = False,
    info: dict[str, Any] | None = None,
    spread: bool = False,
) -> services.MatchSummary | None:
    """Tonight's run: only what the date moved since the previous nightly run, or the full pass (see the
    module's docstring). Stores what it did on `run.nightly` (with a run) and in `info` (when given),
    and returns the changes. With `spread` and a run, a full pass is cut into chunks for the workers
    (matching.passchunks): None then, as the chunks decide the district and the last one finishes the run."""
    started = time.perf_counter()
    plan = nightly_plan(on=on, run=run, full=full)
    if run is not None:
        job_progress(run, nightly=plan)
    summary: services.MatchSummary | None = None
    if plan["mode"] == MODE_CHANGED:
        try:
            summary, done = _changed_only(on=on, since=date.fromisoformat(plan["since"]), run=run, plan=plan)
        except _NeedsFull as reason:
            plan.update(mode=MODE_FULL, full_because=str(reason), since=None, last_full=on.isoformat())
            if run is not None:
                job_progress(run, nightly=plan)
        else:
            plan.update(done)
    if summary is None:
        plan["enterprises"] = MatchProfile.objects.count()
        if spread and run is not None:
            # Stored before the cut: the chunks may finish the run before match_run_spread returns.
            plan["spread"] = True
            job_progress(run, nightly=plan)
            if passchunks.match_run_spread(run=run, on=on):
                logger.info("nightly run for %s: the full pass is spread over the workers", on)
                return None
            plan["spread"] = False  # the probe handed the district to the per-policy path
        summary = services.match_everything(on=on, run=run)
    plan["seconds"] = round(time.perf_counter() - started, 2)
    plan["changed_records"] = summary.changed_records
    if run is not None:
        job_progress(run, nightly=plan)
    if info is not None:
        info.update(plan)
    logger.info("nightly run for %s: %s", on, nightly_text(plan))
    return summary


class _NeedsFull(Exception):
    """The changed-only run cannot read a boundary: the full pass runs instead (the reason as its message)."""


def _changed_only(
    *, on: date, since: date, run: MatchRun | None, plan: dict[str, Any]
) -> tuple[services.MatchSummary, dict[str, Any]]:
    live = list(published_versions_any_period())
    by_id = {v.pk: v for v in live}
    trees = {v.pk: services._compiled(v).tree for v in live}
    periods = {
        v.pk: PolicyDates(v.effective_from, v.effective_to, v.application_start, v.application_end) for v in live
    }
    crossings = date_crossings(rules=trees, periods=periods, since=since, until=on)
    if crossings.unknown:
        raise _NeedsFull("boundary")

    per_version: dict[int, set[int]] = {pk: set() for pk in by_id}
    age = _anniversary_crossers(crossings, per_version)
    qualified = _validity_crossers(crossings, per_version)

    # Enterprises no run has decided yet (no projection row), and the work of runs that failed since: the
    # incremental path's own work (every version, explanations restated), done here by that path.
    missing = list(Enterprise.objects.filter(match_profile__isnull=True).values_list("pk", flat=True))
    previous = MatchRun.objects.filter(pk=plan["previous_run"]).first() if plan.get("previous_run") else None
    failed = MatchRun.objects.filter(status=MatchRun.Status.FAILED)
    if previous is not None:  # failed since the previous run began (earlier ones it retried itself)
        since_previous = Q(created_at__gte=previous.created_at)
        if previous.started_at is not None:
            since_previous |= Q(finished_at__gte=previous.started_at)
        failed = failed.filter(since_previous)
    retried: set[int] = set()
    retried_versions: set[int] = set()
    for kind, version_id, enterprise_ids in failed.values_list("kind", "policy_version_id", "enterprise_ids"):
        if kind == MatchRun.Kind.ENTERPRISES:
            retried.update(int(i) for i in enterprise_ids or ())
        elif kind == MatchRun.Kind.POLICY and version_id in by_id:
            retried_versions.add(version_id)
    whole = set(crossings.whole_versions) | retried_versions

    work: list[tuple[int, list[int] | None]] = []
    for pk in sorted(by_id):
        if pk in whole:
            work.append((pk, None))
        elif per_version[pk]:
            work.append((pk, sorted(per_version[pk])))
    if run is not None:
        job_progress(run, total=len(work), processed=0, cursor=None, changed={})

    summary = services.MatchSummary()
    decided_pairs = 0
    incremental = sorted(set(missing) | retried)
    if incremental:
        part = services.enterprises_match(enterprise_ids=incremental, on=on)
        summary.changed_records += part.changed_records
        summary.changes.update(part.changes)
        decided_pairs += len(incremental) * len(by_id)
    listed_work = {pk: ids for pk, ids in work if ids is not None}
    district = MatchProfile.objects.count()
    redecided: set[int] = set()
    processed = 0
    restated_whole = 0
    for pk, listed in work:
        if listed is not None:
            decided_pairs += len(listed)
            redecided.update(listed)
            continue
        # Restating too: a record whose decision stands may show a condition that moved since.
        part = services.policy_version_match(version_id=pk, on=on, announce=False, restate=True)
        summary.changed_records += part.changed_records
        summary.changes.update(part.changes)
        restated_whole += part.restated_records
        decided_pairs += district
        processed += 1
        if run is not None:
            job_progress(run, processed=processed, changed=dict(summary.changes))
    # The listed versions' differing decisions, every version at once: one transaction and one statement
    # per part of the enterprises (services.decided_record), not one per version, so a busy day costs a
    # few statements.
    restating: dict[int, dict[int, tuple[int, dict[str, Any]]]] = {}
    if connection.vendor != "postgresql":
        differing = _differing(listed_work, by_id=by_id, on=on)
        _write_per_version(differing, by_id=by_id, trees=trees, on=on, run=run, summary=summary)
        for pk, differ in differing.items():
            restating.setdefault(pk, {}).update(differ.restated)
    else:
        hashes = {pk: rule_hash(by_id[pk].rule) for pk in listed_work}
        parts = _parts(listed_work)
        # Finding a part is mostly this process's work (the evaluator), writing one mostly the server's (the
        # upsert with explanations and receipts): the next part is found while this one is written
        # (db.ahead). Parts share no enterprise, and the write keeps its guard against a record decided
        # meanwhile, so reading a part's records before the part before it is written changes nothing.

        def find(at: int) -> dict[int, _Differing]:
            return _differing(parts[at], by_id=by_id, on=on)

        with ahead(len(parts), find, name="nightly-differing") as differing_parts:
            for differing in differing_parts:
                for pk, differ in differing.items():
                    restating.setdefault(pk, {}).update(differ.restated)
                rows = sorted(
                    (row for differ in differing.values() for row in differ.rows),
                    key=lambda r: (r.enterprise_id, r.version_id),
                )
                for i in range(0, len(rows), _IDS_PER_STATEMENT):
                    with transaction.atomic():
                        changes = services.decided_record(
                            rows=rows[i : i + _IDS_PER_STATEMENT],
                            rule_hashes=hashes,
                            run_id=run.pk if run is not None else None,
                        )
                        summary.add(changes)
                        if run is not None:  # in the part's transaction: progress commits with it, or neither
                            job_progress(run, processed=processed, changed=dict(summary.changes))
    restated = restated_whole + _restate(restating)
    if run is not None:
        job_progress(run, processed=len(work), changed=dict(summary.changes))
    # Every live version's records now stand as a full pass leaves them: one reconcile for the catalogue.
    events.emit(events.CATALOGUE_DECIDED, version_ids=sorted(by_id))

    effective = sum(1 for p in crossings.policies if p.reason == POLICY_EFFECTIVE)
    reasons: dict[str, dict[str, int]] = {
        "age": {"enterprises": len(age)},
        "qualification": {"enterprises": len(qualified)},
        "policy": {
            "versions": len(crossings.policies),
            "effective": effective,
            "window": len(crossings.policies) - effective,
        },
        "profile": {"enterprises": len(missing)},
        "retry": {"enterprises": len(retried), "versions": len(retried_versions)},
    }
    done = {
        "reasons": reasons,
        "versions_whole": sorted(whole),
        "enterprises": district if whole else len(redecided | set(incremental)),
        "enterprises_by_crossing": len(redecided | set(incremental)),
        "decisions": decided_pairs,
        "restated": restated,
        "district": district,
        "live_versions": len(by_id),
    }
    return summary, done


class _Differing:
    """The enterprises whose decision on one version differs from its stored record, found with the pure
    evaluator (held equal to the SQL path by tests/matching/test_bulk_matches_evaluator.py), with their
    decisions and explanations (`rows`), so nothing is read or evaluated twice."""

    def __init__(self, *, compiled: CompiledRule, on: date, profiles: dict[int, EnterpriseProfile]) -> None:
        self.compiled, self.on, self.profiles = compiled, on, profiles
        self.rows: list[Decided] = []
        # Records whose decision stands while a condition moved (under `any` or `not`): record id →
        # (enterprise id, the explanation of today), restated without a push.
        self.restated: dict[int, tuple[int, dict[str, Any]]] = {}

    @property
    def ids(self) -> list[int]:
        return [row.enterprise_id for row in self.rows]

    def texts(self, enterprise_ids: Sequence[int]) -> dict[int, str]:
        """The write path's explainer (`services.Explains`), for the per-version path off PostgreSQL."""
        known = {row.enterprise_id: row.explanation for row in self.rows if row.explanation is not None}
        found = {}
        for enterprise_id in enterprise_ids:
            text = known.get(enterprise_id)
            if text is None and enterprise_id in self.profiles:
                text = explanation_text(self.compiled.evaluate(self.profiles[enterprise_id], on=self.on).to_dict())
            if text is not None:
                found[enterprise_id] = text
        return found


def _differing(work: dict[int, list[int]], *, by_id: dict[int, PolicyVersion], on: date) -> dict[int, _Differing]:
    """For each version, the enterprises (of its list) whose decision on `on` is not the stored one, with
    that decision: their profiles and stored records read once, each pair evaluated once."""
    everyone = sorted(set().union(*work.values())) if work else []
    profiles: dict[int, EnterpriseProfile] = {}
    stored: dict[tuple[int, int], tuple[str, bool]] = {}
    letters: dict[tuple[int, int], tuple[int, str]] = {}  # the stored record's id and state letters
    for i in range(0, len(everyone), _IDS_PER_STATEMENT):
        part = everyone[i : i + _IDS_PER_STATEMENT]
        profiles.update(enterprise_profiles_read(enterprise_ids=part))
        rows = MatchRecord.objects.filter(enterprise_id__any_of=part, policy_version_id__any_of=list(work)).values_list(
            "enterprise_id", "policy_version_id", "outcome", "verified", "pk", "states"
        )
        for e, v, o, b, record_id, states in rows:
            stored[(e, v)] = (o, b)
            letters[(e, v)] = (record_id, states)
    found: dict[int, _Differing] = {}
    compiled_by_id = {pk: services._compiled(by_id[pk]) for pk in work}
    # Most pairs of a busy day have no record and fail the version's industry condition: the industry
    # index (core.gate, as the one-enterprise path uses it) rules them out with one look-up per enterprise
    # instead of a surely_ineligible call per pair.
    gate = IndustryIndex(list(compiled_by_id.values()))
    version_at = list(compiled_by_id)
    candidates = {
        enterprise_id: {version_at[i] for i in gate.candidates(profile)} for enterprise_id, profile in profiles.items()
    }
    for pk, ids in work.items():
        version = by_id[pk]
        compiled = compiled_by_id[pk]
        active = policy_in_effect(version, on)
        differ = _Differing(compiled=compiled, on=on, profiles=profiles)
        for enterprise_id in ids:
            kept = stored.get((enterprise_id, pk))
            if kept is None and pk not in candidates.get(enterprise_id, ()):
                continue  # surely ineligible with no record (or deleted since): nothing to write
            profile = profiles.get(enterprise_id)
            before = (None, None) if kept is None else kept
            if profile is None:
                continue  # deleted since
            if not active:  # not in effect: everyone ineligible, with no explanation (nothing was checked)
                if kept is not None and kept != (MatchOutcome.INELIGIBLE, False):
                    differ.rows.append(Decided(pk, enterprise_id, MatchOutcome.INELIGIBLE, False, "", None, *before))
                continue
            if kept is None and compiled.surely_ineligible(profile, on=on):
                continue
            outcome = compiled.evaluate(profile, on=on)
            decided = (str(outcome.status), outcome.verified)
            if (kept is None and outcome.status != Status.INELIGIBLE) or (kept is not None and kept != decided):
                text = explanation_text(outcome.to_dict())
                differ.rows.append(Decided(pk, enterprise_id, *decided, outcome.state_letters, text, *before))
            elif kept is not None:
                record_id, states = letters[(enterprise_id, pk)]
                if states != outcome.state_letters:
                    # The decision stands but a condition moved: the page must not show yesterday's result.
                    differ.restated[record_id] = (enterprise_id, outcome.to_dict())
        if differ.rows or differ.restated:
            found[pk] = differ
    return found


def _parts(work: dict[int, list[int]]) -> list[dict[int, list[int]]]:
    """`work` (version id → enterprise ids, sorted) cut into parts of PART_ENTERPRISES enterprises, each part
    holding every version's ids among its enterprises."""
    everyone = sorted(set().union(*work.values())) if work else []
    bounds = everyone[::PART_ENTERPRISES]
    parts: list[dict[int, list[int]]] = [{} for _ in bounds]
    for pk, ids in work.items():
        for enterprise_id in ids:
            parts[bisect.bisect_right(bounds, enterprise_id) - 1].setdefault(pk, []).append(enterprise_id)
    return parts


def _restate(restating: dict[int, dict[int, tuple[int, dict[str, Any]]]]) -> int:
    """Write today's explanation and state letters onto the records whose decision stands while a condition
    moved (version id → record id → (enterprise id, today's explanation)), under the versions' locks (in id
    order), with no push but MATCH_EXPLANATIONS_FILLED. Returns how many records were restated (one decided
    again meanwhile by another path keeps its own)."""
    restated = {pk: records for pk, records in restating.items() if records}
    written = 0
    if not restated:
        return written
    with transaction.atomic():
        list(PolicyVersion.objects.select_for_update().filter(pk__in=list(restated)).order_by("pk").values("pk"))
        for pk, records in sorted(restated.items()):
            written += services.records_restate_write(version_id=pk, restated=records)
    return written


def _write_per_version(
    differing: dict[int, _Differing],
    *,
    by_id: dict[int, PolicyVersion],
    trees: dict[int, Any],
    on: date,
    run: MatchRun | None,
    summary: services.MatchSummary,
) -> None:
    """Off PostgreSQL (no multi-version upsert): each version's differing ids through the per-version path,
    which decides them again in SQL and writes them with the explanations the evaluator gave."""
    for pk, differ in sorted(differing.items()):
        if not differ.rows:
            continue
        active = policy_in_effect(by_id[pk], on)
        compiled = services.compile_for(trees[pk], on=on) if active else services._NOT_IN_EFFECT
        ids = differ.ids
        with transaction.atomic():
            PolicyVersion.objects.select_for_update().filter(pk=pk).first()
            summary.add(
                services.version_chunk_write(
                    version_id=pk,
                    compiled=compiled,
                    explainer=differ if active else None,
                    lo=ids[0],
                    hi=ids[-1] + 1,
                    run_id=run.pk if run is not None else None,
                    ids=ids,
                )
            )


def _anniversary_crossers(crossings: Crossings, per_version: dict[int, set[int]]) -> set[int]:
    """The enterprises whose projection date lies in a crossing's span, added to its versions' sets.
    One scan of the projection per date column, whatever the number of ages tested."""
    found: set[int] = set()
    by_key: dict[str, list[Any]] = {}
    for crossing in crossings.anniversaries:
        by_key.setdefault(crossing.key, []).append(crossing)
    for key, spans in by_key.items():
        field = MatchProfile._meta.get_field(key)
        assert isinstance(field, models.DateField) and field.column, key  # an anniversary counts from a date
        column = connection.ops.quote_name(field.column)
        where: list[str] = []
        params: list[date] = []
        for span in spans:
            if span.after is None:
                where.append(f"{column} <= %s")
                params.append(span.upto)
            else:
                where.append(f"({column} > %s AND {column} <= %s)")
                params += [span.after, span.upto]
        sql = f"SELECT enterprise_id, {column} FROM {MatchProfile._meta.db_table} WHERE {' OR '.join(where)}"
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        for enterprise_id, day in rows:
            for span in spans:
                if (span.after is None or day > span.after) and day <= span.upto:
                    found.add(enterprise_id)
                    for version in span.versions:
                        per_version[version].add(enterprise_id)
    return found


def _validity_crossers(crossings: Crossings, per_version: dict[int, set[int]]) -> set[int]:
    """Enterprises with a qualification of a tested kind that started or ended in between (one scan)."""
    if not crossings.validities:
        return set()
    versions_of = {c.kind: c.versions for c in crossings.validities}
    since, until = crossings.validities[0].since, crossings.validities[0].until
    rows: Iterable[tuple[int, str]] = (
        Qualification.objects.filter(kind__in=list(versions_of))
        .filter(
            Q(valid_from__gt=since, valid_from__lte=until) | Q(valid_to__gte=since, valid_to__lt=until),
            enterprise__match_profile__isnull=False,
        )
        .values_list("enterprise_id", "kind")
        .distinct()
    )
    found: set[int] = set()
    for enterprise_id, kind in rows:
        found.add(enterprise_id)
        for version in versions_of[kind]:
            per_version[version].add(enterprise_id)
    return found


# --- In words, for pages and command output -----------------------------------------------------


def nightly_text(info: dict[str, Any] | None) -> str:
    """What a nightly run did, in one Chinese sentence ("" before it ran)."""
    if not info or "mode" not in info:
        return ""
    seconds = f"，用时 {info['seconds']} 秒" if "seconds" in info else ""
    if info["mode"] == MODE_FULL:
        because = FULL_LABELS.get(info.get("full_because", ""), "全量匹配")
        enterprises = f"对全部 {info['enterprises']} 家企业" if "enterprises" in info else "对全部企业"
        return f"全量匹配（{because}）：{enterprises}重新判定全部已发布政策{seconds}"
    parts = []
    reasons = info.get("reasons") or {}
    for code, label in REASON_LABELS.items():
        counts = reasons.get(code) or {}
        if code == "policy":
            if counts.get("versions"):
                district = info.get("district", 0)
                effective = counts.get("effective", counts["versions"])
                window = counts["versions"] - effective
                said = []  # a window crossing decides nothing: named, not re-decided (core.boundaries)
                if effective:
                    said.append(
                        f"对全区 {district} 家企业重新判定"
                        if not window
                        else f"生效变化 {effective} 个对全区 {district} 家企业重新判定"
                    )
                if window:
                    said.append(
                        f"申报窗口变化 {window} 个不影响判定结果" if effective else "申报窗口变化，不影响判定结果"
                    )
                parts.append(f"{label} {counts['versions']} 个政策版本（{'，'.join(said)}）")
        elif code == "retry":
            text = []
            if counts.get("enterprises"):
                text.append(f"{counts['enterprises']} 家企业")
            if counts.get("versions"):
                text.append(f"{counts['versions']} 个政策版本")
            if text:
                parts.append(f"{label} {'、'.join(text)}")
        elif counts.get("enterprises"):
            parts.append(f"{label} {counts['enterprises']} 家企业")
    since = info.get("since") or ""
    head = f"只重新判定自 {since} 以来日期变化涉及的企业"
    if "reasons" not in info:
        return f"{head}（进行中）"
    if not parts:
        return f"{head}：没有企业跨过日期界限{seconds}"
    total = f"；共 {info.get('enterprises_by_crossing', 0)} 家企业、{info.get('decisions', 0)} 次判定"
    if info.get("restated"):
        total += f"，其中 {info['restated']} 条判定结果不变、条件状态变化的说明已更新"
    return f"{head}：{'，'.join(parts)}{total}{seconds}"
