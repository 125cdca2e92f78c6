"""`manage.py load_demo`: 示例数据 — a few hundred invented enterprises of 苏州高新区 and demo logins.

All enterprise names, credit codes and figures are invented sample data (示例), not real companies.
Idempotent: a second run changes nothing. Refuses to run with production settings.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from devtools.demo.accounts import load_demo


class Command(BaseCommand):
    help = (
        "载入示例数据（虚构企业，仅供演示）：约三百家苏州高新区示例企业（“2+3+X”产业及服务业，含规模、功能区、"
        "园区、资质、部门核验与自行填报数据）及各角色示例账号。重复运行不会产生任何变更；生产环境下拒绝运行。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if os.environ.get("DJANGO_SETTINGS_MODULE", "").endswith(".production"):
            self.stderr.write("load_demo: production settings, demo data and demo passwords not loaded.")
            return
        verbose = not options["quiet"] and int(options.get("verbosity", 1)) > 0
        load_demo(log=self.stdout.write if verbose else (lambda _: None))
