from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "portal.accounts"
    label = "accounts"
    verbose_name = "账户与角色"

    def ready(self) -> None:
        from django.contrib import admin

        # Imported here, not at the top: they import models, which exist only once apps are loaded.
        from . import middleware, two_factor  # noqa: F401 - register their sign-in receivers

        # /admin/ edits any table: administrators (superusers) only, whatever a role or is_staff says.
        # Administrators who owe a second factor are stopped earlier, by the two-factor gate.
        # Replacing the default site's method keeps the stock AdminSite (mypy: method-assign is deliberate).
        admin.site.has_permission = lambda request: request.user.is_active and request.user.is_superuser  # type: ignore[method-assign]
