from django.apps import AppConfig


class CorrectionsConfig(AppConfig):
    name = "portal.corrections"
    label = "corrections"
    verbose_name = "数据纠错与核验"
