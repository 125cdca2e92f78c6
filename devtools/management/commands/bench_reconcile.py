"""Benchmark the 免申即享 reconcile that follows the nightly run, with nothing to settle; prints JSON.

    createdb huiqi_bench_reconcile
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/huiqi_bench_reconcile python manage.py migrate
    DATABASE_URL=… python manage.py bench_reconcile --enterprises 3000 --policies 500

The first run builds the district, publishes the versions (about half 免申即享) and decides them all
(match_everything: the entitlements now rest on their versions); later runs reuse them. Then, with
nothing to settle, it times (median of --repeats) and counts the queries of:
- per_version: `entitlements_reconcile` once per version, as POLICY_VERSION_DECIDED does for each;
- catalogue: `entitlements_reconcile_many` once for every version, as the nightly run's CATALOGUE_DECIDED.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from devtools.bench import district
from matching.services import match_everything, match_profiles_refresh
from policies.models import PolicyVersion
from portal.enterprises.models import Enterprise
from portal.entitlements import services
from portal.entitlements.models import Entitlement

KEY_PREFIX = "reconcile-bench"


class Command(BaseCommand):
    help = "Time the reconcile of every published version with nothing to settle (PostgreSQL); prints JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enterprises", type=int, default=3000)
        parser.add_argument("--policies", type=int, default=500)
        parser.add_argument("--repeats", type=int, default=5)
        parser.add_argument(
            "--fill",
            action="store_true",
            help="first give every enterprise an entitlement under every 免申即享 version (the size per benefit a big"
            " district has), each resting on its version: still nothing to settle",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql" or "bench" not in connection.settings_dict["NAME"]:
            raise CommandError("run on a PostgreSQL database whose name contains 'bench'")
        if not Enterprise.objects.exists():
            district.build_district(options["enterprises"])
            match_profiles_refresh(chunk_size=5000)
        if not PolicyVersion.objects.filter(policy__key__startswith=KEY_PREFIX).exists():
            district.publish_versions(options["policies"], key_prefix=KEY_PREFIX)
            match_everything()  # grants the entitlements, each resting on its version
        versions = list(
            PolicyVersion.objects.filter(status=PolicyVersion.Status.PUBLISHED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if options["fill"]:
            self._fill()
        to_settle = services.versions_with_entitlements_to_settle(version_ids=versions)
        if to_settle:
            raise CommandError(f"{len(to_settle)} versions have entitlements to settle: not the common case")

        def per_version() -> None:
            for version_id in versions:
                services.entitlements_reconcile(version_id=version_id)

        def catalogue() -> None:
            services.entitlements_reconcile_many(version_ids=versions)

        result: dict[str, Any] = {
            "enterprises": Enterprise.objects.count(),
            "published_versions": len(versions),
            "exempt_versions": PolicyVersion.objects.filter(pk__in=versions, mode="exempt").count(),
            "entitlements": Entitlement.objects.count(),
        }
        for name, run in (("per_version", per_version), ("catalogue", catalogue)):
            result[name] = self._measure(run, options["repeats"])
        self.stdout.write(json.dumps(result, indent=2))

    @staticmethod
    def _fill() -> None:
        table = Entitlement._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {table} (enterprise_id, policy_id, period, policy_version_id, status, objection_reason,
                                     resolution, revoke_reason, status_before_review, recovery_note,
                                     determined_at, updated_at)
                SELECT e.id, v.policy_id, v.benefit_period, v.id, 'notified', '', '', '', '', '', now(), now()
                FROM enterprises_enterprise e CROSS JOIN policies_policyversion v
                WHERE v.status = 'published' AND v.mode = 'exempt'
                ON CONFLICT DO NOTHING
                """
            )
            cursor.execute(f"ANALYZE {table}")

    @staticmethod
    def _measure(run: Callable[[], None], repeats: int) -> dict[str, Any]:
        times = []
        for _ in range(repeats):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                run()
                times.append(time.perf_counter() - started)
        return {"median_s": round(statistics.median(times), 4), "queries": len(queries), "runs_s": times}
