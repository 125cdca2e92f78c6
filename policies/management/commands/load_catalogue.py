"""`python manage.py load_catalogue [--file PATH]`: load the policy catalogue; loading twice changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from policies.loader import DEFAULT_FILE, CatalogueError, load_catalogue


class Command(BaseCommand):
    help = "Load policies/catalogue/policies.json into published policy versions (idempotent, all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="catalogue JSON file")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        try:
            report = load_catalogue(path=path)
        except CatalogueError as error:
            shown = error.problems[:50]
            more = len(error.problems) - len(shown)
            lines = [f"政策清单未导入（{path}），共 {len(error.problems)} 个问题：", *(f"  {p}" for p in shown)]
            if more > 0:
                lines.append(f"  ……另有 {more} 个问题")
            raise CommandError("\n".join(lines)) from error
        if options["verbosity"]:
            self.stdout.write(report.line())
