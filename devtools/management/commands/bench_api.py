"""Benchmark two read APIs under gunicorn with production settings, with wrk, and profile one request of each.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/huiqi_apibench REDIS_URL=redis://127.0.0.1:6379/8 \
        python manage.py bench_api --enterprises 100000 --policies 500 --duration 20

Endpoints: the matched policies of one signed-in enterprise (GET /api/v1/enterprises/{code}/matches/)
and the public policy list (GET /api/v1/policies/), each at --connections concurrent connections for
--duration seconds. Prints JSON: req/s, p50/p99 (wrk's latency distribution), non-2xx responses, the
query count and a cProfile summary of one request of each (in a process with the same settings).

Setup (on a database whose name contains "bench"): a synthetic district of --enterprises with
--policies published versions (devtools/bench/district.py) fully matched, kept between runs while its size
is unchanged (--fresh rebuilds it); an enterprise user for the enterprise at the 90th percentile of
match records; collectstatic when the manifest is missing (production's static storage needs it).
gunicorn is started with deploy/gunicorn.conf.py and portal.settings.production (a throwaway secret
key, ALLOWED_HOSTS=127.0.0.1, TLS as terminated by a proxy: X-Forwarded-Proto: https), bound to
127.0.0.1 on a free port, signed in to through the real login form, and stopped at the end.
wrk (Debian package `wrk`) is the load generator; it sends traffic to 127.0.0.1 only, for a bounded time.
"""

from __future__ import annotations

import cProfile
import http.client
import io
import json
import os
import pstats
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

BENCH_USERNAME = "bench-enterprise"
BENCH_PASSWORD = "Bench-Password-2026!"  # noqa: S105 - a synthetic user in a bench database
LIST_URL = "/api/v1/policies/"
# Where a profiled request's time is attributed: the first pattern found in a frame's file name.
PROFILE_BUCKETS = (
    ("database driver", ("psycopg",)),
    ("ORM and SQL compiler", ("django/db/",)),
    ("DRF serializers and fields", ("rest_framework/serializers", "rest_framework/fields", "rest_framework/relations")),
    ("JSON rendering", ("rest_framework/renderers", "json/")),
    ("sessions and auth", ("contrib/sessions", "contrib/auth", "django_otp", "axes")),
    ("Redis (cache, throttle)", ("redis/", "django/core/cache")),
    ("middleware", ("middleware",)),
    ("project code", ("/matching/", "/policies/", "/portal/", "/frontend/")),
)


# The profiling child: production settings (devtools not installed), this module imported as plain code.
PROFILE_CHILD = (
    "import json, sys, django; django.setup(); "
    "from devtools.management.commands.bench_api import Command; "
    "print(json.dumps(Command().profile_child(json.loads(sys.argv[1]))))"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Command(BaseCommand):
    help = "Load-test the matched-policies and public policy-list APIs under gunicorn (production settings)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enterprises", type=int, default=100_000)
        parser.add_argument("--policies", type=int, default=500)
        parser.add_argument("--duration", type=int, default=20, help="seconds of load per endpoint")
        parser.add_argument("--connections", type=int, default=16)
        parser.add_argument("--wrk-threads", type=int, default=2)
        parser.add_argument("--fresh", action="store_true", help="rebuild the district even if its size matches")
        parser.add_argument("--workers", type=int, default=None, help="GUNICORN_WORKERS (default: deploy config)")
        parser.add_argument("--threads", type=int, default=None, help="GUNICORN_THREADS (default: deploy config)")
        parser.add_argument("--profile-requests", type=int, default=200, help="requests profiled per endpoint")
        parser.add_argument("--skip-load", action="store_true", help="set up and profile only")

    def log(self, message: str) -> None:
        print(f"[bench_api] {message}", file=sys.stderr, flush=True)

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql" or "bench" not in connection.settings_dict["NAME"]:
            raise CommandError("bench_api needs a PostgreSQL database whose name contains 'bench' (DATABASE_URL)")
        if not os.environ.get("REDIS_URL"):
            raise CommandError("production settings need REDIS_URL")
        wrk = shutil.which("wrk") or ""
        if not wrk and not options["skip_load"]:
            raise CommandError("wrk is not installed: apt-get install -y wrk")

        result: dict[str, Any] = {"enterprises": options["enterprises"], "policies": options["policies"]}
        result["district"] = self.ensure_district(options["enterprises"], options["policies"], options["fresh"])
        enterprise = self.ensure_user()
        result["enterprise"] = enterprise
        self.ensure_static()

        secret = secrets.token_urlsafe(50)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            "DJANGO_SECRET_KEY": secret,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_LOG_LEVEL": "WARNING",
        }
        matches_url = f"/api/v1/enterprises/{enterprise['credit_code']}/matches/"

        result["profile"] = self.profile(env, matches_url, options["profile_requests"])
        if options["skip_load"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
            return

        port = free_port()
        env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
        for option, name in (("workers", "GUNICORN_WORKERS"), ("threads", "GUNICORN_THREADS")):
            if options[option] is not None:
                env[name] = str(options[option])
        gunicorn_log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - open while gunicorn runs, kept after
            prefix="bench_api_gunicorn_", suffix=".log", delete=False
        )
        command = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "portal.wsgi"]
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and config
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=gunicorn_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.server_pid = server.pid
        self.log(f"gunicorn pid {server.pid} on 127.0.0.1:{port} (log {gunicorn_log.name})")
        try:
            self.wait_ready(port, server)
            cookie = self.sign_in(port)
            headers = {"Cookie": cookie, "X-Forwarded-Proto": "https"}
            anonymous_matches = self.get(port, matches_url, {"X-Forwarded-Proto": "https"})[0]
            if anonymous_matches not in (401, 403):
                raise CommandError(f"an anonymous caller got {anonymous_matches} from {matches_url}")
            for url, used in ((matches_url, headers), (LIST_URL, {"X-Forwarded-Proto": "https"})):
                status, body = self.get(port, url, used)
                if status != 200:
                    raise CommandError(f"{url} answered {status}: {body[:300]!r}")
            result["gunicorn"] = {
                "workers": env.get("GUNICORN_WORKERS", "deploy default"),
                "threads": env.get("GUNICORN_THREADS", "deploy default"),
            }
            result["matches_api"] = self.load(wrk, port, matches_url, headers, options)
            self.log(f"matches: {result['matches_api']}")
            result["policy_list_api"] = self.load(wrk, port, LIST_URL, {"X-Forwarded-Proto": "https"}, options)
            self.log(f"policy list: {result['policy_list_api']}")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
            gunicorn_log.close()
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))

    # --- setup --------------------------------------------------------------------------------------

    def ensure_district(self, n: int, m: int, fresh: bool) -> dict[str, Any]:
        from devtools.bench import district as benchdata
        from matching.models import MatchRecord
        from matching.services import match_everything, match_profiles_refresh
        from policies.models import PolicyVersion
        from portal.enterprises.models import Enterprise

        published = PolicyVersion.objects.filter(status=PolicyVersion.Status.PUBLISHED).count()
        if not fresh and Enterprise.objects.count() == n and published == m and MatchRecord.objects.exists():
            self.log(f"reusing the district of {n} enterprises × {m} policies")
            return {"reused": True, "match_records": MatchRecord.objects.count()}
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE policies_policy, matching_matchrun, enterprises_enterprise, matching_matchprofile, "
                "receipts_receipt RESTART IDENTITY CASCADE"  # receipts: no database foreign keys to cascade along
            )
        started = time.perf_counter()
        rows = benchdata.build_district(n)
        match_profiles_refresh(chunk_size=5000)
        benchdata.publish_versions(m, seed=7)
        self.log(f"district built in {time.perf_counter() - started:.1f}s: {rows}; matching everything")
        started = time.perf_counter()
        summary = match_everything()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        self.log(f"matched in {time.perf_counter() - started:.1f}s")
        return {"reused": False, "rows": rows, "match_records": summary.changed_records}

    def ensure_user(self) -> dict[str, Any]:
        """An enterprise user for the enterprise at the 90th percentile of match records."""
        from django.contrib.auth import get_user_model
        from django.db.models import Count

        from matching.models import MatchRecord
        from portal.enterprises.models import Enterprise

        counts = list(
            MatchRecord.objects.values("enterprise_id").annotate(n=Count("id")).order_by("n", "enterprise_id")
        )
        if not counts:
            raise CommandError("the district has no match records")
        chosen = counts[int(len(counts) * 0.9)]
        enterprise = Enterprise.objects.get(pk=chosen["enterprise_id"])
        user_model = get_user_model()
        user = user_model.objects.filter(username=BENCH_USERNAME).first() or user_model(username=BENCH_USERNAME)
        user.enterprise = enterprise
        user.is_active = True
        user.set_password(BENCH_PASSWORD)
        user.save()
        by_outcome = dict(
            MatchRecord.objects.filter(enterprise=enterprise)
            .values_list("outcome")
            .annotate(n=Count("id"))
            .values_list("outcome", "n")
        )
        return {"credit_code": enterprise.credit_code, "match_records": chosen["n"], "by_outcome": by_outcome}

    def ensure_static(self) -> None:
        if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
            self.log("collecting static files with the production storage (its manifest is needed)")
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.production"}
            env.setdefault("DJANGO_SECRET_KEY", "collectstatic-only")
            env.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1")
            subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                cwd=settings.BASE_DIR,
                env=env,
                check=True,
            )

    # --- HTTP ---------------------------------------------------------------------------------------

    def get(self, port: int, url: str, headers: dict[str, str]) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", url, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def wait_ready(self, port: int, server: subprocess.Popen) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError(f"gunicorn exited with {server.returncode}")
            try:
                self.get(port, LIST_URL, {"X-Forwarded-Proto": "https"})
                return
            except OSError:
                time.sleep(0.3)
        raise CommandError("gunicorn did not answer within 60 s")

    def sign_in(self, port: int) -> str:
        """Sign in through the login form; returns the Cookie header of the signed-in session."""
        host = f"127.0.0.1:{port}"
        base = {"Host": host, "X-Forwarded-Proto": "https"}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", "/accounts/login/", headers=base)
            response = conn.getresponse()
            page = response.read().decode()
            cookies = _cookies(response)
            match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            if response.status != 200 or match is None or "csrftoken" not in cookies:
                raise CommandError(f"login page answered {response.status} without a CSRF token")
            form = f"username={BENCH_USERNAME}&password={BENCH_PASSWORD}&csrfmiddlewaretoken={match.group(1)}"
            conn.request(
                "POST",
                "/accounts/login/",
                body=form.encode(),
                headers={
                    **base,
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": f"csrftoken={cookies['csrftoken']}",
                    "Origin": f"https://{host}",
                    "Referer": f"https://{host}/accounts/login/",
                },
            )
            response = conn.getresponse()
            response.read()
            cookies.update(_cookies(response))
        finally:
            conn.close()
        if response.status != 302 or "sessionid" not in cookies:
            raise CommandError(f"sign-in failed: {response.status}")
        return "; ".join(f"{name}={value}" for name, value in cookies.items())

    def load(self, wrk: str, port: int, url: str, headers: dict[str, str], options: dict[str, Any]) -> dict[str, Any]:
        command = [
            wrk,
            f"-t{options['wrk_threads']}",
            f"-c{options['connections']}",
            f"-d{options['duration']}s",
            "--timeout",
            "10s",
            "--latency",
        ]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        command.append(f"http://127.0.0.1:{port}{url}")
        started_cpu = _cpu_seconds()
        started_servers = _server_cpu(self.server_pid)
        output = subprocess.run(  # noqa: S603 - wrk on 127.0.0.1
            command, capture_output=True, text=True, check=True, timeout=options["duration"] + 60
        ).stdout
        figures = {**_parse_wrk(output), "machine_cpu_busy": round(_cpu_busy_since(started_cpu), 2)}
        # The machine is shared: req/s moves with everyone else's load, the CPU our servers spent per
        # request much less. 2000 / that is what two idle cores could serve (wrk's own CPU aside).
        ended_servers = _server_cpu(self.server_pid)
        for name in ("gunicorn", "postgres"):
            spent = sum(cpu - started_servers[name].get(pid, 0.0) for pid, cpu in ended_servers[name].items())
            figures[f"{name}_cpu_ms_per_request"] = round(spent * 1000 / max(figures["requests"] or 1, 1), 2)
        total = figures["gunicorn_cpu_ms_per_request"] + figures["postgres_cpu_ms_per_request"]
        figures["req_per_s_two_idle_cores_estimate"] = round(2000 / total) if total else None
        return figures

    # --- profile ------------------------------------------------------------------------------------

    def profile(self, env: dict[str, str], matches_url: str, requests: int) -> dict[str, Any]:
        """Run the profiling child with production settings; returns its summary."""
        plan = {"matches_url": matches_url, "requests": requests}
        # Not `manage.py bench_api`: production settings do not install devtools, so they have no such command.
        output = subprocess.run(  # noqa: S603 - this command's code, in a child
            [sys.executable, "-c", PROFILE_CHILD, json.dumps(plan)],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return json.loads(output.strip().splitlines()[-1])

    def profile_child(self, plan: dict[str, Any]) -> dict[str, Any]:
        """In-process requests through the full WSGI stack (every middleware), profiled with cProfile."""
        from django.contrib.auth import get_user_model
        from django.db import reset_queries
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        summary: dict[str, Any] = {}
        user = get_user_model().objects.get(username=BENCH_USERNAME)
        for name, url, signed_in in (("matches_api", plan["matches_url"], True), ("policy_list_api", LIST_URL, False)):
            client = Client(HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="127.0.0.1")
            if signed_in:
                client.force_login(user)
            for _ in range(20):  # warm: imports, URL resolver, compiled rules, connection
                assert client.get(url).status_code == 200
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            captured = [q["sql"][:160] for q in queries.captured_queries]  # read before the log is reset
            reset_queries()
            # CPU time, not wall time: the machine is shared, and waiting on PostgreSQL is not our CPU.
            profiler = cProfile.Profile(time.process_time)
            started, started_cpu = time.perf_counter(), time.process_time()
            profiler.enable()
            for _ in range(plan["requests"]):
                client.get(url)
            profiler.disable()
            wall_ms = (time.perf_counter() - started) * 1000 / plan["requests"]
            cpu_ms = (time.process_time() - started_cpu) * 1000 / plan["requests"]
            plain_started = time.process_time()  # the same requests without the profiler's own cost
            for _ in range(plan["requests"]):
                client.get(url)
            plain_cpu_ms = (time.process_time() - plain_started) * 1000 / plan["requests"]
            stats = pstats.Stats(profiler)
            summary[name] = {
                "in_process_ms_per_request": round(wall_ms, 2),
                "cpu_ms_per_request": round(plain_cpu_ms, 2),
                "cpu_ms_per_request_profiled": round(cpu_ms, 2),
                "queries": captured,
                "response_bytes": len(response.content),
                "by_area_ms": _by_area(stats, plan["requests"]),
                "top_cumulative": _top(stats, "cumulative", 25),
                "top_self": _top(stats, "tottime", 15),
            }
        return summary


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    found = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def _scaled(value: str, unit: str) -> float:
    """wrk's latency as milliseconds."""
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _parse_wrk(output: str) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    figures["req_per_s"] = float(rate.group(1)) if rate else None
    for percentile in ("50", "90", "99"):
        found = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        figures[f"p{percentile}_ms"] = round(_scaled(*found.groups()), 2) if found else None
    total = re.search(r"(\d+) requests in", output)
    figures["requests"] = int(total.group(1)) if total else None
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    figures["non_2xx"] = int(non_2xx.group(1)) if non_2xx else 0
    errors = re.search(r"Socket errors:.*", output)
    figures["socket_errors"] = errors.group(0) if errors else ""
    return figures


def _cpu_seconds() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [float(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _cpu_busy_since(start: tuple[float, float]) -> float:
    busy, total = _cpu_seconds()
    return (busy - start[0]) / max(total - start[1], 1.0)


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_cpu(gunicorn_pid: int) -> dict[str, dict[int, float]]:
    """CPU seconds so far of the gunicorn master and workers, and of PostgreSQL backends on our database."""
    workers = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == gunicorn_pid:
                    workers.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        backends = [row[0] for row in cursor.fetchall()]
    return {
        "gunicorn": {pid: _process_cpu(pid) for pid in [gunicorn_pid, *workers]},
        "postgres": {pid: _process_cpu(pid) for pid in backends},
    }


def _by_area(stats: pstats.Stats, requests: int) -> dict[str, float]:
    """Self CPU time per area (see PROFILE_BUCKETS), in ms per request (with the profiler's overhead)."""
    areas: dict[str, float] = {}
    for (file_name, _, _), (_, _, self_time, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        area = next((name for name, parts in PROFILE_BUCKETS if any(p in file_name for p in parts)), "other")
        areas[area] = areas.get(area, 0.0) + self_time
    return {name: round(seconds * 1000 / requests, 3) for name, seconds in sorted(areas.items(), key=lambda i: -i[1])}


def _top(stats: pstats.Stats, key: str, limit: int) -> list[str]:
    buffer = io.StringIO()
    stats.stream = buffer  # type: ignore[attr-defined]
    stats.sort_stats(key).print_stats(limit)
    lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    return [re.sub(r"\s+", " ", line.replace(str(settings.BASE_DIR) + "/", "")) for line in lines[start:] if line]
