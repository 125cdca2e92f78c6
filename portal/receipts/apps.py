from django.apps import AppConfig


class ReceiptsConfig(AppConfig):
    name = "portal.receipts"
    label = "receipts"
    verbose_name = "认定依据"
    default_auto_field = "django.db.models.BigAutoField"
