"""Every domain event of the portal, and who answers it: the one table to read first.

An app that changes something others care about *emits* an event (`emit(FACTS_CHANGED, ...)`); the
apps that care are named here as dotted paths, resolved once at start-up (`PortalConfig.ready` calls
`wire()`). Emitters therefore import only this module, which imports nothing of the project: the
catalogue (`policies`) and the registry (`portal.enterprises`) start matching, and matching starts
entitlements, without importing them. Payloads are ids (and matching's `ChangedRecord` tuples), never
model instances, so a handler reads what is committed.

The 免申即享 flow, from a reviewer's click to an enterprise's phone
-----------------------------------------------------------------
1. policies.services.policy_publish            → emits POLICY_PUBLISHED (after commit)
2. matching.services.match_run_request         records a MatchRun and sends it to a worker
   (matching.tasks.match_run_task → match_run_execute → policy_version_match, chunk by chunk)
3. each chunk's transaction writes the changed decisions and emits MATCH_RECORDS_CHANGED (in it)
4. portal.entitlements.services.on_match_changes creates the entitlements and their notifications
   (portal.notifications.services.notifications_create_bulk: Notification + Delivery outbox rows),
   in that same transaction, so a decision never commits without its entitlement and push
5. the notifications' deliveries are queued after commit (notifications.services.deliveries_enqueue)
   and sent by the worker (notifications.tasks.deliver_batch → delivery.deliveries_send → channels)
6. once every chunk has committed, POLICY_VERSION_DECIDED settles entitlements that rested on the
   policy's previous version (entitlements.services.entitlements_reconcile); the nightly run of every
   version announces them all at once with CATALOGUE_DECIDED (entitlements_reconcile_many), once its
   last chunk committed (spread over workers: by whichever worker commits it, matching.passchunks)
An enterprise whose facts change (profile edit, department feed, qualification, site) takes the same
path from step 2 through FACTS_CHANGED, with one worker run for the changed enterprises.

Steps 4-5, and every later status change of an entitlement (entitlements.services._move) or an
application (applications.services._move), call portal.notifications directly: those callers sit above
notifications in the layers (pyproject.toml, [tool.importlinter]), so no event is needed to keep
the dependency pointing down, and the notification must commit with the status change.

Timing (each event keeps the timing its hook had before this table existed)
------------------------------------------------------------------------------
- AFTER_COMMIT: queued with `transaction.on_commit` by `emit`; handlers run once the emitter's
  transaction has committed (at once when there is none), and may send tasks to the broker.
- IN_TRANSACTION: handlers run at once, inside the emitter's transaction, and commit or roll back with
  what the emitter wrote. They must not do network I/O (queue that with `transaction.on_commit`).
- NOW: handlers run at once; the emitter calls it outside its own transactions, when the work it
  reports has committed (a district run's last chunk).
"""

from __future__ import annotations

import contextlib
import enum
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction
from django.utils.module_loading import import_string


class Timing(enum.Enum):
    AFTER_COMMIT = "after commit"
    IN_TRANSACTION = "in the emitter's transaction"
    NOW = "at once, after the emitter's own transactions"


@dataclass(frozen=True)
class Handler:
    """A handler by dotted path, with keyword arguments fixed here (the rest comes from the payload)."""

    path: str
    fixed: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Event:
    name: str
    timing: Timing
    payload: tuple[str, ...]  # the keyword arguments `emit` takes, passed on to every handler
    handlers: tuple[Handler, ...]
    emitted_by: str  # where it is emitted (for the reader; not enforced)
    # The payload that is a collection of ids (enterprises, or versions): `emit` passes it on sorted and without
    # duplicates, skips the event when it is empty, and `batched` can gather several emits into one.
    ids: str | None = None


# --- The table -------------------------------------------------------------------------------------

POLICY_PUBLISHED = Event(
    "policy published",
    Timing.AFTER_COMMIT,
    payload=("version_id",),
    emitted_by="policies.services (policy_publish, and every path that publishes a version)",
    # Matching decides the new version for every enterprise, in a worker, in chunks, with progress.
    # The retired predecessor's records stay as history; its entitlements wait for POLICY_VERSION_DECIDED.
    handlers=(
        Handler("matching.services.match_run_request", fixed={"kind": "policy"}),
        # The public 政策清单 pages each web process keeps are dropped (a new catalogue token).
        Handler("policies.public_cache.catalogue_changed"),
        # So are the enterprises' matched-policies API pages (a new district stamp).
        Handler("matching.matches_cache.catalogue_changed"),
        # A version correcting an earlier one of the same 免申即享 benefit: the past decisions its rule now
        # decides otherwise are listed for staff (补发 / 追回复核), in a worker; nothing is paid or revoked.
        Handler("portal.recall.services.recall_request_for_version"),
    ),
)

POLICY_RETIRED = Event(
    "policy retired",
    Timing.AFTER_COMMIT,
    payload=("version_id",),
    emitted_by="policies.services.policy_retire",
    # Nothing to re-decide: matching runs published versions only, and the enterprise-facing reads
    # (matching.selectors.enterprise_matches) show only those; the records stay as history.
    # The public 政策清单 pages each web process keeps are dropped (a new catalogue token), and the
    # enterprises' matched-policies API pages (a new district stamp).
    handlers=(Handler("policies.public_cache.catalogue_changed"), Handler("matching.matches_cache.catalogue_changed")),
)

FACTS_CHANGED = Event(
    "enterprise facts changed",
    Timing.AFTER_COMMIT,
    payload=("enterprise_ids",),
    ids="enterprise_ids",
    emitted_by="portal.enterprises.services and .feeds: any write that changes what enterprise_profile returns",
    # Re-decide those enterprises against every published policy (one worker run; in bulk past
    # matching.services.BULK_THRESHOLD enterprises).
    handlers=(
        Handler("matching.services.match_run_request", fixed={"kind": "enterprises"}),
        # Their matched-policies API pages are dropped (new stamps); the re-match drops them again.
        Handler("matching.matches_cache.facts_changed"),
    ),
)

FACTS_CORRECTED = Event(
    "department facts corrected",
    Timing.IN_TRANSACTION,
    payload=("enterprise_ids", "facts", "by"),  # facts: registry names; by: the accepting user's id (or None)
    ids="enterprise_ids",
    emitted_by="portal.corrections.services.correction_accept, in its transaction (with FACTS_CHANGED)",
    # The past decisions the corrected facts now decide otherwise (补发 / 追回复核 for staff), listed in the
    # correcting transaction: before the re-match FACTS_CHANGED starts after commit writes new receipts.
    handlers=(Handler("portal.recall.services.recall_for_fact_correction"),),
)

MATCH_RECORDS_CHANGED = Event(
    "match decisions changed",
    Timing.IN_TRANSACTION,
    payload=("version_id", "changes", "run_id"),  # changes: matching.bulk.ChangedRecord
    emitted_by=(
        "matching.services (policy_version_match per chunk, enterprise_match per enterprise; decided_record for"
        " the nightly run's crossings, every version at once with emit_many)"
    ),
    # 免申即享 entitlements and the pushes of newly eligible / needs-info decisions, committed with
    # the decision itself (exactly once: unique keys).
    # An enterprise that follows the policy (关注) is told once when it becomes eligible, or when facts
    # the decision was missing have been supplied (unique keys too).
    handlers=(
        Handler("portal.entitlements.services.on_match_changes"),
        Handler("portal.follows.services.on_match_changes"),
        # Those enterprises' matched-policies API pages are dropped once the decisions commit.
        Handler("matching.matches_cache.records_changed"),
    ),
)

MATCH_EXPLANATIONS_FILLED = Event(
    "match explanations written or restated",
    Timing.IN_TRANSACTION,
    payload=("version_id", "enterprise_ids"),
    emitted_by=(
        "matching.services (a regranted decision: per version, or every version at once with emit_many in"
        " decided_record; enterprise_match, version_records_restate: explanations_refresh and the full pass),"
        " matching.nightly (a condition that moved while the decision stood)"
    ),
    # Entitlements take their record's explanation as 认定依据 (no push).
    handlers=(
        Handler("portal.entitlements.services.entitlement_explanations_sync", fixed={"refresh": True}),
        # Those enterprises' matched-policies API pages are dropped once the explanations commit.
        Handler("matching.matches_cache.explanations_filled"),
    ),
)

POLICY_VERSION_DECIDED = Event(
    "policy version decided for the whole district",
    Timing.NOW,
    payload=("version_id",),
    emitted_by="matching.services.policy_version_match, after its last chunk committed",
    # Entitlements to the same benefit that rested on an earlier version are settled against it.
    handlers=(Handler("portal.entitlements.services.entitlements_reconcile"),),
)

CATALOGUE_DECIDED = Event(
    "every published version decided for the whole district",
    Timing.NOW,
    payload=("version_ids",),
    ids="version_ids",
    emitted_by=(
        "matching.services.match_everything (the nightly run; spread over workers, whoever commits its last chunk:"
        " matching.passchunks.match_run_spread_finish) and the bulk path of enterprises_match, instead of"
        " one POLICY_VERSION_DECIDED per version"
    ),
    # The same settling as POLICY_VERSION_DECIDED for each version, with one query for the whole catalogue
    # to find the few versions that have anything to settle (usually none).
    handlers=(
        Handler("portal.entitlements.services.entitlements_reconcile_many"),
        # Every matched-policies API page is dropped (a new district stamp).
        Handler("matching.matches_cache.catalogue_decided"),
    ),
)

CORRECTION_DECIDED = Event(
    "correction or verification decided",
    Timing.AFTER_COMMIT,
    payload=("correction_id",),
    emitted_by="portal.corrections.services (correction_accept, correction_reject)",
    # The enterprise's notice commits with the decision (corrections sit above notifications) and an accepted
    # value reaches matching through FACTS_CHANGED (the register's write). Here for what else must follow a
    # department's decision on an enterprise's figure (e.g. receipts that rested on the corrected fact).
    handlers=(),
)

EVENTS: tuple[Event, ...] = (
    POLICY_PUBLISHED,
    POLICY_RETIRED,
    FACTS_CHANGED,
    FACTS_CORRECTED,
    MATCH_RECORDS_CHANGED,
    MATCH_EXPLANATIONS_FILLED,
    POLICY_VERSION_DECIDED,
    CATALOGUE_DECIDED,
    CORRECTION_DECIDED,
)


# --- Wiring and emitting ---------------------------------------------------------------------------

# event name → its resolved handlers. Filled by `wire()` at start-up; tests replace an entry with
# `monkeypatch.setitem(events.HANDLERS, events.X.name, [fake])` (looked up when the event is dispatched).
HANDLERS: dict[str, list[Callable[..., Any]]] = {}


def _resolve(handler: Handler) -> Callable[..., Any]:
    function = import_string(handler.path)
    if not handler.fixed:
        return function
    resolved = partial(function, **handler.fixed)
    many = getattr(function, "many", None)
    if many is not None:  # the fixed arguments go to the many-at-once form too (`emit_many`)
        resolved.many = partial(many, **handler.fixed)  # type: ignore[attr-defined]
    return resolved


def wire() -> None:
    """Resolve every handler of the table (PortalConfig.ready): a wrong path fails at start-up."""
    for event in EVENTS:
        HANDLERS[event.name] = [_resolve(h) for h in event.handlers]


def _dispatch(event: Event, payload: dict[str, Any]) -> None:
    if event.name not in HANDLERS:
        wire()
    for handler in HANDLERS[event.name]:
        handler(**payload)


_batches = threading.local()  # .open: {event name: [the id sets of the open `batched` blocks]}


def emit(event: Event, **payload: Any) -> None:
    """Announce `event`; its handlers run as its `timing` says."""
    if set(payload) != set(event.payload):
        raise TypeError(f"{event.name}: payload {sorted(payload)}, expected {sorted(event.payload)}")
    if event.ids is not None:
        ids = set(payload[event.ids])
        if not ids:
            return
        stack = getattr(_batches, "open", {}).get(event.name)
        if stack:
            stack[-1].update(ids)
            return
        payload[event.ids] = sorted(ids)
    if event.timing is Timing.AFTER_COMMIT:
        transaction.on_commit(partial(_dispatch, event, payload))
    else:
        _dispatch(event, payload)


def emit_many(event: Event, payloads: Sequence[dict[str, Any]]) -> None:
    """Announce `event` once per payload, as that many `emit` calls would, in order. A handler that answers
    many at once (a function with a `many` attribute taking the payloads) is called once with them all:
    a writer of many versions' decisions in one transaction (matching's nightly run) pays each handler's
    reads once, not once per version. For events without an id collection."""
    if event.ids is not None:
        raise ValueError(f"{event.name} carries ids: emit it (or use `batched`)")
    for payload in payloads:
        if set(payload) != set(event.payload):
            raise TypeError(f"{event.name}: payload {sorted(payload)}, expected {sorted(event.payload)}")
    if not payloads:
        return
    if event.timing is Timing.AFTER_COMMIT:
        transaction.on_commit(partial(_dispatch_many, event, list(payloads)))
    else:
        _dispatch_many(event, list(payloads))


def _dispatch_many(event: Event, payloads: list[dict[str, Any]]) -> None:
    if event.name not in HANDLERS:
        wire()
    for handler in HANDLERS[event.name]:
        many = getattr(handler, "many", None)
        if many is not None:
            many(payloads)
        else:
            for payload in payloads:
                handler(**payload)


@contextlib.contextmanager
def batched(event: Event) -> Iterator[set[int]]:
    """Inside the block, the ids of `event` are gathered and it is emitted once at the end (bulk loaders
    such as load_demo: one re-match of every enterprise instead of one per service call). On an error
    nothing is emitted: the caller's transaction is rolling back."""
    if event.ids is None:
        raise ValueError(f"{event.name} carries no ids to gather")
    if not hasattr(_batches, "open"):
        _batches.open = {}
    stack = _batches.open.setdefault(event.name, [])
    ids: set[int] = set()
    stack.append(ids)
    try:
        yield ids
    finally:
        stack.pop()
    emit(event, **{event.ids: ids})


def table() -> Iterable[tuple[Event, Handler]]:
    """(event, handler) pairs, for the README's table and the architecture test."""
    for event in EVENTS:
        for handler in event.handlers:
            yield event, handler
