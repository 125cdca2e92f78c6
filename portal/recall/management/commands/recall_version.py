"""List (again) the past decisions a corrected policy version decides otherwise: `manage.py recall_version <id>`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from policies.models import PolicyVersion
from portal.recall.services import recall_for_version_correction


class Command(BaseCommand):
    help = "按更正后的政策版本重新判定以往决定，列出补发 / 追回复核事项（同一版本只列一次）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        if not PolicyVersion.objects.filter(pk=options["version_id"]).exists():
            raise CommandError(f"政策版本 {options['version_id']} 不存在")
        correction = recall_for_version_correction(version_id=options["version_id"])
        if correction is None:
            self.stdout.write("该版本没有更正同一兑现期的早先版本，无需追溯。")
            return
        self.stdout.write(f"{correction}：{correction.items.count()} 项待处理或已处理事项。")
