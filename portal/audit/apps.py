from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "portal.audit"
    label = "audit"
    verbose_name = "审计日志"

    def ready(self) -> None:
        # Imported here, not at the top: the receivers import models, which exist only once apps are loaded.
        from . import receivers  # noqa: F401 - connects the signal receivers
