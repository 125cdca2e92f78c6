"""The house's structure, held by tests: the import-linter contracts and the domain-event table."""

from __future__ import annotations

import inspect
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.utils.module_loading import import_string

from matching.models import MatchRun
from portal import events

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _importlinter_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def _ini(config: dict, contracts: list[dict]) -> str:
    """The same settings and `contracts` in import-linter's INI format."""
    lines = ["[importlinter]", "root_packages =", *(f"    {p}" for p in config["root_packages"])]
    lines.append(f"include_external_packages = {config.get('include_external_packages', False)}")
    for contract in contracts:
        lines += ["", f"[importlinter:contract:{contract['id']}]"]
        for key, value in contract.items():
            if key == "id":
                continue
            if isinstance(value, list):
                lines += [f"{key} =", *(f"    {v}" for v in value)]
            else:
                lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


# --- Import contracts ------------------------------------------------------------------------------


def test_the_import_contracts_hold() -> None:
    """pyproject.toml's [tool.importlinter] contracts: the layers, the pure core, events instead of
    imports upwards, nothing importing the UI. `make test` runs the same check (`lint-imports`)."""
    result = _lint_imports(ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_ignore_no_import() -> None:
    for contract in _importlinter_config()["contracts"]:
        assert "ignore_imports" not in contract, contract["id"]
        assert "unmatched_ignore_imports_alerting" not in contract, contract["id"]


def test_the_layers_contract_catches_an_import_upwards(tmp_path: Path) -> None:
    """The check can fail: the same layers upside down are broken (so the test above is not vacuous)."""
    config = _importlinter_config()
    (layers,) = [c for c in config["contracts"] if c["type"] == "layers"]
    reversed_layers = {**layers, "layers": list(reversed(layers["layers"]))}
    path = tmp_path / "reversed.ini"
    path.write_text(_ini(config, [reversed_layers]))

    result = _lint_imports(path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout


# --- Domain events ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "handler"), list(events.table()), ids=[f"{e.name}→{h.path}" for e, h in events.table()]
)
def test_the_event_table_names_handlers_that_exist(event: events.Event, handler: events.Handler) -> None:
    """Each handler resolves, and takes exactly the event's payload (plus the keywords fixed in the table)."""
    function = import_string(handler.path)
    assert callable(function)
    fixed = dict(handler.fixed or {})
    assert not set(fixed) & set(event.payload), "a fixed keyword would hide part of the payload"
    inspect.signature(function).bind(**fixed, **dict.fromkeys(event.payload))  # raises TypeError when not
    if handler.path == "matching.services.match_run_request":
        assert fixed["kind"] in MatchRun.Kind.values


def test_every_event_is_wired_at_start_up() -> None:
    """PortalConfig.ready has resolved the whole table (a wrong path would have failed start-up)."""
    assert [e.name for e in events.EVENTS] == list(dict.fromkeys(e.name for e in events.EVENTS)), "names unique"
    for event in events.EVENTS:
        assert len(events.HANDLERS[event.name]) == len(event.handlers), event.name


def test_the_flow_from_publish_to_entitlements_is_in_the_table() -> None:
    handlers = {e.name: [h.path for h in e.handlers] for e in events.EVENTS}
    assert handlers[events.POLICY_PUBLISHED.name] == [
        "matching.services.match_run_request",
        "policies.public_cache.catalogue_changed",
        "matching.matches_cache.catalogue_changed",
        "portal.recall.services.recall_request_for_version",
    ]
    assert handlers[events.FACTS_CORRECTED.name] == ["portal.recall.services.recall_for_fact_correction"]
    assert handlers[events.POLICY_RETIRED.name] == [
        "policies.public_cache.catalogue_changed",
        "matching.matches_cache.catalogue_changed",
    ]
    assert handlers[events.FACTS_CHANGED.name] == [
        "matching.services.match_run_request",
        "matching.matches_cache.facts_changed",
    ]
    assert handlers[events.MATCH_RECORDS_CHANGED.name] == [
        "portal.entitlements.services.on_match_changes",
        "portal.follows.services.on_match_changes",  # 关注 notices, in the same transaction
        "matching.matches_cache.records_changed",
    ]
    assert handlers[events.POLICY_VERSION_DECIDED.name] == ["portal.entitlements.services.entitlements_reconcile"]


@pytest.mark.django_db
def test_each_event_runs_its_handlers_when_its_timing_says(monkeypatch, django_capture_on_commit_callbacks) -> None:
    calls: list[tuple[str, dict]] = []
    for event in events.EVENTS:
        monkeypatch.setitem(
            events.HANDLERS, event.name, [lambda _name=event.name, **payload: calls.append((_name, payload))]
        )

    with django_capture_on_commit_callbacks(execute=True):
        events.emit(events.POLICY_PUBLISHED, version_id=1)
        events.emit(events.MATCH_RECORDS_CHANGED, version_id=2, changes=[], run_id=None)
        events.emit(events.POLICY_VERSION_DECIDED, version_id=3)
        events.emit(events.FACTS_CHANGED, enterprise_ids=[])  # no enterprise: nothing to announce
        # In the transaction: at once. After commit: not yet.
        assert [name for name, _ in calls] == [events.MATCH_RECORDS_CHANGED.name, events.POLICY_VERSION_DECIDED.name]
        events.emit(events.FACTS_CHANGED, enterprise_ids=[5, 4, 5])

    assert calls[2:] == [
        (events.POLICY_PUBLISHED.name, {"version_id": 1}),
        (events.FACTS_CHANGED.name, {"enterprise_ids": [4, 5]}),
    ]


def test_an_event_refuses_a_payload_it_does_not_declare() -> None:
    with pytest.raises(TypeError):
        events.emit(events.POLICY_PUBLISHED, version=1)
    with pytest.raises(TypeError):
        events.emit(events.MATCH_RECORDS_CHANGED, version_id=1, changes=[])


def test_the_readme_event_table_names_every_event_and_handler() -> None:
    """The README's architecture section is the newcomer's map: it must not fall behind the table."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Events") : readme.index("### A publish, from click to push")]
    rows = {line.split("|")[1].strip(): line for line in section.splitlines() if line.startswith("| ")}
    for event in events.EVENTS:
        assert event.name in rows, f"README's event table lacks {event.name!r}"
        for handler in event.handlers:
            assert f"`{handler.path}`" in rows[event.name], f"README: {event.name!r} lacks {handler.path}"
