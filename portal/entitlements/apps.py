from django.apps import AppConfig


class EntitlementsConfig(AppConfig):
    name = "portal.entitlements"
    label = "entitlements"
    verbose_name = "免申即享兑现"
