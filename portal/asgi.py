"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")
application = get_asgi_application()

# The rule wording names zones and parks as administrators named them (portal/enterprises/place_names.py).
from portal.enterprises.place_names import place_names_at_startup  # noqa: E402 - needs the apps loaded

place_names_at_startup()
