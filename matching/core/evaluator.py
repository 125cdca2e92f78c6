"""The pure evaluator: a rule and an enterprise profile in, an outcome that explains itself out.

Three-valued (Kleene) logic: each condition is met, unmet or unknown (fact missing); `all` is the
minimum and `any` the maximum of its children in the order unmet < unknown < met, `not` swaps met
and unmet and leaves unknown alone. The rule's value gives the outcome: met → eligible, unmet →
ineligible, unknown → needs_info.

verified (only for eligible): every condition that decided the outcome rests on a source its fact
counts as verified (department data). What decided a node, for its current value:
    all met / any unmet      → every child (each must be verified)
    all unmet / any met      → one child with that value is enough; a verified one is picked
                               when there is a choice
    not                      → whatever decided its child (for the child's value)
    condition                → itself: verified when its evidence's source is verified for the fact
The conditions so chosen are flagged `decisive` in the explanation.

Attestations and judgements (tree.Attestation / tree.Judgement, see rules.py) are conditions no data
decides. They are always unknown in the logic above, so a rule that needs one is at best
needs_info, never eligible: nothing unchecked is ever reported as met, and no 免申即享 entitlement
(which needs eligible and verified) can rest on one. Their result in the explanation is "attest"
(需您承诺) or "judge" (待主管部门认定) instead of "unknown", their state letter A or J instead of U,
and the summary says 需您承诺：“…” / 待…认定：“…”. `Outcome.pending_only` tells when nothing but
such conditions stands between the enterprise and eligibility (every data condition is settled).
"符合全部条件" is said only when every condition of the rule was checked (met or unmet from data);
an eligible outcome that leaves an unneeded alternative unchecked says "符合条件".

missing (the smallest set of conditions that stand between the enterprise and eligibility): the
set of conditions that must change for the rule to become true, computed exactly on the tree.
need(node, true) / need(node, false) is the smallest set of conditions whose change makes the
node true / false:
    condition: empty when it already has the wanted value, else itself (unknown counts: it must
               become known and have the wanted value)
    all, true: union of need(child, true)      any, true: the smallest need(child, true)
    all, false: the smallest need(child, false) any, false: union of need(child, false)
    not, x:    need(child, not x)
Conditions occur once in a tree, so the children's sets are disjoint and the unions and minima are
exact minimum hitting sets. A condition under an odd number of `not`s is needed *unmet*: its
`requirement` wording says so (未持有…, 不属于…). Ties between equally small sets prefer the set
with fewer definite failures (more unknowns), then document order.

Evaluation is hot (millions of runs): `compile_rule` parses a rule (rules.parse_rule, which
validates) or takes its parsed tree, and precompiles it once; leaf checks are closures from the
registry; the explanation (conditions, missing, summary) is built lazily on first access. The
Kleene combination is precompiled into closures (`_value_fn`); `tree.three_valued` is the same
logic over a tree for callers with other leaf values. No Django imports.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any

from .describe import leaf_wording
from .industries import IndustryMatcher
from .profile import EnterpriseProfile
from .registry import (
    FACTS,
    MET,
    PENDING_RESULT_LABELS,
    RESULT_CODES,
    RESULT_LABELS,
    UNKNOWN,
    UNKNOWN_DISPLAY,
    UNMET,
    Checker,
    CheckResult,
    FactSpec,
    names_version,
    source_label,
)
from .rules import PENDING_LABELS, as_tree
from .tree import DEFAULT_DEPARTMENT, AllOf, AnyOf, Condition, Judgement, Node, Not, child_paths, join, to_raw

EXPLANATION_SCHEMA = 1


class Status(StrEnum):
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    NEEDS_INFO = "needs_info"


STATUS_LABELS: dict[str, str] = {
    Status.ELIGIBLE: "符合",
    Status.INELIGIBLE: "不符合",
    Status.NEEDS_INFO: "需补充信息",
}
_STATE_LETTERS = {MET: "M", UNMET: "N", UNKNOWN: "U"}
_STATE_LETTERS_BY_NAME = {"met": "M", "unmet": "N", "unknown": "U", "attest": "A", "judge": "J"}
PENDING_RESULTS = ("attest", "judge")
_PENDING_LETTERS = {"attest": "A", "judge": "J"}
_STATUS_BY_VALUE = {MET: Status.ELIGIBLE, UNMET: Status.INELIGIBLE, UNKNOWN: Status.NEEDS_INFO}


def state_letters_of(explanation: dict[str, Any]) -> str:
    """The state letters (`Outcome.state_letters`) an explanation (`Outcome.to_dict()`) shows."""
    return "".join(_STATE_LETTERS_BY_NAME[c["result"]] for c in explanation.get("conditions", ()))


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class ConditionResult:
    """One condition of a rule as evaluated for one enterprise on one date."""

    path: str  # "all[1].any[0]"; "" when the whole rule is one condition
    fact: str
    fact_label: str
    op: str
    value: Any  # expected value, as written in the rule
    wording: str  # the condition in plain Chinese: "行业属于：集成电路设计（6520）"
    requirement: str  # what eligibility needs of it: the wording, or its opposite under an odd number of `not`s
    short: str  # the requirement in a compact form for summaries: "高新技术企业资质"
    negated: bool  # under an odd number of `not`s: eligibility needs it unmet
    result: str  # met / unmet / unknown; attest / judge for conditions no data decides (never met)
    actual: str  # the enterprise's value in plain Chinese ("未提供" when unknown)
    source: str  # source code of the evidence ("" when there is none)
    source_label: str  # "市场监督管理局", "企业自行填报"
    as_of: date | None
    verified: bool  # the evidence's source counts as verified for this fact
    decisive: bool = False  # among the conditions that decided the outcome (eligible / ineligible)

    @property
    def result_label(self) -> str:
        if self.result == "judge":
            return f"待{self.fact_label}认定"
        if self.result in PENDING_RESULT_LABELS:
            return PENDING_RESULT_LABELS[self.result]
        return RESULT_LABELS[self.result]

    @property
    def pending(self) -> bool:
        """An attestation or judgement: no data decides it."""
        return self.result in PENDING_RESULTS

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "fact": self.fact,
            "fact_label": self.fact_label,
            "op": self.op,
            "value": _jsonable(self.value),
            "wording": self.wording,
            "requirement": self.requirement,
            "short": self.short,
            "negated": self.negated,
            "result": self.result,
            "result_label": self.result_label,
            "actual": self.actual,
            "source": self.source,
            "source_label": self.source_label,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "verified": self.verified,
            "decisive": self.decisive,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConditionResult:
        as_of = data.get("as_of")
        return cls(
            path=data["path"],
            fact=data["fact"],
            fact_label=data["fact_label"],
            op=data["op"],
            value=data["value"],
            wording=data["wording"],
            requirement=data["requirement"],
            short=data["short"],
            negated=data["negated"],
            result=data["result"],
            actual=data["actual"],
            source=data["source"],
            source_label=data["source_label"],
            as_of=date.fromisoformat(as_of) if as_of else None,
            verified=data["verified"],
            decisive=data.get("decisive", False),
        )


def summarize(status: str, missing: Sequence[ConditionResult], conditions: Sequence[ConditionResult] = ()) -> str:
    """ "符合全部条件" / "只差：高新技术企业资质" / "需补充：从业人员" (both parts when both apply),
    then "需您承诺：“…”" and "待主管部门认定：“…”" for attestations and judgements.

    Eligible says "符合全部条件" only when every condition was checked (met or unmet); when an
    unneeded alternative stayed unknown or pending, "符合条件".
    """
    if status == Status.ELIGIBLE:
        if all(c.result in ("met", "unmet") for c in conditions):
            return "符合全部条件"
        return "符合条件"
    asks = list(dict.fromkeys(FACTS[c.fact].ask for c in missing if c.result == "unknown"))
    gaps = [c.short for c in missing if c.result in ("met", "unmet")]
    attest = [c.short for c in missing if c.result == "attest"]
    judged: dict[str, list[str]] = {}
    for c in missing:
        if c.result == "judge":
            judged.setdefault(c.fact_label, []).append(c.short)
    pending = ["需您承诺：" + "、".join(attest)] if attest else []
    pending += [f"待{who}认定：" + "、".join(items) for who, items in judged.items()]
    parts: list[str] = []
    if status == Status.NEEDS_INFO:
        if asks:
            parts.append("需补充：" + "、".join(asks))
        if gaps:
            parts.append(("另差：" if asks else "只差：") + "、".join(gaps))
    else:
        if gaps:
            parts.append("只差：" + "、".join(gaps))
        if asks:
            parts.append("需补充：" + "、".join(asks))
    return "；".join(parts + pending)


class Outcome:
    """A rule's outcome for one enterprise on one date, with its explanation.

    `status` and `verified` are computed at once; `conditions`, `missing` and `summary` are built on
    first access (most bulk runs only look at the status).
    """

    __slots__ = ("_compiled", "_conditions", "_missing", "_states", "_summary", "on", "status", "verified")

    status: Status
    verified: bool
    on: date

    def __init__(
        self,
        *,
        status: str,
        verified: bool,
        on: date,
        conditions: Sequence[ConditionResult],
        missing: Sequence[ConditionResult],
        summary: str | None = None,
    ) -> None:
        self.status = Status(status)
        self.verified = verified
        self.on = on
        self._compiled: CompiledRule | None = None
        self._states: list[CheckResult] | None = None
        self._conditions: tuple[ConditionResult, ...] | None = tuple(conditions)
        self._missing: tuple[ConditionResult, ...] | None = tuple(missing)
        self._summary: str | None = (
            summary if summary is not None else summarize(self.status, self._missing, self._conditions)
        )

    @classmethod
    def _lazy(
        cls, compiled: CompiledRule, status: Status, verified: bool, on: date, states: list[CheckResult]
    ) -> Outcome:
        outcome = cls.__new__(cls)
        outcome.status = status
        outcome.verified = verified
        outcome.on = on
        outcome._compiled = compiled
        outcome._states = states
        outcome._conditions = outcome._missing = outcome._summary = None
        return outcome

    @property
    def state_letters(self) -> str:
        """One letter per condition in document order (M met, N unmet, U unknown): a compact snapshot
        of the decision's reasons, the same string the SQL bulk path computes."""
        if self._states is not None:
            assert self._compiled is not None
            pairs = zip(self._compiled._letters, self._states, strict=True)
            return "".join(letter or _STATE_LETTERS[result] for letter, (result, _) in pairs)
        return "".join(_STATE_LETTERS_BY_NAME[c.result] for c in self.conditions)

    def _explain(self) -> None:
        assert self._compiled is not None and self._states is not None
        conditions, missing = self._compiled.explain(self._states, self.status, self.on)
        self._conditions, self._missing = conditions, missing
        self._summary = summarize(self.status, missing, conditions)

    @property
    def conditions(self) -> tuple[ConditionResult, ...]:
        if self._conditions is None:
            self._explain()
        assert self._conditions is not None
        return self._conditions

    @property
    def missing(self) -> tuple[ConditionResult, ...]:
        """The smallest set of conditions between the enterprise and eligibility (empty if eligible)."""
        if self._missing is None:
            self._explain()
        assert self._missing is not None
        return self._missing

    @property
    def summary(self) -> str:
        if self._summary is None:
            self._explain()
        assert self._summary is not None
        return self._summary

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def pending(self) -> tuple[ConditionResult, ...]:
        """The attestations and judgements among `missing` (what the enterprise must commit to or
        the department must judge on the way to eligibility)."""
        return tuple(c for c in self.missing if c.pending)

    @property
    def pending_only(self) -> bool:
        """Needs info, and nothing but attestations and judgements stands in the way: every condition
        data can decide is settled for eligibility. Never true of an eligible outcome."""
        return self.status == Status.NEEDS_INFO and bool(self.missing) and all(c.pending for c in self.missing)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot of the outcome and its explanation (stable keys, ISO dates)."""
        return {
            "schema": EXPLANATION_SCHEMA,
            "status": str(self.status),
            "status_label": self.status_label,
            "verified": self.verified,
            "on": self.on.isoformat(),
            "summary": self.summary,
            "conditions": [c.to_dict() for c in self.conditions],
            "missing": [c.path for c in self.missing],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        conditions = [ConditionResult.from_dict(c) for c in data["conditions"]]
        by_path = {c.path: c for c in conditions}
        return cls(
            status=data["status"],
            verified=data["verified"],
            on=date.fromisoformat(data["on"]),
            conditions=conditions,
            missing=[by_path[p] for p in data["missing"]],
            summary=data["summary"],
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Outcome):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # compared by value, so not hashable (the usual idiom)

    def __repr__(self) -> str:
        return f"<Outcome {self.status} verified={self.verified} on={self.on.isoformat()}>"


# --- compiled rules ----------------------------------------------------------------------------

_LEAF, _ALL, _ANY, _NOT = 0, 1, 2, 3
ValueFn = Callable[[Sequence[int]], int]


@dataclass(frozen=True, slots=True)
class _Leaf:
    index: int
    path: str
    spec: FactSpec | None  # None for an attestation or judgement
    kind: str  # "" for a fact condition, "attest" / "judge"
    op: str
    value: Any
    negated: bool
    wording: str
    requirement: str
    short: str
    checker: Checker
    department: str = ""  # a judgement's department as the rule names it ("" → 主管部门)


class _Node:
    __slots__ = ("children", "index", "kind", "value")

    def __init__(self, kind: int, children: tuple[_Node, ...] = (), index: int = -1) -> None:
        self.kind = kind
        self.children = children
        self.index = index
        self.value: ValueFn = _value_fn(self)


def _value_fn(node: _Node) -> ValueFn:
    if node.kind == _LEAF:
        return operator.itemgetter(node.index)
    if node.kind == _NOT:
        child = node.children[0].value

        def negate(v: Sequence[int]) -> int:
            return 2 - child(v)

        return negate
    combine = min if node.kind == _ALL else max
    leaves = [c.index for c in node.children if c.kind == _LEAF]
    groups = [c.value for c in node.children if c.kind != _LEAF]
    if len(leaves) == 1 and not groups:
        return operator.itemgetter(leaves[0])
    if len(leaves) == 1:
        leaves.append(leaves[0])  # itemgetter of one index returns a scalar, of two a tuple
    pick = operator.itemgetter(*leaves) if leaves else None
    if not groups:
        assert pick is not None

        def flat(v: Sequence[int]) -> int:
            return combine(pick(v))

        return flat

    def nested(v: Sequence[int]) -> int:
        result = combine(pick(v)) if pick is not None else (MET if combine is min else UNMET)
        for group in groups:
            result = combine(result, group(v))
        return result

    return nested


class CompiledRule:
    """A parsed rule, precompiled for fast evaluation: `compiled.evaluate(profile, on=day)`.

    `tree` is the rule's parsed tree (see tree.py), for callers that walk the rule further.
    """

    __slots__ = (
        "_checks",
        "_leaves",
        "_letters",
        "_pending",
        "_root",
        "_root_all_checks",
        "_value",
        "facts",
        "industry_gate",
        "tree",
    )

    def __init__(self, tree: Node) -> None:
        self.tree = tree
        leaves: list[_Leaf] = []
        self._root = self._build(tree, "", False, leaves)
        self._leaves: tuple[_Leaf, ...] = tuple(leaves)
        self._checks: tuple[Checker, ...] = tuple(leaf.checker for leaf in leaves)
        # The state letter of each leaf whose letter does not follow from its value (A / J).
        self._letters: tuple[str, ...] = tuple(_PENDING_LETTERS.get(leaf.kind, "") for leaf in leaves)
        self._pending: frozenset[int] = frozenset(leaf.index for leaf in leaves if leaf.kind)
        self._value = self._root.value
        self.facts: frozenset[str] = frozenset(leaf.spec.name for leaf in leaves if leaf.spec is not None)
        root = self._root
        self._root_all_checks: tuple[Checker, ...] = (
            tuple(self._checks[c.index] for c in root.children if c.kind == _LEAF) if root.kind == _ALL else ()
        )
        # The first `industry under` condition directly under a root `all`: an enterprise it rejects is
        # surely ineligible (core.gate indexes many rules by it).
        self.industry_gate: IndustryMatcher | None = next(
            (
                IndustryMatcher(child.value)
                for child in (tree.children if isinstance(tree, AllOf) else ())
                if isinstance(child, Condition) and child.spec is FACTS["industry"] and child.op == "under"
            ),
            None,
        )

    def _build(self, node: Node, path: str, negated: bool, leaves: list[_Leaf]) -> _Node:
        if isinstance(node, Not):
            return _Node(_NOT, (self._build(node.child, join(path, "not"), not negated, leaves),))
        if isinstance(node, AllOf | AnyOf):
            kind = _ALL if isinstance(node, AllOf) else _ANY
            return _Node(kind, tuple(self._build(c, p, negated, leaves) for p, c in child_paths(node, path)))
        index = len(leaves)
        if isinstance(node, Condition):
            spec, op, value = node.spec, node.op, node.value
            leaf = _Leaf(
                index=index,
                path=path,
                spec=spec,
                kind="",
                op=op,
                value=node.raw_value,  # explanations show the value as the rule states it (JSON)
                negated=negated,
                wording=spec.wording(op, value),
                requirement=spec.wording(op, value, negated=negated),
                short=spec.short(op, value, negated=negated),
                checker=spec.checker(op, value),
            )
        else:
            wording = leaf_wording(node)
            leaf = _Leaf(
                index=index,
                path=path,
                spec=None,
                kind=node.kind,
                op=node.kind,
                value=node.text,
                negated=negated,  # always False: parsing refuses these under a `not`
                wording=wording,
                requirement=wording,
                short=f"“{node.text}”",
                department=node.department if isinstance(node, Judgement) else "",
                checker=_pending_check,
            )
        leaves.append(leaf)
        return _Node(_LEAF, index=index)

    @property
    def rule(self) -> dict[str, Any]:
        """The rule's JSON (a fresh copy, from the tree)."""
        return to_raw(self.tree)

    def surely_ineligible(self, profile: EnterpriseProfile, *, on: date) -> bool:
        """True when a condition directly under a root `all` is unmet: the outcome is then ineligible
        (and unverified) whatever the rest says, so callers that only need the status may stop here.

        Kleene's `all` is the minimum, and unmet is the least value. Most catalogue rules start
        with their industry or size, so most enterprises are settled by one check.
        """
        return any(check(profile, on)[0] == UNMET for check in self._root_all_checks)

    @property
    def paths(self) -> tuple[str, ...]:
        """The path of each condition, in document order (the order of `Outcome.conditions`)."""
        return tuple(leaf.path for leaf in self._leaves)

    def evaluate(self, profile: EnterpriseProfile, *, on: date) -> Outcome:
        states = [check(profile, on) for check in self._checks]
        value = self._value([s[0] for s in states])
        if value == MET:
            return Outcome._lazy(self, Status.ELIGIBLE, self._eligible_verified(states), on, states)
        return Outcome._lazy(self, _STATUS_BY_VALUE[value], False, on, states)

    # --- verification and explanation (slow path) ----------------------------------------------
    def _leaf_verified(self, index: int, states: Sequence[CheckResult]) -> bool:
        result, evidence = states[index]
        spec = self._leaves[index].spec
        return result != UNKNOWN and spec is not None and spec.is_verified(evidence)

    def _eligible_verified(self, states: Sequence[CheckResult]) -> bool:
        # Only met / unmet conditions can decide a met rule, so when all of those are verified (the
        # usual case for department data) or none is, the answer needs no walk of the tree.
        verified = unverified = False
        for leaf, (result, evidence) in zip(self._leaves, states, strict=True):
            if result == UNKNOWN or leaf.spec is None:
                continue
            if leaf.spec.is_verified(evidence):
                verified = True
            else:
                unverified = True
        if not unverified:
            return True
        if not verified:
            return False
        return self._verified(self._root, [s[0] for s in states], states)

    def _verified(self, node: _Node, vals: Sequence[int], states: Sequence[CheckResult]) -> bool:
        """Whether what decided `node`'s current (met or unmet) value rests on verified sources."""
        if node.kind == _LEAF:
            return self._leaf_verified(node.index, states)
        if node.kind == _NOT:
            return self._verified(node.children[0], vals, states)
        value = node.value(vals)
        if value == UNKNOWN:
            return False
        every = (node.kind == _ALL) is (value == MET)  # all met / any unmet: every child decided it
        if every:
            return all(self._verified(c, vals, states) for c in node.children)
        return any(c.value(vals) == value and self._verified(c, vals, states) for c in node.children)

    def _decisive(self, node: _Node, vals: Sequence[int], states: Sequence[CheckResult]) -> list[int]:
        if node.kind == _LEAF:
            return [node.index]
        if node.kind == _NOT:
            return self._decisive(node.children[0], vals, states)
        value = node.value(vals)
        if value == UNKNOWN:
            return []
        if (node.kind == _ALL) is (value == MET):
            return [i for c in node.children for i in self._decisive(c, vals, states)]
        candidates = [c for c in node.children if c.value(vals) == value]
        chosen = next((c for c in candidates if self._verified(c, vals, states)), candidates[0])
        return self._decisive(chosen, vals, states)

    def _need(self, node: _Node, vals: Sequence[int], want: bool) -> list[int]:
        """The smallest set of conditions whose change makes `node` true (want) or false (not want)."""
        if node.kind == _LEAF:
            return [] if vals[node.index] == (MET if want else UNMET) else [node.index]
        if node.kind == _NOT:
            return self._need(node.children[0], vals, not want)
        sets = [self._need(c, vals, want) for c in node.children]
        if (node.kind == _ALL) is want:  # all true / any false: every child must change
            return [i for s in sets for i in s]
        # Ties: fewer definite failures, then fewer data conditions (so that when attestations alone
        # would do, `missing` says so and `Outcome.pending_only` holds), then document order.
        pending = self._pending
        return min(sets, key=lambda s: (len(s), sum(vals[i] != UNKNOWN for i in s), sum(i not in pending for i in s)))

    def explain(
        self, states: Sequence[CheckResult], status: str, on: date
    ) -> tuple[tuple[ConditionResult, ...], tuple[ConditionResult, ...]]:
        """(conditions, missing) for evaluated leaf states."""
        vals = [s[0] for s in states]
        decisive = set(self._decisive(self._root, vals, states)) if status != Status.NEEDS_INFO else set()
        conditions = []
        for leaf, (result, evidence) in zip(self._leaves, states, strict=True):
            spec = leaf.spec
            if spec is None:
                conditions.append(_pending_result(leaf))
                continue
            if result == UNKNOWN or evidence is None:
                actual = UNKNOWN_DISPLAY if result == UNKNOWN else spec.display(None, on)
                source, as_of = "", None
            else:
                actual = spec.show(evidence, on)
                source, as_of = evidence.source, evidence.as_of
            conditions.append(
                ConditionResult(
                    path=leaf.path,
                    fact=spec.name,
                    fact_label=spec.label,
                    op=leaf.op,
                    value=leaf.value,
                    wording=leaf.wording,
                    requirement=leaf.requirement,
                    short=leaf.short,
                    negated=leaf.negated,
                    result=RESULT_CODES[result],
                    actual=actual,
                    source=source,
                    source_label=source_label(source),
                    as_of=as_of,
                    verified=result != UNKNOWN and spec.is_verified(evidence),
                    decisive=leaf.index in decisive,
                )
            )
        needed = sorted(self._need(self._root, vals, True)) if status != Status.ELIGIBLE else []
        return tuple(conditions), tuple(conditions[i] for i in needed)


def _pending_check(profile: EnterpriseProfile, on: date) -> CheckResult:
    """An attestation or judgement: no data decides it, so it is always unknown."""
    return (UNKNOWN, None)


def _pending_result(leaf: _Leaf) -> ConditionResult:
    return ConditionResult(
        path=leaf.path,
        fact="",
        # For a judgement, who judges: the department the rule names, else 主管部门.
        fact_label=(leaf.department or DEFAULT_DEPARTMENT) if leaf.kind == "judge" else PENDING_LABELS[leaf.kind],
        op=leaf.op,
        value=leaf.value,
        wording=leaf.wording,
        requirement=leaf.requirement,
        short=leaf.short,
        negated=False,
        result=leaf.kind,
        actual="尚未承诺" if leaf.kind == "attest" else "尚未认定",
        source="",
        source_label="",
        as_of=None,
        verified=False,
        decisive=False,
    )


def compile_rule(rule: object) -> CompiledRule:
    """Precompile a rule, its JSON (parsed first: RuleError if it is not valid) or its parsed tree."""
    return CompiledRule(as_tree(rule))  # before anything else: a hostile rule never reaches the compiler


@lru_cache(maxsize=512)
def _compiled(key: str, version: int) -> CompiledRule:
    return compile_rule(json.loads(key))


def evaluate(rule: dict[str, Any], profile: EnterpriseProfile, *, on: date) -> Outcome:
    """Evaluate a rule for a profile as of `on` (compiled rules are cached by the rule's JSON).

    For many profiles, compile once instead: `compile_rule(rule).evaluate(profile, on=on)`.
    """
    try:
        key = json.dumps(rule, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):  # not JSON (e.g. a Decimal value): compile without the cache
        return compile_rule(rule).evaluate(profile, on=on)
    return _compiled(key, names_version()).evaluate(profile, on=on)
