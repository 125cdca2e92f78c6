"""`make run` set-up: migrate, load the catalogue and demo data, print the URL and demo logins.

Every step is idempotent, so running `make run` again changes nothing.
"""

from __future__ import annotations

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

from portal.celery import task_mode_line

# Loaders that later parts of the product provide; each is idempotent.
DATA_STEPS = ("load_catalogue", "load_demo", "rematch")


class Command(BaseCommand):
    help = "Migrate and load the catalogue and demo data (idempotent), then print how to log in."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args: object, **options: object) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        available = get_commands()
        for step in DATA_STEPS:
            if step in available:
                call_command(step, verbosity=1)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"惠企通 Huiqi is ready at {options['url']}"))
        self.stdout.write(task_mode_line())
        if "load_demo" in available:
            from portal.accounts.demo import DEMO_LOGINS

            self.stdout.write("Demo logins (示例账号):")
            for username, password, what in DEMO_LOGINS:
                self.stdout.write(f"  {username:<16} {password:<14} {what}")
