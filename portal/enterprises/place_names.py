"""Zone, park and township names from the database, where administrators edit them, for everyone who shows or
checks a place: the rule wording (the matching core's registry is told the names), forms and golden cases.

Forms and golden-case validation read the database when they need the names (`place_names`, `place_choices`).
The core is pure and never reads the database, so its wording is handed the names:
- at start-up of each web process (portal/wsgi.py, asgi.py) and worker process (`place_names_load`);
- when a zone or park is saved or deleted, once committed: that process reloads, and puts the names in the
  shared cache, where every other process picks them up at the start of its next request or task (checked
  at most every PLACE_NAMES_CHECK_SECONDS; no database query at request time).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import cache
from django.db import DatabaseError, connections, transaction

from matching.core.registry import set_place_names
from matching.core.vocabulary import INITIAL_PLACES, PlaceNames

from .models import Park, Township, Zone

logger = logging.getLogger(__name__)

CACHE_KEY = "enterprises:place_names:v1"
PLACE_NAMES_CHECK_SECONDS = 5.0

Names = tuple[dict[str, str], dict[str, str]]  # (zones, parks): code → name

_initial: Names = (dict(INITIAL_PLACES.zones), dict(INITIAL_PLACES.parks))
_held: dict[str, Any] = {"names": _initial, "checked_at": None}


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


def _hold(names: Names) -> None:
    """Give the core's wording these names (only when they changed: a change invalidates compiled rules)."""
    if names != _held["names"]:
        set_place_names(zones=names[0], parks=names[1])
        _held["names"] = names


def place_names_load(*, share: bool = False) -> None:
    """Read the names from the database into the wording; with `share`, also into the cache for the other
    processes. A database that cannot be read keeps the names held so far."""
    try:
        names: Names = (dict(Zone.objects.values_list("code", "name")), dict(Park.objects.values_list("code", "name")))
    except DatabaseError:
        logger.warning("zone and park names could not be read; the wording keeps the names it has", exc_info=True)
        return
    _hold(names)
    if share:
        cache.set(CACHE_KEY, names, timeout=None)


def place_names_check() -> None:
    """Pick up names another process shared (at most every PLACE_NAMES_CHECK_SECONDS; a cache read only)."""
    now = time.monotonic()
    if _held["checked_at"] is not None and now - _held["checked_at"] < PLACE_NAMES_CHECK_SECONDS:
        return
    _held["checked_at"] = now
    shared = cache.get(CACHE_KEY)
    if shared is not None:
        _hold(shared)


def place_names_at_startup() -> None:
    """Load the names at process start, then close the connection (a web server may fork after this; a
    connection inside a transaction, as in a test importing the WSGI application, is left alone)."""
    place_names_load()
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


def place_names_reset() -> None:
    """Back to the initial names, nothing shared (tests: a rolled-back rename must not stay in the wording)."""
    _hold(_initial)
    _held["checked_at"] = None
    cache.delete(CACHE_KEY)


def _on_edit(sender: Any, **kwargs: Any) -> None:
    # After the commit: a rename rolled back must reach neither the wording nor the other processes.
    transaction.on_commit(lambda: place_names_load(share=True))


def _on_start(sender: Any = None, **kwargs: Any) -> None:
    place_names_check()


def connect() -> None:
    """Wire the names to edits, to the start of requests and tasks, and to worker start-up (from ready())."""
    from celery.signals import task_prerun, worker_process_init
    from django.core.signals import request_started
    from django.db.models.signals import post_delete, post_save

    for model in (Zone, Park):
        post_save.connect(_on_edit, sender=model, dispatch_uid=f"place_names_{model.__name__}_saved")
        post_delete.connect(_on_edit, sender=model, dispatch_uid=f"place_names_{model.__name__}_deleted")
    request_started.connect(_on_start, dispatch_uid="place_names_request")
    task_prerun.connect(_on_start, dispatch_uid="place_names_task")
    worker_process_init.connect(
        lambda **kwargs: place_names_at_startup(), weak=False, dispatch_uid="place_names_worker"
    )
