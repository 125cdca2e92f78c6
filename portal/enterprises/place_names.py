"""Zone, park and township names from the database, where administrators edit them, for everyone who shows or
checks a place: the rule wording (the matching core's registry is told the names), forms and golden cases.

The core is pure and never reads the database: `place_names_sync` hands it the current names. It runs when a
zone or park is saved or deleted (once committed, in that process) and, in every other web or worker process, at the
start of a request or task once the names it holds are older than PLACE_NAMES_REFRESH_SECONDS.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import DatabaseError, transaction

from matching.core.registry import set_place_names
from matching.core.vocabulary import INITIAL_PLACES, PlaceNames

from .models import Park, Township, Zone

logger = logging.getLogger(__name__)

PLACE_NAMES_REFRESH_SECONDS = 60.0

_synced: dict[str, Any] = {"at": None, "names": None}


def place_names() -> PlaceNames:
    """The zones and parks (in their display order) and each township's zone, as the database has them."""
    return PlaceNames(
        zones=dict(Zone.objects.order_by("sort_order", "code").values_list("code", "name")),
        parks=dict(Park.objects.order_by("sort_order", "code").values_list("code", "name")),
        township_zones=dict(Township.objects.values_list("code", "zone__code")),
    )


def place_choices() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(zones, parks) as form choices, from the database."""
    names = place_names()
    return list(names.zones.items()), list(names.parks.items())


def place_names_sync(*, force: bool = False) -> None:
    """Give the matching core's wording the database's zone and park names (when they changed).

    Without `force`, at most once per PLACE_NAMES_REFRESH_SECONDS. A database that cannot be read keeps
    the names held so far (the next request tries again).
    """
    now = time.monotonic()
    if not force and _synced["at"] is not None and now - _synced["at"] < PLACE_NAMES_REFRESH_SECONDS:
        return
    try:
        zones = dict(Zone.objects.values_list("code", "name"))
        parks = dict(Park.objects.values_list("code", "name"))
    except DatabaseError:
        logger.warning("zone and park names could not be read; the wording keeps the names it has", exc_info=True)
        return
    _synced["at"] = now
    if (zones, parks) != _synced["names"]:
        set_place_names(zones=zones, parks=parks)
        _synced["names"] = (zones, parks)


def place_names_reset() -> None:
    """Back to the initial names until the next sync (tests: a rolled-back rename must not stay in the wording)."""
    initial = (dict(INITIAL_PLACES.zones), dict(INITIAL_PLACES.parks))
    if _synced["names"] not in (None, initial):
        set_place_names(zones=initial[0], parks=initial[1])
    _synced.update(at=None, names=initial)


def _on_edit(sender: Any, **kwargs: Any) -> None:
    # After the commit: a rename rolled back must not reach the wording.
    transaction.on_commit(lambda: place_names_sync(force=True))


def _on_start(sender: Any = None, **kwargs: Any) -> None:
    place_names_sync()


def connect() -> None:
    """Wire the sync to edits and to the start of requests and tasks (called from the app's ready())."""
    from celery.signals import task_prerun
    from django.core.signals import request_started
    from django.db.models.signals import post_delete, post_save

    for model in (Zone, Park):
        post_save.connect(_on_edit, sender=model, dispatch_uid=f"place_names_{model.__name__}_saved")
        post_delete.connect(_on_edit, sender=model, dispatch_uid=f"place_names_{model.__name__}_deleted")
    request_started.connect(_on_start, dispatch_uid="place_names_request")
    task_prerun.connect(_on_start, dispatch_uid="place_names_task")
