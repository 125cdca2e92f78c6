"""Issue a department API key: `manage.py create_api_key --source tax --name 税务局数据接口`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from matching.core.vocabulary import DEPARTMENT_SOURCES
from portal.accounts.services import api_key_create


class Command(BaseCommand):
    help = "为数据共享部门生成接口密钥（密钥只显示一次）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", required=True, choices=sorted(DEPARTMENT_SOURCES))
        parser.add_argument("--name", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        row, key = api_key_create(name=str(options["name"]), source=str(options["source"]))
        self.stdout.write(f"{row}: {key}")
