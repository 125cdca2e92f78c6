from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "portal.accounts"
    label = "accounts"
    verbose_name = "账户与角色"

    def ready(self) -> None:
        from django.contrib import admin

        from . import middleware  # noqa: F401 - registers the staff-session marker on sign-in

        # /admin/ edits any table: administrators (superusers) only, whatever a role or is_staff says.
        admin.site.has_permission = lambda request: request.user.is_active and request.user.is_superuser
