"""Outgoing hooks: what the rest of the product learns when the catalogue changes.

Called by policies.services through `transaction.on_commit`, with ids only, so a receiver
(bulk re-matching, notifications: the matching issue) sees committed data and may queue tasks.
Plain function calls, not Django signals, keep the control flow visible.
"""

from __future__ import annotations


def policy_published(*, version_id: int) -> None:
    """A policy version has been published (any previous version of it is now retired).

    Matching decides it for every enterprise (in a worker, in chunks, with progress). The retired
    predecessor's records stay as they were: history, not news. 免申即享 entitlements to the same
    benefit (policy + period) are settled against the new version once it has been decided for the
    whole district (portal.entitlements.services.entitlements_reconcile); retirement moves none.
    """
    from matching.models import MatchRun
    from matching.services import match_run_request

    match_run_request(kind=MatchRun.Kind.POLICY, version_id=version_id)


def policy_retired(*, version_id: int) -> None:
    """A published policy version has been retired without a successor.

    Nothing to re-decide: matching only runs published versions, and the enterprise-facing reads
    (matching.selectors.enterprise_matches) show only those, so its records simply stay as history.
    """
