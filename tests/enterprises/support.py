"""Helpers for registry tests."""

from __future__ import annotations

import pytest

from portal import events


class FactsChanged:
    """Records the handler calls of events.FACTS_CHANGED (the re-match hook)."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def __call__(self, *, enterprise_ids: list[int]) -> None:
        self.calls.append(list(enterprise_ids))

    @property
    def ids(self) -> set[int]:
        return {i for call in self.calls for i in call}


@pytest.fixture
def facts_changed(monkeypatch) -> FactsChanged:
    recorder = FactsChanged()
    monkeypatch.setitem(events.HANDLERS, events.FACTS_CHANGED.name, [recorder])
    return recorder


def seed_places() -> None:
    """The zones, townships and parks a migration seeds (a transactional browser test may have flushed them)."""
    from importlib import import_module

    from django.apps import apps

    import_module("portal.enterprises.migrations.0002_seed_places").seed(apps, None)
