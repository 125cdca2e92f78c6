"""The one outgoing hook of the registry: enterprises whose facts, qualifications or sites changed.

Every service that changes what `selectors.enterprise_profile` returns calls
`notify_facts_changed(...)`, which queues `enterprise_facts_changed` with `transaction.on_commit`.
The matching engine connects here (re-match those enterprises). Plain function calls, not Django
signals, so the control flow stays visible.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator

from django.db import transaction


def enterprise_facts_changed(*, enterprise_ids: list[int]) -> None:
    """Called after commit with the ids of enterprises whose profile changed: re-match them."""
    from matching.models import MatchRun
    from matching.services import match_run_request

    match_run_request(kind=MatchRun.Kind.ENTERPRISES, enterprise_ids=enterprise_ids)


def notify_facts_changed(enterprise_ids: Iterable[int]) -> None:
    """Queue `enterprise_facts_changed` for after the current transaction commits (once per call)."""
    ids = set(enterprise_ids)
    if not ids:
        return
    stack = getattr(_collecting, "stack", None)
    if stack:
        stack[-1].update(ids)
        return
    ordered = sorted(ids)
    # The name is looked up when the callback runs, so the matching app (and tests) can replace it.
    transaction.on_commit(lambda: enterprise_facts_changed(enterprise_ids=ordered))


_collecting = threading.local()  # .stack: the id sets of the open notifications_batched() blocks


@contextlib.contextmanager
def notifications_batched() -> Iterator[set[int]]:
    """Inside the block, changes are collected and announced once at its end (bulk loaders such as
    load_demo: one re-match of every enterprise instead of one per service call). On an error nothing
    is announced: the caller's transaction is rolling back."""
    stack = getattr(_collecting, "stack", None)
    if stack is None:
        stack = _collecting.stack = []
    ids: set[int] = set()
    stack.append(ids)
    try:
        yield ids
    finally:
        stack.pop()
    notify_facts_changed(ids)
