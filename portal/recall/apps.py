from django.apps import AppConfig


class RecallConfig(AppConfig):
    name = "portal.recall"
    label = "recall"
    verbose_name = "纠错追溯（补发 / 追回）"
    default_auto_field = "django.db.models.BigAutoField"
