"""What a receipt (认定依据) states about a decision, computed without Django.

A receipt names the engine that decided (`ENGINE_VERSION`: raise it whenever the evaluator, the SQL
compiler or the one-pass decider would decide any profile differently), the rule by a hash of its
canonical JSON (`rule_hash`), and every fact the rule read, with the value shown, its source department
and as-of date (`receipt_facts`, from the evaluator's explanation: it names exactly the facts the rule's
conditions test).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

ENGINE_VERSION = "huiqi-match/1"


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text: equal rules give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def rule_hash(rule: Any) -> str:
    """sha256 of the rule's canonical JSON (hex, 64 characters)."""
    return hashlib.sha256(canonical_json(rule).encode("utf-8")).hexdigest()


def receipt_facts(explanation: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """fact name → {label, value, source, source_label, as_of, verified} for every fact a condition read.

    Attestations and judgements read no fact and are left out (the explanation keeps them). A fact two
    conditions read is listed once (the same evidence backs both)."""
    facts: dict[str, dict[str, Any]] = {}
    for condition in (explanation or {}).get("conditions", ()):
        name = condition.get("fact")
        if not name or name in facts:
            continue
        facts[name] = {
            "label": condition.get("fact_label", ""),
            "value": condition.get("actual", ""),
            "source": condition.get("source", ""),
            "source_label": condition.get("source_label", ""),
            "as_of": condition.get("as_of"),
            "verified": bool(condition.get("verified")),
        }
    return facts
