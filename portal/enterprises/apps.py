from django.apps import AppConfig


class EnterprisesConfig(AppConfig):
    name = "portal.enterprises"
    label = "enterprises"
    verbose_name = "企业库"

    def ready(self) -> None:
        from . import place_names

        place_names.connect()
