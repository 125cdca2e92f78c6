"""Benchmark the department feed: `manage.py bench_feed --records 100000` prints JSON with records/s.

Creates N throw-away enterprises (名称以“BENCH示例”开头) with older statistics, then times one
statistics batch that changes every record (values, provenance, size, history rows), then the same
batch again (nothing may change), then removes the throw-away rows.
"""

from __future__ import annotations

import json
import random
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from portal import events
from portal.enterprises import credit_code as cc
from portal.enterprises.feeds import batch_process_settings, feed_apply
from portal.enterprises.models import Enterprise, EnterpriseChange, FeedImport
from portal.notices.models import DecisionNotice
from portal.notices.purge import notices_purge

PREFIX = "BENCH示例"
INDUSTRIES = ("3973", "3982", "3421", "6520", "6513", "3581", "3825", "5179", "7320", "7452")


def _code(i: int) -> str:
    digits = []
    for _ in range(6):
        i, r = divmod(i, 31)
        digits.append(cc.ALPHABET[r])
    return cc.build(org_body="YY" + "".join(reversed(digits)), region=cc.HUQIU_REGION)


class Command(BaseCommand):
    help = "部门数据导入性能测试（写入并删除临时示例企业），输出JSON：records/s。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--records", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--profile", action="store_true", help="cProfile the first pass (to stderr)")
        parser.add_argument("--keep", action="store_true", help="leave the throw-away enterprises in place")

    def handle(self, *args: Any, **options: Any) -> None:
        n = int(options["records"])
        rng = random.Random(int(options["seed"]))
        today = timezone.localdate()
        old_as_of = (today - timedelta(days=400)).isoformat()
        new_as_of = (today - timedelta(days=30)).isoformat()
        self._cleanup()

        started = time.perf_counter()
        codes = [_code(i) for i in range(n)]
        objs = []
        for i, code in enumerate(codes):
            emp = rng.randint(5, 2000)
            rev = Decimal(rng.randint(100, 500_000))
            prov = {k: {"source": "statistics", "as_of": old_as_of} for k in ("employees", "revenue", "total_assets")}
            prov["industry_code"] = {"source": "market_regulation", "as_of": old_as_of}
            prov["name"] = {"source": "market_regulation", "as_of": old_as_of}
            e = Enterprise(
                credit_code=code,
                name=f"{PREFIX}{i:06d}",
                industry_code=INDUSTRIES[i % len(INDUSTRIES)],
                employees=emp,
                revenue=rev,
                total_assets=rev,
                provenance=prov,
            )
            e.recompute_size()
            objs.append(e)
        with transaction.atomic():
            Enterprise.objects.bulk_create(objs, batch_size=5000)
        self._vacuum()
        setup_seconds = time.perf_counter() - started

        records = [
            {
                "credit_code": code,
                "as_of": new_as_of,
                "employees": str(rng.randint(5, 2000)),
                "revenue": f"{rng.randint(100, 500_000)}.{rng.randint(0, 99):02d}",
                "total_assets": str(rng.randint(100, 500_000)),
                "above_designated_size": "是" if rng.random() < 0.4 else "否",
            }
            for code in codes
        ]
        try:
            if options["profile"]:
                import cProfile
                import io
                import pstats

                profiler = cProfile.Profile()
                profiler.enable()
                first = self._timed(records)
                profiler.disable()
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
                self.stderr.write(out.getvalue())
            else:
                first = self._timed(records)
            second = self._timed(records)
        finally:
            if not options["keep"]:
                self._cleanup()
                self._vacuum()
        self.stdout.write(
            json.dumps(
                {
                    "records": n,
                    "database": connection.vendor,
                    "setup_seconds": round(setup_seconds, 2),
                    "first_pass": first,
                    "second_pass_same_batch": second,
                },
                ensure_ascii=False,
            )
        )

    def _timed(self, records: list[dict]) -> dict:
        # Re-matching runs after commit, in a Celery task (inline without Redis): it is the matching
        # engine's work, with its own benchmark. Here it is only counted.
        rematch: list[int] = []
        name = events.FACTS_CHANGED.name
        hooks = events.HANDLERS.get(name)
        events.HANDLERS[name] = [lambda *, enterprise_ids: rematch.extend(enterprise_ids)]
        try:
            started, cpu_started = time.perf_counter(), time.process_time()
            # As the worker task and import_feed run it (the department API's bounded batches run without).
            with batch_process_settings():
                result = feed_apply(
                    source="statistics", records=records, channel=FeedImport.Channel.COMMAND, filename="bench"
                )
            seconds = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu_started
        finally:
            if hooks is None:
                del events.HANDLERS[name]
            else:
                events.HANDLERS[name] = hooks
        fi = result.feed_import
        return {
            "seconds": round(seconds, 3),
            "records_per_second": round(len(records) / seconds),
            # This process's CPU (both threads), steadier than wall time on a busy machine; the server's is not in it.
            "cpu_seconds": round(cpu_seconds, 3),
            "accepted": fi.accepted,
            "rejected": fi.rejected,
            "changed": fi.changed,
            "history_rows": result.history_rows,
            "enterprises_to_rematch": len(rematch),
            # Phases inside the transaction; the rest of "seconds" is the commit.
            "phases": result.timings,
        }

    def _vacuum(self) -> None:
        """Fresh statistics and no dead rows from earlier runs, so that runs are comparable."""
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return
        with connection.cursor() as cursor:
            for model in (Enterprise, EnterpriseChange):
                cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")

    def _cleanup(self) -> None:
        bench = Enterprise.objects.filter(name__startswith=PREFIX)
        with transaction.atomic():
            # History first, raw: the ORM's cascade collector would load every history row.
            EnterpriseChange.objects.filter(enterprise__in=bench)._raw_delete(EnterpriseChange.objects.db)
            # Notices a re-match of the bench enterprises may have issued (legal records: purged by the dev tools only).
            notices_purge(DecisionNotice.objects.filter(enterprise__in=bench))
            bench.delete()  # the ORM: whatever other apps hang on an enterprise goes too
            FeedImport.objects.filter(filename="bench").delete()
