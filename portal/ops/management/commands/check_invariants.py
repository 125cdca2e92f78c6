"""Count the rows that break a rule of the data (portal.ops.invariants); exit 1 when any count is not zero.

    python manage.py check_invariants

Also run by the nightly beat (ops.check_invariants); every run is stored and the latest is shown on
the staff dashboard.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from portal.ops.invariants import LABELS, invariants_check


class Command(BaseCommand):
    help = "检查数据一致性（无依据的判断、无当前判断的兑现、重复的可兑现记录）；有任一项不为零时以非零状态退出。"

    def handle(self, *args: Any, **options: Any) -> None:
        check = invariants_check()
        for code in sorted(check.counts, key=lambda c: list(LABELS).index(c) if c in LABELS else len(LABELS)):
            self.stdout.write(f"{LABELS.get(code, code)}（{code}）：{check.counts[code]}")
        if not check.ok:
            self.stderr.write("数据一致性检查未通过：以上计数应全部为零。")
            sys.exit(1)
        self.stdout.write("数据一致性检查通过：全部为零。")
