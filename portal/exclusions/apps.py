from django.apps import AppConfig


class ExclusionsConfig(AppConfig):
    name = "portal.exclusions"
    label = "exclusions"
    verbose_name = "同一事项不重复享受"
