"""Refresh every enterprise's match profile and re-decide every published policy (the nightly job, now)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from matching.models import change_counts_text
from matching.services import match_everything, match_profiles_refresh


class Command(BaseCommand):
    help = "Refresh match profiles and re-match every published policy against every enterprise (diff-only)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        profiles = match_profiles_refresh()
        summary = match_everything()
        if options["verbosity"] < 1:
            return
        detail = change_counts_text(dict(summary.changes))
        self.stdout.write(
            f"重新匹配：{profiles} 家企业画像已更新，{summary.changed_records} 条匹配结果有变化"
            f"{'（' + detail + '）' if detail else ''}，用时 {time.perf_counter() - started:.1f} 秒"
        )
