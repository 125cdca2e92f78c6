"""`make run` set-up: migrate, load the catalogue and demo data, print the URL and demo logins.

Every step is idempotent, so running `make run` again changes nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from portal.celery import task_mode_line


def match_summary_line(*, since: datetime) -> str:
    """What matching decided since `since`, by kind of change, and the standing totals, in words.

    Counted from the match records themselves (decided_at is when a record last changed, and
    previous_* say from what), so it is true however the work was split between the policy-publish
    runs, a worker and rematch.
    """
    from django.db.models import Count

    from matching.models import MatchRecord, change_counts_text, change_kind
    from policies.models import ExpectedOutcome

    changes: Counter[str] = Counter()
    changed = MatchRecord.objects.filter(decided_at__gte=since)
    for row in changed.values("previous_outcome", "previous_verified", "outcome", "verified").annotate(n=Count("pk")):
        kind = change_kind(row["previous_outcome"], row["previous_verified"], row["outcome"], row["verified"])
        changes[kind] += row["n"]
    standing = dict(MatchRecord.objects.values("outcome").annotate(n=Count("pk")).values_list("outcome", "n"))
    detail = change_counts_text(dict(changes))
    # Ineligible records exist only for pairs that once were eligible: not a district total, left out.
    shown = [(value, label) for value, label in ExpectedOutcome.choices if value != ExpectedOutcome.INELIGIBLE]
    totals = "，".join(f"{label} {standing.get(value, 0)} 条" for value, label in shown)
    return (
        f"政策匹配：本次 {changes.total()} 条匹配结果有变化{'（' + detail + '）' if detail else ''}；"
        f"现有匹配结果：{totals}。"
    )


# Loaders that later parts of the product provide; each is idempotent.
DATA_STEPS = ("load_catalogue", "load_demo", "rematch")


class Command(BaseCommand):
    help = "Migrate and load the catalogue and demo data (idempotent), then print how to log in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        available = get_commands()
        started = timezone.now()
        for step in DATA_STEPS:
            if step in available:
                # rematch's own line counts only what is left after publishing matched the catalogue
                # (usually nothing); the summary below counts everything this run decided.
                call_command(step, verbosity=0 if step == "rematch" else 1)
        self.stdout.write(match_summary_line(since=started))
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"惠企通已就绪：{options['url']}"))
        self.stdout.write(task_mode_line())
        if "load_demo" in available:
            from devtools.demo.accounts import DEMO_LOGINS

            self.stdout.write("示例账号（用户名、密码、身份）：")
            for username, password, what in DEMO_LOGINS:
                self.stdout.write(f"  {username:<16} {password:<14} {what}")
