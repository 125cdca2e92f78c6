"""Import a department's records from a CSV or XLSX file: `manage.py import_feed --source tax file.csv`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from matching.core.vocabulary import DEPARTMENT_SOURCES
from portal.enterprises.feed_files import FeedFileError, read_records
from portal.enterprises.feeds import FeedError, batch_process_settings, feed_apply
from portal.enterprises.models import FeedImport


class Command(BaseCommand):
    help = "导入部门共享数据（CSV或XLSX，第一行为表头）。每条记录单独校验；被拒绝的记录不产生任何变更。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", required=True, choices=sorted(DEPARTMENT_SOURCES))
        parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="记录未注明日期时的数据日期")
        parser.add_argument("--json", action="store_true", help="print the full result as JSON")
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"文件不存在：{path}")
        try:
            with path.open("rb") as fh:
                records = read_records(fh, path.name)
            with batch_process_settings():  # a command's own process: see the function
                result = feed_apply(
                    source=str(options["source"]),
                    records=records,
                    channel=FeedImport.Channel.COMMAND,
                    filename=path.name,
                    default_as_of=options["as_of"],
                )
        except (FeedFileError, FeedError) as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, default=str))
            return
        fi = result.feed_import
        self.stdout.write(
            f"{fi.total} records: {fi.accepted} accepted ({fi.changed} changed, {fi.created} created), "
            f"{fi.rejected} rejected"
        )
        for item in result.rejected[:50]:
            reasons = "; ".join(f"{e['field'] or '-'}: {e['message']} ({e['code']})" for e in item["errors"])
            self.stdout.write(f"  row {item['index'] + 2} {item.get('credit_code') or ''}: {reasons}")
