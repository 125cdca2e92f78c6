from django.apps import AppConfig

from . import db, events


class PortalConfig(AppConfig):
    """The project itself as an app: its `ready` wires the domain events (portal/events.py)."""

    name = "portal"
    verbose_name = "惠企通"

    def ready(self) -> None:
        events.wire()  # every app is loaded: the handlers' modules may import any model
        db.register_lookups()
