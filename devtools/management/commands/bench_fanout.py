"""Benchmark: fan out one notification to N enterprises (inbox + e-mail outbox), deliver with ONE worker.

    python manage.py bench_fanout --enterprises 100000

Creates (or reuses) N synthetic enterprises (基准测试企业, sample data) with one user each, then times
  1. notifications_create_bulk for N notifications + their e-mail deliveries (one transaction),
  2. delivery of all of them by one worker (a `celery worker --concurrency=1` process when a broker
     is configured, else in this process) to a local e-mail backend (locmem by default),
and, on PostgreSQL, a plain COPY of the same rows into scratch tables with no indexes, for scale.
Before the clock starts the touched tables are VACUUM ANALYZEd (what autovacuum would have done; it
may be off), so a run does not pay for the dead rows of earlier runs' clean-up.
Prints one JSON document. The benchmark's notifications are deleted afterwards (--keep to keep them).

E-mail backends (--email-backend): locmem (the default) builds each message (EmailMessage.message()) and
keeps a copy; rendering (devtools.bench.email) also serialises every message to the bytes SMTP would send,
then drops it; dummy sends nothing. The choice applies to this benchmark's worker only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from devtools.bench.email import BACKENDS
from portal.notifications.delivery import chunked
from portal.notifications.models import Delivery, Notification, NotificationRead
from portal.notifications.services import NotificationSpec, notifications_create_bulk

BENCH_PREFIX = "bench-fanout-"


TARGET_SECONDS = 30.0


def _process_tree_cpu(pid: int) -> float | None:
    """User + system CPU seconds of process `pid` and its children (Linux /proc), or None where unreadable."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        total = 0
        for each in [pid, *map(int, children)]:
            # Fields after the ")" that ends the command name: utime and stime are the 12th and 13th.
            fields = Path(f"/proc/{each}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])
        return total / ticks
    except (OSError, ValueError, IndexError):
        return None


class Command(BaseCommand):
    help = "Time a fan-out of one notification to N enterprises, and its e-mail delivery by one worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enterprises", type=int, default=100_000)
        parser.add_argument(
            "--email-backend",
            default="locmem",
            help="e-mail backend the benchmark's worker uses: locmem, rendering (builds the SMTP bytes), dummy, "
            "or a dotted path to another local backend",
        )
        parser.add_argument(
            "--worker",
            choices=("auto", "process", "inline"),
            default="auto",
            help="process: one celery worker subprocess (needs REDIS_URL); inline: this process; auto: process if "
            "a broker is configured",
        )
        parser.add_argument(
            "--concurrency", type=int, default=1, help="pool processes of the one worker (--worker process)"
        )
        parser.add_argument("--keep", action="store_true", help="keep the benchmark's notifications")
        parser.add_argument(
            "--via-matching",
            action="store_true",
            help="fan out the real way: publish a 免申即享 policy every enterprise meets on department data, so the "
            "match run writes match records, entitlements, inbox items and e-mail deliveries in its transactions",
        )
        parser.add_argument("--timeout", type=float, default=900.0, help="give up waiting for delivery after this")

    def handle(self, *args: Any, **options: Any) -> None:
        count = options["enterprises"]
        email_backend = BACKENDS.get(options["email_backend"], options["email_backend"])
        mode = options["worker"]
        if mode == "auto":
            mode = "inline" if settings.CELERY_TASK_ALWAYS_EAGER else "process"
        if mode == "process" and settings.CELERY_TASK_ALWAYS_EAGER:
            self.stderr.write("--worker process needs a broker (REDIS_URL)")
            sys.exit(2)

        started = time.perf_counter()
        enterprise_ids = self._population(count)
        population_seconds = time.perf_counter() - started

        key = f"bench:{uuid.uuid4().hex[:12]}"
        items = [
            NotificationSpec(pk, Notification.Kind.EXEMPT_GRANTED, key, "示例政策已为贵企业免申兑现（基准测试示例）")
            for pk in enterprise_ids
        ]
        from portal.celery import app

        worker = None
        eager = app.conf.task_always_eager
        try:
            if mode == "process":
                # Started (and ready) before the clock starts; it idles until the fan-out commits.
                worker = self._start_worker(email_backend, options["concurrency"])
            else:
                settings.NOTIFICATIONS_EMAIL_BACKEND = email_backend
                app.conf.task_always_eager = True  # the on-commit hand-over delivers right here, batch by batch

            entitlements = 0
            committed: list[float] = []
            version_id = self._exempt_policy(enterprise_ids) if options["via_matching"] else None
            self._vacuum()  # set-up, not timed
            if version_id is not None:
                from matching.services import policy_version_match
                from policies.models import PolicyVersion
                from portal.entitlements.models import Entitlement
                from portal.entitlements.services import exempt_granted_key

                key = exempt_granted_key(PolicyVersion.objects.get(pk=version_id))

                t0, cpu0 = time.perf_counter(), time.process_time()
                worker_cpu0 = _process_tree_cpu(worker.pid) if worker is not None else None
                # Each chunk's transaction writes the decisions with their explanations, then the pushes.
                policy_version_match(version_id=version_id)
                t1 = time.perf_counter()
                created = Notification.objects.filter(dedupe_key=key).count()
                entitlements = Entitlement.objects.filter(policy_version_id=version_id).count()
            else:
                t0, cpu0 = time.perf_counter(), time.process_time()
                worker_cpu0 = _process_tree_cpu(worker.pid) if worker is not None else None
                with transaction.atomic():
                    # Runs first of the on-commit hooks (before the hand-over, or inline delivery): the commit,
                    # which checks the deferred foreign keys of every new row, is done.
                    transaction.on_commit(lambda: committed.append(time.perf_counter()))
                    created = notifications_create_bulk(items=items)
                    t1 = time.perf_counter()
            # Committed; the on-commit hook has handed the ids over (process) or delivered them (inline).
            deliveries = Delivery.objects.filter(notification__dedupe_key=key)
            total_deliveries = deliveries.count()
            if mode == "process":
                self._wait_sent(deliveries, total_deliveries, options["timeout"])
            t2, cpu2 = time.perf_counter(), time.process_time()
            worker_cpu2 = _process_tree_cpu(worker.pid) if worker is not None else None
            sent = deliveries.filter(status=Delivery.Status.SENT).count()
        finally:
            app.conf.task_always_eager = eager
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=60)

        copy_seconds = self._copy_baseline(created, total_deliveries, extra_rows=2 * entitlements)
        if not options["keep"]:
            self._cleanup(key)
            if version_id is not None:  # made for --via-matching
                self._cleanup_policy(version_id)

        create_seconds, deliver_seconds = t1 - t0, t2 - t1
        commit_seconds = committed[0] - t1 if committed else None
        total = t2 - t0
        result = {
            "database": connection.vendor,
            "enterprises": count,
            "population_seconds": round(population_seconds, 2),
            "fan_out": "match run (records + entitlements + inbox + e-mail)"
            if options["via_matching"]
            else "notifications",
            "entitlements_created": entitlements,
            "notifications_created": created,
            "email_deliveries": total_deliveries,
            "sent": sent,
            "worker": mode if mode == "inline" else f"one celery worker, concurrency {options['concurrency']}",
            "vacuum_analyze_before_timing": connection.vendor == "postgresql",
            "email_backend": email_backend,
            "create_seconds": round(create_seconds, 2),
            "deliver_seconds": round(deliver_seconds, 2),
            # Part of deliver_seconds: the fan-out's COMMIT (its deferred foreign-key checks), before anything can
            # be sent. None with --via-matching, whose chunks commit inside create_seconds.
            "commit_seconds": round(commit_seconds, 2) if commit_seconds is not None else None,
            "total_seconds": round(total, 2),
            # This process's CPU over the timed part: with --worker inline that is the whole fan-out and delivery
            # short of the database server's share, and steadier than wall time on a busy machine.
            "cpu_seconds": round(cpu2 - cpu0, 2),
            # The worker's processes' CPU over the same span (Linux /proc; None inline or elsewhere): its share of
            # delivery short of the database server's, steadier than deliver_seconds on a busy machine.
            "worker_cpu_seconds": round(worker_cpu2 - worker_cpu0, 2)
            if worker_cpu0 is not None and worker_cpu2 is not None
            else None,
            "create_rows_per_second": round((created + total_deliveries) / create_seconds) if create_seconds else None,
            "deliveries_per_second": round(sent / deliver_seconds) if deliver_seconds else None,
            "copy_seconds": round(copy_seconds, 3) if copy_seconds is not None else None,
            "ratio_create_to_copy": round(create_seconds / copy_seconds, 1) if copy_seconds else None,
            "ratio_total_to_copy": round(total / copy_seconds, 1) if copy_seconds else None,
            "target_seconds": TARGET_SECONDS,
            "within_target": total < TARGET_SECONDS,
        }
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))

    # -- set-up -------------------------------------------------------------------------------------

    def _population(self, count: int) -> list[int]:
        """N synthetic enterprises (sample data, 示例) with one enterprise user each; reused between runs."""
        from portal.accounts.models import User
        from portal.enterprises.credit_code import build
        from portal.enterprises.models import Enterprise

        existing = dict(Enterprise.objects.filter(name__startswith="基准测试企业").values_list("credit_code", "pk"))
        wanted = {build(org_body=f"BN{n:06d}"): n for n in range(count)}
        missing = [code for code in wanted if code not in existing]
        if missing:
            self.stderr.write(f"creating {len(missing)} synthetic enterprises (基准测试企业, sample data)…")
            for codes in chunked(missing, 5000):
                with transaction.atomic():
                    Enterprise.objects.bulk_create(
                        Enterprise(credit_code=code, name=f"基准测试企业{wanted[code]:06d}（示例）") for code in codes
                    )
            existing = dict(Enterprise.objects.filter(credit_code__in=list(wanted)).values_list("credit_code", "pk"))
        ids = sorted(existing[code] for code in wanted)
        with_user = set(
            User.objects.filter(enterprise_id__in=ids, username__startswith=BENCH_PREFIX).values_list(
                "enterprise_id", flat=True
            )
        )
        lacking = [pk for pk in ids if pk not in with_user]
        if lacking:
            unusable = make_password(None)
            self.stderr.write(f"creating {len(lacking)} users…")
            for batch in chunked(lacking, 5000):
                User.objects.bulk_create(
                    User(
                        username=f"{BENCH_PREFIX}{pk}",
                        email=f"user{pk}@bench.example.com",
                        enterprise_id=pk,
                        password=unusable,
                    )
                    for pk in batch
                )
        return ids

    def _start_worker(self, email_backend: str, concurrency: int) -> subprocess.Popen:
        root = Path(settings.BASE_DIR)
        log_path = Path(tempfile.gettempdir()) / f"bench-fanout-worker-{uuid.uuid4().hex[:8]}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "portal.settings.local"),
            "NOTIFICATIONS_EMAIL_BACKEND": email_backend,
            "DJANGO_LOG_LEVEL": "WARNING",  # one INFO line per task would cost more than the work
        }
        command = [
            sys.executable, "-m", "celery", "-A", "portal", "worker", f"--concurrency={concurrency}", "--pool=prefork",
            "--loglevel=INFO", "-n", f"bench-{uuid.uuid4().hex[:6]}@%h",
            "--without-heartbeat", "--without-mingle", "--without-gossip", "-Q", "celery",
        ]  # fmt: skip
        log = log_path.open("wb")
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        from portal.celery import app

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"worker exited early; see {log_path}")
            replies = app.control.ping(timeout=0.5)
            if any(name.startswith("bench-") for reply in replies or [] for name in reply):
                self.stderr.write(f"worker ready (log: {log_path})")
                return process
        process.terminate()
        raise RuntimeError(f"worker not ready; see {log_path}")

    @staticmethod
    def _wait_sent(deliveries: Any, total: int, timeout: float) -> None:
        """Poll once a second, cheaply: unfinished rows are in the partial indexes, sent ones are not."""
        low, high = deliveries.aggregate(low=Min("pk"), high=Max("pk")).values()
        unfinished = Delivery.objects.filter(
            pk__gte=low, pk__lte=high, status__in=(Delivery.Status.PENDING, Delivery.Status.FAILED)
        )
        sending = Delivery.objects.filter(pk__gte=low, pk__lte=high, status=Delivery.Status.SENDING)
        deadline = time.monotonic() + timeout
        while unfinished.exists() or sending.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("delivery did not finish in time")
            time.sleep(0.2)

    # -- baseline and clean-up --------------------------------------------------------------------------

    def _exempt_policy(self, enterprise_ids: list[int]) -> int:
        """A published 免申即享 version every bench enterprise meets on credit-office data (not in the
        严重失信 list), with each enterprise's match profile ready; set-up, not timed."""
        from matching.services import match_profiles_refresh
        from policies.models import Policy, PolicyVersion
        from portal.accounts.models import User
        from portal.enterprises.models import Enterprise

        provenance = {"dishonest": {"source": "credit", "as_of": timezone.localdate().isoformat()}}
        Enterprise.objects.filter(pk__in=enterprise_ids, dishonest__isnull=True).update(
            dishonest=False, provenance=provenance
        )
        match_profiles_refresh(enterprise_ids=enterprise_ids)
        author, _ = User.objects.get_or_create(username=f"{BENCH_PREFIX}author", defaults={"is_active": False})
        policy = Policy.objects.create(key=f"bench-fanout-{uuid.uuid4().hex[:8]}", created_by=author)
        version = PolicyVersion.objects.create(
            policy=policy,
            number=1,
            status=PolicyVersion.Status.PUBLISHED,
            title="守信企业免申即享示例（基准测试）",
            benefit_kind="service",
            mode="exempt",
            effective_from=timezone.localdate().replace(year=2020),
            rule={"fact": "dishonest", "op": "eq", "value": False},
            author=author,
            contact_name="示例",
            contact_phone="示例",
        )
        return version.pk

    @staticmethod
    def _cleanup_policy(version_id: int) -> None:
        from policies.models import PolicyVersion
        from portal.entitlements.models import Entitlement
        from portal.notices.models import DecisionNotice
        from portal.notices.purge import notices_purge
        from portal.receipts.models import Receipt

        with transaction.atomic():
            notices_purge(DecisionNotice.objects.filter(policy_version_id=version_id))
            Entitlement.objects.filter(policy_version_id=version_id).delete()
            version = PolicyVersion.objects.get(pk=version_id)
            # The benchmark's own receipts go with its policy: immutable for the application, so the
            # table owner lifts the trigger for this one statement (a bench database only).
            receipts = Receipt._meta.db_table
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE {receipts} DISABLE TRIGGER receipts_receipt_immutable")
                cursor.execute(
                    f"DELETE FROM {receipts} WHERE policy_version_id IN "
                    f"(SELECT id FROM {PolicyVersion._meta.db_table} WHERE policy_id = %s)",
                    [version.policy_id],
                )
                # The deletes' deferred foreign-key checks (recall items point at receipts) run now: a table
                # with pending trigger events cannot be altered.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"ALTER TABLE {receipts} ENABLE TRIGGER receipts_receipt_immutable")
            version.match_records.all().delete()
            version.policy.delete()

    def _copy_baseline(self, notifications: int, deliveries: int, extra_rows: int = 0) -> float | None:
        """Seconds for COPY of the same number of rows into index-free scratch tables (notifications,
        deliveries, and `extra_rows` more notification-sized rows standing for match records and entitlements)."""
        if connection.vendor != "postgresql":
            return None
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE bench_copy_n (LIKE notifications_notification)")
            cursor.execute("CREATE TEMPORARY TABLE bench_copy_d (LIKE notifications_delivery)")
            raw = cursor.cursor  # psycopg 3 cursor: COPY needs the driver API
            started = time.perf_counter()
            with raw.copy(
                "COPY bench_copy_n (id, enterprise_id, kind, dedupe_key, title, body, link, payload, created_at) "
                "FROM STDIN"
            ) as copy:
                for n in range(notifications + extra_rows):
                    copy.write_row(
                        (
                            n,
                            n,
                            "exempt_granted",
                            "bench:copy",
                            "示例政策已为贵企业免申兑现（基准测试示例）",
                            "",
                            "",
                            "{}",
                            now,
                        )
                    )
            with raw.copy(
                "COPY bench_copy_d (id, notification_id, user_id, channel, address, status, attempts, last_error, "
                "next_attempt_at, enqueued_at, created_at, updated_at, provider_message_id) FROM STDIN"
            ) as copy:
                for n in range(deliveries):
                    copy.write_row(
                        (n, n, n, "email", f"user{n}@bench.example.com", "pending", 0, "", now, now, now, now, "")
                    )
            elapsed = time.perf_counter() - started
            cursor.execute("DROP TABLE bench_copy_n")
            cursor.execute("DROP TABLE bench_copy_d")
        return elapsed

    @staticmethod
    def _vacuum() -> None:
        """VACUUM ANALYZE the tables the run reads and writes, before the clock starts: what autovacuum
        would have done by then. Without it (autovacuum may be off, as on the test machine) each run pays
        for the dead rows of earlier runs' clean-up and of the set-up's profile refresh, and plans on
        statistics from before the population existed."""
        if connection.vendor != "postgresql":
            return
        from matching.models import MatchProfile, MatchRecord
        from portal.accounts.models import User
        from portal.enterprises.models import Enterprise
        from portal.entitlements.models import Entitlement, EntitlementTransition

        models = (
            Notification, Delivery, NotificationRead, Entitlement, EntitlementTransition, MatchRecord, MatchProfile,
            Enterprise, User,
        )  # fmt: skip
        tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {tables}")

    @staticmethod
    def _cleanup(key: str) -> None:
        qn = connection.ops.quote_name
        notifications = qn(Notification._meta.db_table)
        chosen = f"SELECT {qn('id')} FROM {notifications} WHERE {qn('dedupe_key')} = %s"
        with transaction.atomic(), connection.cursor() as cursor:
            for model in (Delivery, NotificationRead):
                table = qn(model._meta.db_table)
                cursor.execute(f"DELETE FROM {table} WHERE {qn('notification_id')} IN ({chosen})", [key])
            cursor.execute(f"DELETE FROM {notifications} WHERE {qn('dedupe_key')} = %s", [key])
