"""The one outgoing hook of the registry: enterprises whose facts, qualifications or sites changed.

Every service that changes what `selectors.enterprise_profile` returns calls
`notify_facts_changed(...)`, which queues `enterprise_facts_changed` with `transaction.on_commit`.
The matching engine connects here (re-match those enterprises). Plain function calls, not Django
signals, so the control flow stays visible.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction


def enterprise_facts_changed(*, enterprise_ids: list[int]) -> None:
    """Called after commit with the ids of enterprises whose profile changed: re-match them."""
    from matching.models import MatchRun
    from matching.services import match_run_request

    match_run_request(kind=MatchRun.Kind.ENTERPRISES, enterprise_ids=enterprise_ids)


def notify_facts_changed(enterprise_ids: Iterable[int]) -> None:
    """Queue `enterprise_facts_changed` for after the current transaction commits (once per call)."""
    ids = sorted(set(enterprise_ids))
    if not ids:
        return
    # The name is looked up when the callback runs, so the matching app (and tests) can replace it.
    transaction.on_commit(lambda: enterprise_facts_changed(enterprise_ids=ids))
