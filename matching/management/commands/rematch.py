"""Run the nightly re-match now: only what the date moved since the last nightly run, or with --all the
full pass (every enterprise's match profile refreshed, every published policy re-decided for everyone)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from matching.models import change_counts_text
from matching.nightly import nightly_match, nightly_text
from matching.selectors import today
from matching.services import match_profiles_refresh


class Command(BaseCommand):
    help = (
        "Re-match now, diff-only: what the dates moved since the last nightly run (age, qualification and "
        "policy dates; the full pass when there is no such run or it cannot be trusted); --all: refresh every "
        "match profile and re-match every published policy against every enterprise."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--all",
            action="store_true",
            help="the full pass: refresh every match profile, re-decide every policy for every enterprise",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        profiles = match_profiles_refresh() if options["all"] else None
        info: dict[str, Any] = {}
        # Not recorded as a nightly run: the next one still starts from the last nightly run's day.
        summary = nightly_match(on=today(), full=options["all"], info=info)
        assert summary is not None  # only a spread run (a worker's, with a run row) leaves the pass to chunks
        if options["verbosity"] < 1:
            return
        refreshed = f"{profiles} 家企业画像已更新；" if profiles is not None else ""
        detail = change_counts_text(dict(summary.changes))
        self.stdout.write(
            f"重新匹配：{refreshed}{nightly_text(info)}。{summary.changed_records} 条匹配结果有变化"
            f"{'（' + detail + '）' if detail else ''}，用时 {time.perf_counter() - started:.1f} 秒"
        )
