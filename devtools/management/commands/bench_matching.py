"""Benchmark the matching engine on a synthetic district in PostgreSQL and print JSON figures.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/huiqi_bench python manage.py migrate
    DATABASE_URL=… python manage.py bench_matching --enterprises 100000 --policies 500 --fresh
    (--reuse-district keeps the enterprises of an earlier run of the same size and starts again from
    the policies; building a million enterprises takes minutes)

Figures:
1. publish_one_policy_s: decide one new policy over N enterprises and persist its records
   (publish_with_pushes_s includes the full explanations, written in each chunk's transaction);
2. floor_s: a hand-written SELECT of the same eligible ids plus a COPY of as many rows, in the
   same run, and ratio_to_floor = 1 / 2 (1 and 2 each run --repeats times, a new version each
   time; medians are compared and every run is printed, the first, cold one included);
   floor_with_receipts_s adds a COPY of as many receipt-shaped rows (a decision is written with its
   认定依据 in the same statement) and ratio_to_floor_with_receipts compares with that;
   (decide_and_persist_s is the decision and its records alone; publish_with_pushes_s adds the
   chunked run with its locks and the notifications written in the same transactions);
3. enterprise_rematch_ms: one enterprise against M published policies (median, p99 over a sample), in
   steady state (each sampled enterprise decided once before the clock);
4. full_rematch_s: every policy over every enterprise, the nightly job (initial: from no records;
   steady: again with nothing changed; from_empty_entry / _per_policy: from no records again, by the
   nightly entry point and by the per-policy path it hands such a district to, and their ratio);
   io_floor_s: a COPY out of the columns of every table the one pass reads or diffs (the match records
   by the faster of a table scan and an index-only scan of the pair index that carries them);
   full_rematch_one_pass_s (the pass alone) and its ratio to that floor; full_rematch_per_policy_s:
   the per-policy path it replaced (one statement per version);
   full_rematch_spread_{1,2}w_s: the same pass as the nightly run spread over 1 and 2 real worker
   processes the command starts and stops (`--pass-workers`, needs REDIS_URL), each with its ratio to the
   I/O floor, and the speed-up of 2 over 1;
   pass_process_peak_rss_mb: the peak memory of a new process doing the one pass alone (and its
   peak before the pass, with Django and the live versions loaded).
5. nightly_changed_only: the nightly run on a day with about --crossing-share (1%) of the enterprises
   across a date boundary (an age a rule tests, a qualification starting or ending): the previous run is
   put that many days back (the records decided as of that day by the full pass, a finished nightly run
   recorded for it), then the run of today re-decides only the crossings. Its seconds, the enterprises
   and (enterprise, version) decisions it re-decided, its ratio to the I/O floor, to the steady one pass
   (nothing to write) and to the full pass on the same day (the same changes to write, from the same
   records), and a full pass afterwards that must find nothing to change. `--only-nightly` skips figures 1 to 3 and
   the from-empty comparisons of 4.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from devtools.bench import district
from matching.bulk import compile_for, decide_and_write
from matching.models import MatchRecord
from matching.selectors import today
from matching.services import (
    enterprise_match,
    match_everything,
    match_profiles_refresh,
    policy_version_match,
)

NEW_POLICY_RULE = {
    "all": [
        {"fact": "industry", "op": "under", "value": ["39", "65"]},
        {"fact": "size", "op": "in", "value": ["medium", "small", "micro"]},
        {"fact": "qualification", "op": "has", "value": "high_tech"},
        {"fact": "tax_credit_rating", "op": "in", "value": ["A", "B"]},
        {"fact": "dishonest", "op": "eq", "value": False},
    ]
}
# The same selection written by hand against the registry's own tables (the floor's SELECT).
FLOOR_SELECT = """
SELECT e.id FROM enterprises_enterprise e
 WHERE (e.industry_code LIKE '39%%' OR e.industry_code LIKE '65%%')
   AND e.size IN ('medium', 'small', 'micro')
   AND e.tax_credit_rating IN ('A', 'B') AND e.dishonest = FALSE
   AND EXISTS (SELECT 1 FROM enterprises_qualification q WHERE q.enterprise_id = e.id AND q.kind = 'high_tech'
               AND q.valid_from <= %(on)s AND (q.valid_to IS NULL OR q.valid_to >= %(on)s))
"""


class Command(BaseCommand):
    help = "Benchmark matching on a synthetic district (PostgreSQL); prints JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enterprises", type=int, default=100_000)
        parser.add_argument("--policies", type=int, default=500)
        parser.add_argument("--sample", type=int, default=1000, help="enterprises timed for figure 3")
        parser.add_argument("--fresh", action="store_true", help="empty the (bench) database first")
        parser.add_argument(
            "--reuse-district",
            action="store_true",
            help="keep the enterprises of an earlier run (same --enterprises) and start again from the policies",
        )
        parser.add_argument("--skip-full", action="store_true", help="skip figure 4")
        parser.add_argument(
            "--reuse-matched",
            action="store_true",
            help="figures 4 (steady) and 5 on the district and records an earlier --only-nightly run left",
        )
        parser.add_argument(
            "--skip-from-empty", action="store_true", help="figure 4 without the two extra re-matches from no records"
        )
        parser.add_argument("--repeats", type=int, default=5, help="runs of figures 1 and 2 (medians compared)")
        parser.add_argument(
            "--pass-workers",
            default="1,2",
            help="figure 4's spread pass: worker process counts to time it with, comma-separated ('' to skip)",
        )
        parser.add_argument(
            "--pass-chunk-size", type=int, default=None, help="enterprise ids per chunk (MATCH_PASS_CHUNK_SIZE)"
        )
        parser.add_argument("--pass-repeats", type=int, default=2, help="spread runs per worker count (best kept)")
        parser.add_argument(
            "--crossing-share", type=float, default=0.01, help="figure 5: share of enterprises across a boundary"
        )
        parser.add_argument(
            "--only-nightly",
            action="store_true",
            help="figures 4 (steady) and 5 only: the nightly run against the full",
        )

    def log(self, message: str) -> None:
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_matching needs PostgreSQL: set DATABASE_URL=postgres://…")
        from portal.enterprises.models import Enterprise

        n, m = options["enterprises"], options["policies"]
        reuse = options["reuse_district"] and Enterprise.objects.count() == n
        if options["reuse_matched"]:
            return self.reuse_matched(n, m, share=options["crossing_share"])
        if options["fresh"] or reuse:
            if "bench" not in connection.settings_dict["NAME"]:
                raise CommandError("--fresh empties tables: only on a database whose name contains 'bench'")
            # Receipts hold no database foreign keys (so CASCADE does not reach them): emptied by name.
            emptied = ["policies_policy", "matching_matchrun", "receipts_receipt"]
            if not reuse:
                emptied += ["enterprises_enterprise", "matching_matchprofile"]
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {', '.join(emptied)} RESTART IDENTITY CASCADE")
        elif Enterprise.objects.exists():
            raise CommandError("the database already holds enterprises: use a bench database and --fresh")

        on = today()
        result: dict[str, Any] = {"enterprises": n, "policies": m, "on": on.isoformat()}

        if reuse:
            result["district"] = "reused"
            self.log(f"reusing the district of {n} enterprises")
        else:
            started = time.perf_counter()
            result["rows"] = district.build_district(n)
            result["build_s"] = round(time.perf_counter() - started, 2)
            self.log(f"district built in {result['build_s']}s: {result['rows']}")
            started = time.perf_counter()
            match_profiles_refresh(chunk_size=5000)
            result["projection_refresh_s"] = round(time.perf_counter() - started, 2)
            self.log(f"projection refreshed in {result['projection_refresh_s']}s")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

        if options["only_nightly"]:
            district.publish_versions(m, seed=7)
            started = time.perf_counter()
            initial = match_everything(on=on)
            result["full_rematch_initial_s"] = round(time.perf_counter() - started, 2)
            result["full_rematch_initial_records"] = initial.changed_records
            self.log(f"full re-match from empty: {result['full_rematch_initial_s']}s")
            result.update(self.full_rematch_figures(on, per_policy=False))
            result["nightly_changed_only"] = self.nightly_figures(on, result, share=options["crossing_share"])
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
            return

        # 1 and 2: one newly published policy against the floor. Both are timed `--repeats` times (a
        # new version each time, so every run writes all its records) and compared by their medians;
        # each run is printed, the first (cold) one included.
        repeats = max(1, options["repeats"])
        *decision_version_ids, new_version_id = district.publish_versions(repeats + 1, seed=1, key_prefix="bench-new")
        from policies.models import PolicyVersion

        PolicyVersion.objects.filter(pk__in=[*decision_version_ids, new_version_id]).update(
            rule=NEW_POLICY_RULE, mode="apply"
        )
        # The decisions and their records alone (what the floor does), in one transaction…
        compiled = compile_for(NEW_POLICY_RULE, on=on)
        decision_runs: list[float] = []
        for version_id in decision_version_ids:
            started = time.perf_counter()
            with transaction.atomic():
                decided = decide_and_write(
                    compiled, version_id=version_id, lo=0, hi=2**62, now=timezone.now(), run_id=None
                )
            decision_runs.append(time.perf_counter() - started)
        decisions_s = statistics.median(decision_runs)
        # …then the whole publish path: chunks, locks, and the pushes written with each decision.
        started = time.perf_counter()
        summary = policy_version_match(version_id=new_version_id, on=on)
        publish_s = time.perf_counter() - started
        written = MatchRecord.objects.filter(policy_version_id=new_version_id)
        eligible = written.filter(outcome="eligible").count()
        persisted = written.count()
        floor_runs = [self.floor(on, persisted) for _ in range(repeats)]
        floor_select_s = statistics.median(run[0] for run in floor_runs)
        floor_copy_s = statistics.median(run[1] for run in floor_runs)
        floor_ids = floor_runs[0][3]
        floor_s = statistics.median(run[0] + run[1] for run in floor_runs)
        floor_with_receipts_s = statistics.median(run[0] + run[1] + run[2] for run in floor_runs)
        result["publish_one_policy"] = {
            "decide_and_persist_s": round(decisions_s, 3),
            "decide_and_persist_runs_s": [round(t, 3) for t in decision_runs],
            "decide_and_persist_records": len(decided),
            "ratio_to_floor": round(decisions_s / floor_s, 2) if floor_s else None,
            "floor_runs_s": [round(run[0] + run[1], 3) for run in floor_runs],
            "publish_with_pushes_s": round(publish_s, 3),
            "records_written": persisted,
            "eligible": eligible,
            "floor_eligible_ids": floor_ids,
            "floor_select_s": round(floor_select_s, 3),
            "floor_copy_s": round(floor_copy_s, 3),
            "floor_s": round(floor_s, 3),
            # The same floor with the receipts the decisions write beside their records.
            "floor_with_receipts_s": round(floor_with_receipts_s, 3),
            "ratio_to_floor_with_receipts": round(decisions_s / floor_with_receipts_s, 2)
            if floor_with_receipts_s
            else None,
            "publish_with_pushes_ratio_to_floor": round(publish_s / floor_s, 2) if floor_s else None,
            "changes": dict(summary.changes),
        }
        self.log(f"publish one policy: {result['publish_one_policy']}")
        # The timing-only versions leave the published set, so figures 3 and 4 see exactly M policies.
        MatchRecord.objects.filter(policy_version_id__in=decision_version_ids).delete()
        PolicyVersion.objects.filter(pk__in=decision_version_ids).update(status=PolicyVersion.Status.RETIRED)

        # 4: the whole district against M published policies (the nightly job).
        district.publish_versions(m - 1, seed=7)
        if not options["skip_full"]:
            started = time.perf_counter()
            # From no records at all, every decision is new, and each is explained as it is written.
            initial = match_everything(on=on)
            result["full_rematch_initial_s"] = round(time.perf_counter() - started, 2)
            result["full_rematch_initial_records"] = initial.changed_records
            self.log(
                f"full re-match from empty: {result['full_rematch_initial_s']}s, {initial.changed_records} records"
            )
            # From no records again (caches warm, every version from empty), by the nightly entry point
            # and by the per-policy path: the first must not be slower (its probe hands a district where
            # most versions change to that path).
            from_empty: dict[str, float] = {}
            for name, one_pass in () if options["skip_from_empty"] else (("entry", True), ("per_policy", False)):
                MatchRecord.objects.all().delete()
                started = time.perf_counter()
                again = match_everything(on=on, one_pass=one_pass)
                from_empty[name] = time.perf_counter() - started
                result[f"full_rematch_from_empty_{name}_s"] = round(from_empty[name], 2)
                result[f"full_rematch_from_empty_{name}_records"] = again.changed_records
            if from_empty:
                result["full_rematch_from_empty_ratio"] = (
                    round(from_empty["entry"] / from_empty["per_policy"], 2) if from_empty["per_policy"] else None
                )
            result.update(self.full_rematch_figures(on))
            workers = [int(n) for n in options["pass_workers"].split(",") if n.strip()]
            result.update(
                self.spread_figures(
                    workers,
                    chunk_size=options["pass_chunk_size"],
                    floor_s=result["io_floor_s"],
                    repeats=options["pass_repeats"],
                )
            )
            result["nightly_changed_only"] = self.nightly_figures(on, result, share=options["crossing_share"])

        # 3: one enterprise against every published policy.
        ids = list(Enterprise.objects.values_list("pk", flat=True))
        sample = random.Random(3).sample(ids, min(options["sample"], len(ids)))
        # Steady state: each sampled enterprise decided once before the clock (this also warms the
        # compiled-rule cache; with --skip-full nothing has decided the district yet).
        for enterprise_id in sample:
            enterprise_match(enterprise_id=enterprise_id, on=on)
        timings = []
        for enterprise_id in sample:
            started = time.perf_counter()
            enterprise_match(enterprise_id=enterprise_id, on=on)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        result["enterprise_rematch_ms"] = {
            "median": round(statistics.median(timings), 2),
            "p99": round(timings[int(len(timings) * 0.99) - 1], 2),
            "max": round(timings[-1], 2),
            "sample": len(timings),
        }
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))

    def reuse_matched(self, n: int, m: int, *, share: float) -> None:
        """Figures 4 (steady) and 5 on a district an earlier --only-nightly run left matched (the same
        N enterprises and M live versions), without building or matching it again."""
        from matching.selectors import published_versions_any_period
        from portal.enterprises.models import Enterprise

        name = connection.settings_dict["NAME"]
        # It deletes the nightly runs and re-decides the records as of another day (then as of today).
        if "bench" not in name and not name.startswith("test_"):
            raise CommandError("--reuse-matched runs on a bench (or test) database only")
        live = published_versions_any_period().count()
        if Enterprise.objects.count() != n or live != m or not MatchRecord.objects.exists():
            raise CommandError(f"--reuse-matched needs a matched district of {n} enterprises and {m} live versions")
        on = today()
        result: dict[str, Any] = {"enterprises": n, "policies": m, "on": on.isoformat(), "district": "reused, matched"}
        self.log(f"reusing the matched district of {n} enterprises × {m} versions")
        result.update(self.full_rematch_figures(on, per_policy=False))
        result["nightly_changed_only"] = self.nightly_figures(on, result, share=share)
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))

    def full_rematch_figures(self, on: Any, *, per_policy: bool = True) -> dict[str, Any]:
        """The nightly job with nothing changed: one pass for all versions against the I/O floor (a COPY
        out of every table the pass reads or diffs), and the per-policy path it replaced."""
        import resource

        from matching.fullpass import PassFigures, full_pass
        from matching.selectors import published_versions_any_period

        figures: dict[str, Any] = {}
        floor_s = self.io_floor()
        figures["io_floor_s"] = round(floor_s, 3)
        live = list(published_versions_any_period())
        timings = PassFigures()
        started = time.perf_counter()
        written = full_pass(on=on, versions=live, figures=timings)
        one_pass_s = time.perf_counter() - started
        figures["full_rematch_one_pass_s"] = round(one_pass_s, 3)
        figures["full_rematch_one_pass_ratio_to_io_floor"] = round(one_pass_s / floor_s, 2) if floor_s else None
        figures["full_rematch_one_pass_parts_s"] = {
            "read": round(timings.read_s, 3),
            "decide_and_diff": round(timings.decide_s, 3),
            "write": round(timings.write_s, 3),
            "chunks": timings.chunks,
            "versions_written": timings.versions_written,
            "restated_records": timings.restated_records,
        }
        figures["full_rematch_one_pass_changed"] = written.changed_records
        # ru_maxrss is the process's peak (KiB on Linux): the bench's own earlier work counts too.
        figures["process_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        figures.update(self.pass_memory())
        started = time.perf_counter()
        steady = match_everything(on=on)  # the nightly entry point (one pass, plus each version's reconcile)
        figures["full_rematch_s"] = round(time.perf_counter() - started, 2)
        figures["full_rematch_changed"] = steady.changed_records
        if per_policy:
            started = time.perf_counter()
            by_policy = match_everything(on=on, one_pass=False)
            figures["full_rematch_per_policy_s"] = round(time.perf_counter() - started, 2)
            figures["full_rematch_per_policy_changed"] = by_policy.changed_records
        self.log(f"full re-match, nothing changed: {figures}")
        return figures

    def pass_memory(self) -> dict[str, Any]:
        """The peak memory of a process doing the one pass alone: a new Python process (the same settings
        and database) that loads Django and the live versions, notes its peak, runs `full_pass`, and
        notes its peak again. The pass reads the district in enterprise-id chunks (25,000 by default), so
        its own share depends on the chunk size and the versions, not on the district's size."""
        import os
        import subprocess

        # The peak is the kernel's high-water mark of this process's own memory (VmHWM), not ru_maxrss:
        # Linux carries ru_maxrss over from the parent through fork and exec, so a child of a bench that
        # grew to gigabytes would report the bench's peak.
        script = (
            "import json, time, django\n"
            "def hwm():\n"
            "    for line in open('/proc/self/status'):\n"
            "        if line.startswith('VmHWM:'):\n"
            "            return int(line.split()[1])\n"
            "django.setup()\n"
            "from matching.fullpass import full_pass\n"
            "from matching.selectors import published_versions_any_period, today\n"
            "live = list(published_versions_any_period())\n"
            "before = hwm()\n"
            "started = time.perf_counter()\n"
            "done = full_pass(on=today(), versions=live)\n"
            "seconds = time.perf_counter() - started\n"
            "peak = hwm()\n"
            "found = {'before_kib': before, 'peak_kib': peak, 's': seconds, 'changed': done.changed_records}\n"
            "print(json.dumps(found))\n"
        )
        from urllib.parse import quote

        from django.conf import settings as django_settings

        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "")}
        if not env["DJANGO_SETTINGS_MODULE"]:
            env["DJANGO_SETTINGS_MODULE"] = django_settings.SETTINGS_MODULE
        # The database this process is on (under pytest, the test database, not DATABASE_URL's).
        db = connection.settings_dict
        login = quote(db["USER"] or "", safe="") + (":" + quote(db["PASSWORD"], safe="") if db["PASSWORD"] else "")
        env["DATABASE_URL"] = f"postgres://{login}@{db['HOST'] or ''}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"
        finished = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", script],
            env=env,
            cwd=str(django_settings.BASE_DIR),
            capture_output=True,
            text=True,
            check=True,
        )
        found = json.loads(finished.stdout.strip().splitlines()[-1])
        figures = {
            "pass_process_peak_rss_mb": round(found["peak_kib"] / 1024, 1),
            "pass_process_rss_before_pass_mb": round(found["before_kib"] / 1024, 1),
            "pass_process_s": round(found["s"], 3),
            "pass_process_changed": found["changed"],
        }
        self.log(f"one pass in its own process: {figures}")
        return figures

    def spread_figures(
        self, counts: list[int], *, chunk_size: int | None, floor_s: float, repeats: int
    ) -> dict[str, Any]:
        """The nightly run with nothing changed, spread over 1, 2, … real worker processes this command starts
        (on this database and REDIS_URL's broker) and stops: wall time from sending the run's task until the
        run is done (cutting, every chunk, finishing), `repeats` runs each (the best kept), and its ratio to
        the I/O floor."""
        from django.conf import settings

        from devtools.processes import WorkerProcess
        from matching.models import MatchRun
        from matching.tasks import match_run_task
        from portal.celery import app

        if not counts:
            return {}
        if app.conf.task_always_eager or not settings.REDIS_URL:
            return {"full_rematch_spread": "skipped: worker processes need a broker (set REDIS_URL)"}
        size = chunk_size or settings.MATCH_PASS_CHUNK_SIZE
        figures: dict[str, Any] = {"full_rematch_spread_chunk_size": size}
        for n in counts:
            app.control.purge()  # only this run's messages
            workers = [
                WorkerProcess(broker_url=settings.REDIS_URL, extra_env={"MATCH_PASS_CHUNK_SIZE": str(size)})
                for _ in range(n)
            ]
            runs_s: list[float] = []
            try:
                for worker in workers:
                    worker.wait_ready(timeout=120)
                # The first run is cold (each worker process parses and compiles every rule once); the best is kept.
                for _ in range(max(1, repeats)):
                    # No earlier nightly run: the run is a full pass (the changed-only run would follow one).
                    MatchRun.objects.filter(kind=MatchRun.Kind.NIGHTLY).delete()
                    run = MatchRun.objects.create(kind=MatchRun.Kind.NIGHTLY)
                    started = time.perf_counter()
                    match_run_task.delay(run.pk)
                    while run.status not in (MatchRun.Status.DONE, MatchRun.Status.FAILED):
                        if time.perf_counter() - started > 3600:
                            raise CommandError(f"the spread run {run.pk} did not finish within an hour")
                        time.sleep(0.02)
                        run.refresh_from_db()
                    if run.status == MatchRun.Status.FAILED:
                        raise CommandError(f"the spread run failed: {run.error}")
                    runs_s.append(time.perf_counter() - started)
            finally:
                for worker in workers:
                    worker.stop()
            wall_s = min(runs_s)
            figures[f"full_rematch_spread_{n}w_runs_s"] = [round(t, 3) for t in runs_s]
            figures[f"full_rematch_spread_{n}w_s"] = round(wall_s, 3)
            figures[f"full_rematch_spread_{n}w_ratio_to_io_floor"] = round(wall_s / floor_s, 2) if floor_s else None
            figures[f"full_rematch_spread_{n}w_chunks"] = run.chunks.count()
            figures[f"full_rematch_spread_{n}w_changed"] = sum(run.chunks.values_list("changed_records", flat=True))
            self.log(f"spread pass over {n} worker(s): {figures[f'full_rematch_spread_{n}w_runs_s']}s")
        if 1 in counts and 2 in counts and figures["full_rematch_spread_2w_s"]:
            figures["full_rematch_spread_2w_speedup"] = round(
                figures["full_rematch_spread_1w_s"] / figures["full_rematch_spread_2w_s"], 2
            )
        return figures

    def nightly_figures(self, on: Any, result: dict[str, Any], *, share: float) -> dict[str, Any]:
        """Figure 5: the changed-only nightly run on a day with about `share` of the district across a boundary."""
        from datetime import timedelta

        from matching import nightly
        from matching.core.boundaries import PolicyDates, date_crossings
        from matching.fullpass import full_pass
        from matching.models import MatchProfile, MatchRun
        from matching.selectors import published_versions_any_period
        from matching.services import _compiled

        live = list(published_versions_any_period())
        trees = {v.pk: _compiled(v).tree for v in live}
        periods = {
            v.pk: PolicyDates(v.effective_from, v.effective_to, v.application_start, v.application_end) for v in live
        }
        district_size = MatchProfile.objects.count()

        def crossing(days: int) -> int:
            crossings = date_crossings(rules=trees, periods=periods, since=on - timedelta(days=days), until=on)
            per_version: dict[int, set[int]] = {pk: set() for pk in trees}
            found = nightly._anniversary_crossers(crossings, per_version) | nightly._validity_crossers(
                crossings, per_version
            )
            return len(found)

        # The fewest days back that put `share` of the district across a boundary (a realistic busy day).
        days, crossed = 1, crossing(1)
        per_day = crossed
        while crossed < share * district_size and days < 3650:
            days = max(days + 1, int(days * share * district_size / max(crossed, 1)))
            crossed = crossing(days)
        since = on - timedelta(days=days)
        self.log(f"nightly: {crossed} enterprises cross a boundary in the {days} days since {since} ({per_day} in one)")
        # The previous run: the records as the full pass decides them on `since`, and its finished run row.
        full_pass(on=since, versions=live)
        MatchRun.objects.filter(kind=MatchRun.Kind.NIGHTLY).delete()
        plan = nightly.nightly_plan(on=since, full=True)
        MatchRun.objects.create(
            kind=MatchRun.Kind.NIGHTLY,
            nightly_for=since,
            status=MatchRun.Status.DONE,
            finished_at=timezone.now(),
            # Its last full pass counted as today's: the periodic full pass is not due (a busy day, not a week).
            nightly={**plan, "full_because": "first", "last_full": on.isoformat()},
        )
        run = MatchRun.objects.create(kind=MatchRun.Kind.NIGHTLY, nightly_for=on)
        started = time.perf_counter()
        summary = nightly.nightly_match(on=on, run=run)
        seconds = time.perf_counter() - started
        run.refresh_from_db()
        info = run.nightly
        started = time.perf_counter()
        after = full_pass(on=on, versions=live)
        full_after_s = time.perf_counter() - started
        # The fair comparison: the full pass (the nightly entry point) on the same day, from the same
        # records (put back as of `since`), writing the same changes with their pushes.
        full_pass(on=since, versions=live)
        started = time.perf_counter()
        same_day = match_everything(on=on)
        same_day_s = time.perf_counter() - started
        floor_s = result.get("io_floor_s")
        one_pass_s = result.get("full_rematch_one_pass_s")
        figures = {
            "mode": info["mode"],
            "since": info.get("since"),
            "days_back": days,
            "crossing_enterprises": crossed,
            "crossing_share": round(crossed / district_size, 4) if district_size else None,
            "crossing_enterprises_one_day": per_day,
            "reasons": info.get("reasons"),
            "enterprises_redecided": info.get("enterprises_by_crossing"),
            "decisions": info.get("decisions"),
            "decisions_full_pass": district_size * len(live),
            "seconds": round(seconds, 3),
            "changed_records": summary.changed_records,
            "restated_records": info.get("restated"),
            "ratio_to_io_floor": round(seconds / floor_s, 3) if floor_s else None,
            "ratio_to_one_pass": round(seconds / one_pass_s, 3) if one_pass_s else None,
            "full_pass_same_day_s": round(same_day_s, 3),
            "full_pass_same_day_changed_records": same_day.changed_records,
            "ratio_to_full_pass_same_day": round(seconds / same_day_s, 3) if same_day_s else None,
            "full_pass_after_s": round(full_after_s, 3),
            "full_pass_after_changed": after.changed_records,  # must be 0: the run left what a full pass leaves
            "text": nightly.nightly_text(info),
        }
        self.log(f"nightly changed-only: {figures}")
        return figures

    def io_floor(self) -> float:
        """Seconds to COPY out (text format) the columns of every table the full pass reads or diffs:
        the projection, qualifications, sites, townships, zones, site parks, parks and match records
        (their decisions and state letters; not their explanations, which the pass never reads), the
        records by the faster of a table scan and an index-only scan. Best of three."""
        from matching.bulk import tables
        from matching.core.projection import PROJECTION_COLUMNS

        t = tables()
        copies = [
            (t.profile, ["enterprise_id", *PROJECTION_COLUMNS]),
            (t.qualification, ["enterprise_id", "kind", "valid_from", "valid_to", "source"]),
            (t.site, ["id", "enterprise_id", "township_id", "source"]),
            (t.township, ["id", "zone_id"]),
            (t.zone, ["id", "code"]),
            (t.site_parks, [t.site_parks_site_column, t.site_parks_park_column]),
            (t.park, ["id", "code"]),
            (MatchRecord._meta.db_table, ["enterprise_id", "policy_version_id", "outcome", "verified", "states"]),
        ]
        record_columns = ", ".join(copies[-1][1])
        # The records' columns are also in their unique index (INCLUDE, on PostgreSQL): read that way too,
        # an index-only scan, and the faster of the two counts. The floor is the best read of the data.
        index_only = f"COPY (SELECT {record_columns} FROM {MatchRecord._meta.db_table}) TO STDOUT"

        def timed(statement: str, *, no_seqscan: bool = False) -> float:
            with transaction.atomic(), connection.cursor() as cursor:
                if no_seqscan:
                    cursor.execute("SET LOCAL enable_seqscan = off")
                started = time.perf_counter()
                with cursor.cursor.copy(statement) as copy:
                    for _block in copy:
                        pass
                return time.perf_counter() - started

        runs = []
        for _ in range(3):
            spent = sum(timed(f"COPY {name} ({', '.join(columns)}) TO STDOUT") for name, columns in copies[:-1])
            table = timed(f"COPY {copies[-1][0]} ({record_columns}) TO STDOUT")
            runs.append(spent + min(table, timed(index_only, no_seqscan=True)))
        return min(runs)

    def floor(self, on: Any, rows: int) -> tuple[float, float, float, int]:
        """The same selection by hand, a COPY of `rows` match-record-shaped rows, and (timed apart) a COPY
        of as many receipt-shaped rows: seconds of each, and the ids selected."""
        with transaction.atomic(), connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(FLOOR_SELECT, {"on": on})
            ids = [r[0] for r in cursor.fetchall()]
            select_s = time.perf_counter() - started
            cursor.execute("CREATE TEMP TABLE bench_floor (LIKE matching_matchrecord INCLUDING ALL) ON COMMIT DROP")
            now = timezone.now()
            padded = (ids * (rows // max(len(ids), 1) + 1))[:rows] if ids else list(range(rows))
            started = time.perf_counter()
            with cursor.cursor.copy(
                "COPY bench_floor (enterprise_id, policy_version_id, outcome, verified, states, previous_outcome, "
                "previous_verified, first_decided_at, decided_at) FROM STDIN"
            ) as copy:
                for i, enterprise_id in enumerate(padded):
                    copy.write_row(
                        (enterprise_id, i // max(len(ids), 1) + 1, "eligible", True, "MMMMM", "", False, now, now)
                    )
            copy_s = time.perf_counter() - started
            # A decision is written with its 认定依据 (receipt) in the same statement: as many receipt rows,
            # into a table with the receipts' indexes.
            cursor.execute("CREATE TEMP TABLE bench_floor_receipt (LIKE receipts_receipt INCLUDING ALL) ON COMMIT DROP")
            started = time.perf_counter()
            with cursor.cursor.copy(
                "COPY bench_floor_receipt (kind, enterprise_id, policy_version_id, match_record_id, outcome, verified, "
                "previous_outcome, previous_verified, status, previous_status, reason, by_role, rule_hash, "
                "engine_version, facts, at) FROM STDIN"
            ) as copy:
                for i, enterprise_id in enumerate(padded):
                    copy.write_row(
                        (
                            "decision",
                            enterprise_id,
                            i // max(len(ids), 1) + 1,
                            i + 1,
                            "eligible",
                            True,
                            "",
                            False,
                            "",
                            "",
                            "",
                            "system",
                            "0" * 64,
                            "1",
                            "{}",
                            now,
                        )
                    )
            receipts_s = time.perf_counter() - started
        return select_s, copy_s, receipts_s, len(ids)
