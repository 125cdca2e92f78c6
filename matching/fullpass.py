"""One pass over the district for every live policy version: the full (nightly) re-match.

The per-policy path (`services.policy_version_match`) runs one SQL statement per version over the
projection, so a full re-match costs one scan of the district per policy. This pass reads each chunk
of enterprises (an enterprise-id range) ONCE — projection columns, qualifications, sites with their
parks, and the stored match records — as fixed-width binary COPY straight into numpy arrays, and
decides every live version over those columns:

- each condition is a vectorised test over the chunk (three-valued: 0 unmet, 1 unknown, 2 met, with
  the two never-NULL verified flags VT / VF of `core.sql`), memoised per chunk by (fact, op, value),
  since catalogue rules share most of their conditions;
- `all` / `any` / `not` combine them exactly as `core.sql` does (min / max / 2 - x; VT and VF by AND
  and OR), so the decision is the SQL path's, which is the pure evaluator's (the property test in
  tests/matching/test_bulk_matches_evaluator.py holds all three together, states included);
- the decisions are compared with the stored outcome and verified flag; only a version that has a
  changed decision in the chunk is then written, by the existing write path (`bulk.decide_and_write`
  over that chunk, in one transaction per chunk with the version rows locked in id order), so a
  changed decision is written with its explanation and fires the same signals (entitlements,
  notifications) as before. With nothing changed, a chunk costs its reads and the numpy work only;
- a stored decision that stands is also compared by its state letters: a condition under `any` or
  `not` can move (a qualification lapsed, an age passed) without moving the outcome, and the page must
  not go on showing yesterday's result. Those records get today's explanation and letters
  (`services.version_records_restate`), with no receipt or push: the decision did not change.

Numbers are compared exactly: the projection's numeric columns (4 decimal places) are read as
integers scaled by 10^4 and each threshold is rounded the safe way (ceil for >=, floor for <=).
Text columns are read as indexes into the distinct values, and a condition is decided once per
distinct value. PostgreSQL only (the caller keeps the per-policy path elsewhere).

Outside a transaction the next chunk is read on a second connection while the current one is decided
(`portal.db.ahead`): the server's share of a read, most of it, then overlaps the numpy work.

Memory: two chunks' arrays (the one decided, the one being read) plus a (versions × chunk) int8 matrix
or two; at 25,000 enterprises a chunk and 500 versions that is tens of MB, independent of the district's size.
"""

# Every statement here is built from model metadata (table and column names) and codes quoted by
# core.sql.quote; no value from a request reaches it. ruff cannot see that:
# ruff: noqa: S608

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import connection, models, transaction
from django.db.models import Max, Min

from policies.models import PolicyVersion
from policies.selectors import policy_in_effect
from portal.db import ahead

from . import services
from .bulk import tables
from .core.industries import SECTION_DIVISIONS, section_divisions
from .core.registry import FACTS, NumberFact
from .core.sql import _age_cutoff, _number, quote
from .core.tree import AllOf, AnyOf, Attestation, Condition, Leaf, Node, Not, iter_leaves
from .models import MatchProfile, MatchRecord

if TYPE_CHECKING:
    from .bulk import ChangedRecord
    from .core.sql import CompiledSql
    from .models import MatchRun

logger = logging.getLogger(__name__)

UNMET, UNKNOWN, MET = 0, 1, 2  # also the outcome codes: ineligible, needs_info, eligible
OUTCOME_CODES = {"ineligible": UNMET, "needs_info": UNKNOWN, "eligible": MET}
_EPOCH = date(2000, 1, 1)
_SCALE = 10_000  # the projection's numbers have 4 decimal places
_INT64_MAX = np.iinfo(np.int64).max
_NO_END = np.iinfo(np.int32).max


# --- binary COPY into numpy ----------------------------------------------------------------------


def copy_columns(select: str, columns: Sequence[tuple[str, str]]) -> dict[str, np.ndarray]:
    """Run `COPY (select) TO STDOUT (FORMAT BINARY)` whose every column is NOT NULL and fixed-width
    (numpy dtypes '>i8', '>i4', '>i2', '?'), and return each column as an array (native byte order).

    Every row then has the same size, so the whole stream is one structured array: no per-row Python.
    """
    fields: list[tuple[str, str]] = [("_count", ">i2")]
    for name, dtype in columns:
        fields += [(f"_len_{name}", ">i4"), (name, dtype)]
    layout = np.dtype(fields)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY ({select}) TO STDOUT (FORMAT BINARY)") as copy:
        data = b"".join(bytes(block) for block in copy)
    extension = int.from_bytes(data[15:19], "big")
    start = 19 + extension
    body = len(data) - start - 2  # the trailer is a field count of -1
    rows = body // layout.itemsize
    assert rows * layout.itemsize == body, "COPY row of unexpected width (a NULL slipped through?)"
    table = np.frombuffer(data, dtype=layout, count=rows, offset=start)
    return {name: table[name].astype(np.dtype(dtype).newbyteorder("=")) for name, dtype in columns}


def _text_array(values: Sequence[str]) -> str:
    return "ARRAY[" + ",".join(quote(v) for v in values) + "]::text[]" if values else "ARRAY[]::text[]"


# --- the columns of the projection ---------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _column_kinds() -> dict[str, str]:
    """projection column → how it is read (text as a dictionary index, numbers scaled, dates as days)."""
    kinds: dict[str, str] = {}
    for spec in FACTS.values():
        if not spec.profile_key:
            continue
        column = MatchProfile._meta.get_field(spec.profile_key)
        if isinstance(column, models.DecimalField):
            kinds[spec.profile_key] = "number"
        elif isinstance(column, models.DateField):
            kinds[spec.profile_key] = "date"
        elif isinstance(column, models.BooleanField):
            kinds[spec.profile_key] = "bool"
        else:
            kinds[spec.profile_key] = "text"
    return kinds


# --- one chunk of the district, read once ---------------------------------------------------------


@dataclass
class Chunk:
    """Everything the pass reads for enterprises with lo <= id < hi, as arrays."""

    ids: np.ndarray  # enterprise ids (sorted), one per projection row
    columns: dict[str, np.ndarray]  # column → codes / scaled ints / days / -1,0,1
    known: dict[str, np.ndarray]  # column → value known (not NULL)
    flags: dict[str, np.ndarray]  # column → its *_verified flag
    has_sites: np.ndarray
    dictionaries: dict[str, list[str]]  # text column → its values (code i is dictionaries[col][i])
    qualifications: dict[str, np.ndarray]  # row: at (profile row), kind, valid_from, valid_to, verified
    sites: dict[str, np.ndarray]  # row: at, site id, zone (index into zone codes), zone unset, verified flags
    site_parks: dict[str, np.ndarray]  # row: site id, park (index into park codes)
    records: dict[str, np.ndarray]  # row: at, version, outcome code, verified, state letters (padded bytes)
    memo: dict[Any, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.ids)


@dataclass
class Vocabulary:
    """Codes the live rules name (qualification kinds, zones, parks) and the text columns' values."""

    kinds: list[str]
    zones: list[str]
    parks: list[str]
    text_values: dict[str, list[str]]
    # Bytes each stored record's state letters are read as: the most conditions a live rule has, and one
    # more, so that letters longer than any live rule's (written by another engine) read as different.
    state_width: int = 1

    @classmethod
    def for_rules(cls, trees: Sequence[Node], *, lo: int | None = None, hi: int | None = None) -> Vocabulary:
        """The codes `trees` name, and the text values of the projection (of lo <= id < hi only, when given:
        a chunk decided on its own needs no others)."""
        kinds: set[str] = set()
        zones: set[str] = set()
        parks: set[str] = set()
        most_leaves = 0
        for tree in trees:
            leaves = list(iter_leaves(tree))
            most_leaves = max(most_leaves, len(leaves))
            for _path, leaf, _negated in leaves:
                if isinstance(leaf, Condition):
                    if leaf.fact == "qualification":
                        kinds.add(leaf.value)
                    elif leaf.fact == "zone":
                        zones.update(leaf.value)
                    elif leaf.fact == "park":
                        parks.update(leaf.value)
        text_columns = [c for c, kind in _column_kinds().items() if kind == "text"]
        text_values: dict[str, list[str]] = {c: [] for c in text_columns}
        vocabulary = cls(sorted(kinds), sorted(zones), sorted(parks), text_values, state_width=most_leaves + 1)
        vocabulary.learn_text_values(lo=lo, hi=hi)
        return vocabulary

    def learn_text_values(self, *, lo: int | None, hi: int | None) -> None:
        """Add the distinct values of the text columns (of a range, or of the whole projection)."""
        profile = MatchProfile._meta.db_table
        columns = list(self.text_values)
        where = ""
        if lo is not None and hi is not None:
            where = f" WHERE enterprise_id >= {int(lo)} AND enterprise_id < {int(hi)}"
        aggregates = ", ".join(f"array_agg(DISTINCT {c}) FILTER (WHERE {c} IS NOT NULL)" for c in columns)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {aggregates} FROM {profile}{where}")
            found = cursor.fetchone()
        for column, values in zip(columns, found, strict=True):
            known = set(self.text_values[column])
            self.text_values[column] += sorted(v for v in values or () if v not in known)


def read_chunk(*, lo: int, hi: int, vocabulary: Vocabulary, on: date) -> Chunk:
    """Read every table the decisions and their diff need for lo <= enterprise id < hi, once."""
    while True:
        chunk = _read_chunk(lo=lo, hi=hi, vocabulary=vocabulary)
        # A text value written since the dictionary was made reads as code 0: learn it, read again.
        if all(not np.any(chunk.columns[c][chunk.known[c]] == 0) for c in vocabulary.text_values):
            return chunk
        vocabulary.learn_text_values(lo=lo, hi=hi)


def _read_chunk(*, lo: int, hi: int, vocabulary: Vocabulary) -> Chunk:
    t = tables()
    lo, hi = int(lo), int(hi)
    kinds = _column_kinds()
    select: list[str] = ["p.enterprise_id::int8"]
    layout: list[tuple[str, str]] = [("id", ">i8")]
    joins: list[str] = []
    for column, kind in kinds.items():
        if kind == "text":
            # 1-based index in the dictionary; 0: a value not (yet) in it; -1: NULL. A hash join on
            # the dictionary's values (unique), not array_position's linear search per row.
            d = f"d{len(joins)}"
            joins.append(
                f" LEFT JOIN unnest({_text_array(vocabulary.text_values[column])}) WITH ORDINALITY AS {d}(v, i)"
                f" ON {d}.v = p.{column}::text"
            )
            select.append(f"CASE WHEN p.{column} IS NULL THEN -1 ELSE COALESCE({d}.i, 0) END::int4")
            layout.append((column, ">i4"))
        elif kind == "number":
            select += [f"COALESCE(p.{column} * {_SCALE}, 0)::int8", f"(p.{column} IS NOT NULL)"]
            layout += [(column, ">i8"), (f"{column}?", "?")]
        elif kind == "date":
            select += [f"COALESCE(p.{column} - DATE '{_EPOCH.isoformat()}', 0)::int4", f"(p.{column} IS NOT NULL)"]
            layout += [(column, ">i4"), (f"{column}?", "?")]
        else:
            select.append(f"(CASE WHEN p.{column} IS NULL THEN -1 WHEN p.{column} THEN 1 ELSE 0 END)::int2")
            layout.append((column, ">i2"))
        flag = FACTS_BY_KEY[column].flag_column
        select.append(f"p.{flag}")
        layout.append((flag, "?"))
    select.append("p.has_sites")
    layout.append(("has_sites", "?"))
    profile = copy_columns(
        f"SELECT {', '.join(select)} FROM {t.profile} p{''.join(joins)}"
        f" WHERE p.enterprise_id >= {lo} AND p.enterprise_id < {hi}",
        layout,
    )
    order = np.argsort(profile["id"], kind="stable")  # sorted here rather than by the server
    profile = {name: values[order] for name, values in profile.items()}
    ids = profile["id"]
    columns: dict[str, np.ndarray] = {}
    known: dict[str, np.ndarray] = {}
    flags: dict[str, np.ndarray] = {}
    for column, kind in kinds.items():
        values = profile[column]
        if kind == "text" or kind == "bool":
            known[column] = values >= 0
            columns[column] = values
        else:
            known[column] = profile[f"{column}?"]
            columns[column] = values
        flags[column] = profile[FACTS_BY_KEY[column].flag_column]

    range_of = f"enterprise_id >= {lo} AND enterprise_id < {hi}"
    qualification_verified = _text_array(sorted(FACTS["qualification"].verified_sources))
    qualifications = copy_columns(
        f"SELECT q.enterprise_id::int8,"
        f" COALESCE(array_position({_text_array(vocabulary.kinds)}, q.kind::text), 0)::int4,"
        f" COALESCE(q.valid_from - DATE '{_EPOCH.isoformat()}', {_NO_END})::int4,"
        f" COALESCE(q.valid_to - DATE '{_EPOCH.isoformat()}', {_NO_END})::int4,"
        f" COALESCE(q.source::text = ANY({qualification_verified}), FALSE)"
        f" FROM {t.qualification} q WHERE q.{range_of}",
        [("enterprise", ">i8"), ("kind", ">i4"), ("valid_from", ">i4"), ("valid_to", ">i4"), ("verified", "?")],
    )
    # The same join as core.sql's places: a site counts through its township (inner join).
    sites = copy_columns(
        f"SELECT s.enterprise_id::int8, s.id::int8,"
        f" COALESCE(array_position({_text_array(vocabulary.zones)}, z.code::text), 0)::int4,"
        f" (tw.zone_id IS NULL),"
        f" COALESCE(s.source::text = ANY({_text_array(sorted(FACTS['zone'].verified_sources))}), FALSE),"
        f" COALESCE(s.source::text = ANY({_text_array(sorted(FACTS['park'].verified_sources))}), FALSE)"
        f" FROM {t.site} s JOIN {t.township} tw ON tw.id = s.township_id LEFT JOIN {t.zone} z ON z.id = tw.zone_id"
        f" WHERE s.{range_of}",
        [
            ("enterprise", ">i8"),
            ("site", ">i8"),
            ("zone", ">i4"),
            ("zone_unset", "?"),
            ("zone_verified", "?"),
            ("park_verified", "?"),
        ],
    )
    if vocabulary.parks:
        site_parks = copy_columns(
            f"SELECT sp.{t.site_parks_site_column}::int8,"
            f" COALESCE(array_position({_text_array(vocabulary.parks)}, k.code::text), 0)::int4"
            f" FROM {t.site_parks} sp JOIN {t.park} k ON k.id = sp.{t.site_parks_park_column}"
            f" JOIN {t.site} s ON s.id = sp.{t.site_parks_site_column} WHERE s.{range_of}",
            [("site", ">i8"), ("park", ">i4")],
        )
    else:
        site_parks = {"site": np.zeros(0, np.int64), "park": np.zeros(0, np.int32)}
    # The state letters padded to one width (ASCII letters: one byte each), so every row has one size.
    width = int(vocabulary.state_width)
    records = copy_columns(
        f"SELECT r.enterprise_id::int8, r.policy_version_id::int8, r.outcome = 'eligible', r.outcome = 'needs_info',"
        f" r.verified, rpad(r.states, {width}) FROM {MatchRecord._meta.db_table} r WHERE r.{range_of}",
        [
            ("enterprise", ">i8"),
            ("version", ">i8"),
            ("eligible", "?"),
            ("needs_info", "?"),
            ("verified", "?"),
            ("states", f"S{width}"),
        ],
    )
    # Two comparisons are cheaper on the server than a CASE: the outcome code is rebuilt here.
    records["outcome"] = np.where(records.pop("eligible"), MET, np.where(records.pop("needs_info"), UNKNOWN, UNMET))

    def located(enterprise_ids: np.ndarray, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Keep rows of enterprises that have a projection row; `at` is that row's position."""
        at = np.searchsorted(ids, enterprise_ids)
        inside = at < len(ids)
        inside[inside] = ids[at[inside]] == enterprise_ids[inside]
        kept = {name: values[inside] for name, values in rows.items()}
        kept["at"] = at[inside]
        return kept

    return Chunk(
        ids=ids,
        columns=columns,
        known=known,
        flags=flags,
        has_sites=profile["has_sites"],
        dictionaries=vocabulary.text_values,
        qualifications=located(qualifications["enterprise"], qualifications),
        sites=located(sites["enterprise"], sites),
        site_parks=site_parks,
        records=located(records["enterprise"], records),
    )


FACTS_BY_KEY = {spec.profile_key: spec for spec in FACTS.values() if spec.profile_key}


# --- deciding rules over a chunk ------------------------------------------------------------------

# truth (0 unmet, 1 unknown, 2 met), VT (met, and what decided it is verified), VF (unmet, likewise)
Decided = tuple[np.ndarray, np.ndarray, np.ndarray]


def _from_test(test: np.ndarray, known: np.ndarray, flag: np.ndarray) -> Decided:
    """A scalar condition: `test` where the fact is known, unknown elsewhere; its evidence is the fact."""
    truth = np.where(known, np.where(test, MET, UNMET), UNKNOWN).astype(np.int8)
    return truth, known & test & flag, known & ~test & flag


def _scaled(value: Any, fact: str, rounding: str) -> int:
    """A threshold in the projection's scaled integers, rounded so that comparisons stay exact."""
    spec = FACTS[fact]
    assert isinstance(spec, NumberFact)  # validation allows order operators on number facts only
    number = Decimal(_number(spec.normalize(value))) * _SCALE
    scaled = int(number.to_integral_value(rounding=rounding))
    return max(-_INT64_MAX, min(_INT64_MAX, scaled))


class _Decider:
    """Decides parsed rules over one chunk, leaf by leaf (memoised in the chunk across versions)."""

    def __init__(self, chunk: Chunk, vocabulary: Vocabulary, on: date) -> None:
        self.c = chunk
        self.v = vocabulary
        self.on = on
        self.day = (on - _EPOCH).days

    def rule(self, tree: Node, leaves: list[np.ndarray] | None = None) -> Decided:
        """The decision of a rule for every enterprise of the chunk; `leaves` collects each condition's
        truth in document order (for state letters), when given."""
        if isinstance(tree, Not):
            truth, vt, vf = self.rule(tree.child, leaves)
            return (MET - truth).astype(np.int8), vf, vt
        if isinstance(tree, AllOf | AnyOf):
            parts = [self.rule(child, leaves) for child in tree.children]
            every = isinstance(tree, AllOf)
            truth = parts[0][0].copy()
            vt, vf = parts[0][1].copy(), parts[0][2].copy()
            for part_truth, part_vt, part_vf in parts[1:]:
                if every:
                    np.minimum(truth, part_truth, out=truth)
                    np.logical_and(vt, part_vt, out=vt)
                    np.logical_or(vf, part_vf, out=vf)
                else:
                    np.maximum(truth, part_truth, out=truth)
                    np.logical_or(vt, part_vt, out=vt)
                    np.logical_and(vf, part_vf, out=vf)
            return truth, vt, vf
        decided = self.leaf(tree)
        if leaves is not None:
            leaves.append(decided[0])
        return decided

    def leaf(self, leaf: Leaf) -> Decided:
        if not isinstance(leaf, Condition):
            n = self.c.size
            return np.full(n, UNKNOWN, np.int8), np.zeros(n, bool), np.zeros(n, bool)
        key = (leaf.fact, leaf.op, leaf.value)  # tuples: hashable
        found = self.c.memo.get(key)
        if found is None:
            method: Callable[..., Decided] = getattr(self, f"_{leaf.fact}", None) or self._scalar
            found = self.c.memo[key] = method(leaf.fact, leaf.op, leaf.value)
        return found

    # --- scalar facts (the projection's columns) ---------------------------------------------------
    def _scalar(self, fact: str, op: str, value: Any) -> Decided:
        column = FACTS[fact].profile_key
        kind = _column_kinds()[column]
        values, known, flag = self.c.columns[column], self.c.known[column], self.c.flags[column]
        if kind == "text":
            assert op in ("in", "not_in"), (fact, op)
            wanted = set(value)
            table = np.array([False] + [v in wanted for v in self.c.dictionaries[column]], dtype=bool)
            test = table[np.maximum(values, 0)]
            if op == "not_in":
                test = ~test
        elif kind == "bool":
            assert op == "eq", (fact, op)
            test = values == (1 if value else 0)
        elif op == "between":
            lo, hi = value
            test = (values >= _scaled(lo, fact, ROUND_CEILING)) & (values <= _scaled(hi, fact, ROUND_FLOOR))
        else:
            test = {
                "gte": lambda: values >= _scaled(value, fact, ROUND_CEILING),
                "gt": lambda: values > _scaled(value, fact, ROUND_FLOOR),
                "lte": lambda: values <= _scaled(value, fact, ROUND_FLOOR),
                "lt": lambda: values < _scaled(value, fact, ROUND_CEILING),
            }[op]()
        return _from_test(test, known, flag)

    def _industry(self, fact: str, op: str, codes: list[str]) -> Decided:
        column = FACTS[fact].profile_key
        prefixes: list[str] = []
        for code in codes:
            prefixes += section_divisions(code) if code in SECTION_DIVISIONS else [code]
        exact = {p for p in prefixes if len(p) >= 4}
        starts = tuple(p for p in prefixes if len(p) < 4)
        table = np.array(
            [False] + [v in exact or (bool(starts) and v.startswith(starts)) for v in self.c.dictionaries[column]],
            dtype=bool,
        )
        test = table[np.maximum(self.c.columns[column], 0)]
        return _from_test(test, self.c.known[column], self.c.flags[column])

    def _age_years(self, fact: str, op: str, value: Any) -> Decided:
        column = FACTS[fact].profile_key
        days = self.c.columns[column]

        def at_least(years: int) -> np.ndarray:
            cutoff = _age_cutoff(self.on, years)
            if cutoff is None:
                return np.zeros(len(days), bool)
            return days <= (cutoff - _EPOCH).days

        if op == "between":
            test = at_least(int(value[0])) & ~at_least(int(value[1]) + 1)
        else:
            k = int(value)
            test = {
                "gte": lambda: at_least(k),
                "gt": lambda: at_least(k + 1),
                "lt": lambda: ~at_least(k),
                "lte": lambda: ~at_least(k + 1),
            }[op]()
        return _from_test(test, self.c.known[column], self.c.flags[column])

    def _any_by_row(self, at: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Per enterprise of the chunk: does any of its rows (at) satisfy `mask`?"""
        hit = np.zeros(self.c.size, bool)
        hit[at[mask]] = True
        return hit

    def _qualification(self, fact: str, op: str, kind: str) -> Decided:
        q = self.c.qualifications
        code = self.v.kinds.index(kind) + 1
        of_kind = q["kind"] == code
        valid = of_kind & (q["valid_from"] <= self.day) & (q["valid_to"] >= self.day)
        held = self._any_by_row(q["at"], valid)
        held_verified = self._any_by_row(q["at"], valid & q["verified"])
        recorded = self._any_by_row(q["at"], of_kind)
        unverified = self._any_by_row(q["at"], of_kind & ~q["verified"])
        truth = np.where(held, MET, UNMET).astype(np.int8)
        return truth, held_verified, ~held & recorded & ~unverified

    def _place(self, matched: np.ndarray, undetermined: np.ndarray | None, verified: np.ndarray) -> Decided:
        s = self.c.sites
        at = s["at"]
        all_rows = np.ones(len(at), bool)
        sited = self._any_by_row(at, all_rows)
        hit = self._any_by_row(at, matched)
        hit_verified = self._any_by_row(at, matched & verified)
        unverified = self._any_by_row(at, ~verified)
        truth = np.where(hit, MET, UNMET).astype(np.int8)
        if undetermined is not None:
            truth[~hit & self._any_by_row(at, undetermined)] = UNKNOWN
        truth[~sited] = UNKNOWN
        return truth, hit_verified, (truth == UNMET) & ~unverified

    def _zone(self, fact: str, op: str, codes: list[str]) -> Decided:
        s = self.c.sites
        wanted = np.array([self.v.zones.index(code) + 1 for code in codes], dtype=np.int32)
        return self._place(np.isin(s["zone"], wanted), s["zone_unset"], s["zone_verified"])

    def _park(self, fact: str, op: str, codes: list[str]) -> Decided:
        s, sp = self.c.sites, self.c.site_parks
        wanted = np.array([self.v.parks.index(code) + 1 for code in codes], dtype=np.int32)
        in_park = np.unique(sp["site"][np.isin(sp["park"], wanted)])
        return self._place(np.isin(s["site"], in_park), None, s["park_verified"])


def state_letters(tree: Node, leaves: Sequence[np.ndarray]) -> list[str]:
    """Per enterprise, one letter per condition (M / N / U; A / J for attestations and judgements)."""
    kinds = [leaf for _path, leaf, _negated in iter_leaves(tree)]
    columns: list[np.ndarray] = []
    for leaf, truth in zip(kinds, leaves, strict=True):
        if isinstance(leaf, Condition):
            columns.append(np.array(["N", "U", "M"])[truth])
        else:
            columns.append(np.full(len(truth), "A" if isinstance(leaf, Attestation) else "J"))
    if not columns:
        return []
    return ["".join(letters) for letters in zip(*columns, strict=True)]


def decide_chunk(tree: Node, chunk: Chunk, vocabulary: Vocabulary, *, on: date) -> dict[str, Any]:
    """outcome codes, verified flags and state letters of one rule over a chunk (for tests and tools)."""
    leaves: list[np.ndarray] = []
    truth, vt, _vf = _Decider(chunk, vocabulary, on).rule(tree, leaves)
    return {"ids": chunk.ids, "outcome": truth, "verified": (truth == MET) & vt, "states": state_letters(tree, leaves)}


# --- the pass -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveVersion:
    id: int
    tree: Node | None  # None: not in effect on the day (everyone ineligible)


@dataclass
class PassFigures:
    chunks: int = 0
    read_s: float = 0.0  # summed over chunks; when reading ahead, it overlaps decide_s
    decide_s: float = 0.0
    write_s: float = 0.0
    versions_written: int = 0  # (version, chunk) pairs that had a change
    changed_records: int = 0
    restated_records: int = 0  # decision stands, conditions moved: explanation and letters rewritten


@dataclass(frozen=True)
class ChangedRange:
    """Where a version's changed decisions lie in a chunk: how many, and the enterprise ids lo <= id < hi
    that hold them all (the write decides that range only, not the whole chunk); and the enterprises whose
    stored decision stands while its state letters moved (a condition under `any` or `not`), whose
    explanation is restated (`restated`; a version may have only those, with count 0)."""

    count: int
    lo: int
    hi: int
    restated: tuple[int, ...] = ()


class MostlyChanged(Exception):
    """The first chunk showed most versions changing: the per-policy path (parallel) writes faster."""


def changed_versions(
    chunk: Chunk, versions: Sequence[LiveVersion], vocabulary: Vocabulary, *, on: date
) -> dict[int, ChangedRange]:
    """The versions with at least one decision in the chunk that differs from its stored record (the
    same test as bulk._changed_sql: no record and not ineligible, or outcome / verified differ), in
    version order, each with the range of enterprise ids its changes lie in; and the versions with a
    stored decision that stands while its state letters differ from today's (those enterprises listed)."""
    n = chunk.size
    index = {v.id: i for i, v in enumerate(versions)}
    stored = np.full((len(versions), n), -1, np.int8)
    stored_verified = np.zeros((len(versions), n), bool)
    rec = chunk.records
    width = rec["states"].dtype.itemsize
    by_version: dict[int, np.ndarray] = {}  # version position → its records' rows
    if len(rec["version"]):
        unique, inverse = np.unique(rec["version"], return_inverse=True)
        rows = np.array([index.get(int(v), -1) for v in unique], dtype=np.int64)[inverse]
        live = rows >= 0
        stored[rows[live], rec["at"][live]] = rec["outcome"][live]
        stored_verified[rows[live], rec["at"][live]] = rec["verified"][live]
        order = np.argsort(rows, kind="stable")
        starts = np.searchsorted(rows[order], np.arange(len(versions) + 1))
        by_version = {i: order[starts[i] : starts[i + 1]] for i in range(len(versions)) if starts[i + 1] > starts[i]}
    decider = _Decider(chunk, vocabulary, on)
    changed: dict[int, ChangedRange] = {}
    for i, version in enumerate(versions):
        leaves: list[np.ndarray] = []
        if version.tree is None:
            outcome = np.zeros(n, np.int8)
            verified = np.zeros(n, bool)
        else:
            outcome, vt, _vf = decider.rule(version.tree, leaves)
            verified = (outcome == MET) & vt
        before = stored[i]
        missing = before < 0
        differs = np.where(missing, outcome != UNMET, (before != outcome) | (stored_verified[i] != verified))
        at = np.flatnonzero(differs)
        restated: tuple[int, ...] = ()
        held = by_version.get(i)
        if version.tree is not None and held is not None:
            # A version not in effect decides nobody: its records keep what they show until it is again.
            places = rec["at"][held]
            stands = ~differs[places]
            kept_letters = rec["states"][held].view(np.uint8).reshape(-1, width)
            moved = (_letters(version.tree, leaves, places, width) != kept_letters).any(axis=1)
            moved_at = places[stands & moved]
            restated = tuple(int(e) for e in np.sort(chunk.ids[moved_at]))
        if len(at) or restated:
            lo, hi = (int(chunk.ids[at[0]]), int(chunk.ids[at[-1]]) + 1) if len(at) else (0, 0)
            changed[version.id] = ChangedRange(len(at), lo, hi, restated)
    return changed


_LETTER_CODES = np.frombuffer(b"NUM", np.uint8)  # by truth code: unmet, unknown, met


def _letters(tree: Node, leaves: Sequence[np.ndarray], places: np.ndarray, width: int) -> np.ndarray:
    """The state letters (as `state_letters` spells them) of the enterprises at `places`, as a
    (len(places), width) byte matrix padded with spaces, as the records' letters are read."""
    letters = np.full((len(places), width), ord(" "), np.uint8)
    kinds = [leaf for _path, leaf, _negated in iter_leaves(tree)]
    for j, (leaf, truth) in enumerate(zip(kinds, leaves, strict=True)):
        if isinstance(leaf, Condition):
            letters[:, j] = _LETTER_CODES[truth[places]]
        else:
            letters[:, j] = ord("A" if isinstance(leaf, Attestation) else "J")
    return letters


@dataclass
class PassPlan:
    """What every chunk of one pass needs: the live versions (parsed trees, None when not in effect on the
    day), the version rows, and each written version's SQL (compiled on first use)."""

    on: date
    live: list[LiveVersion]
    by_id: dict[int, PolicyVersion]
    compiled_sql: dict[int, CompiledSql] = field(default_factory=dict)

    @property
    def trees(self) -> list[Node]:
        return [v.tree for v in self.live if v.tree is not None]


def pass_plan(*, on: date, versions: Sequence[PolicyVersion]) -> PassPlan:
    """The plan of a pass over these versions as of `on` (in version id order)."""
    live: list[LiveVersion] = []
    by_id: dict[int, PolicyVersion] = {}
    for version in sorted(versions, key=lambda v: v.pk):
        active = policy_in_effect(version, on)
        live.append(LiveVersion(version.pk, services._compiled(version).tree if active else None))
        by_id[version.pk] = version
    return PassPlan(on=on, live=live, by_id=by_id)


def chunk_changes(
    plan: PassPlan, vocabulary: Vocabulary, *, lo: int, hi: int, figures: PassFigures | None = None
) -> dict[int, ChangedRange]:
    """Read enterprises lo <= id < hi once and return the versions with a changed decision there."""
    figures = figures if figures is not None else PassFigures()
    chunk, spent = _timed_read(vocabulary, lo=lo, hi=hi, on=plan.on)
    figures.read_s += spent
    return _chunk_decided(plan, vocabulary, chunk, figures)


def _timed_read(vocabulary: Vocabulary, *, lo: int, hi: int, on: date) -> tuple[Chunk, float]:
    started = time.perf_counter()
    chunk = read_chunk(lo=lo, hi=hi, vocabulary=vocabulary, on=on)
    return chunk, time.perf_counter() - started


def _chunk_decided(
    plan: PassPlan, vocabulary: Vocabulary, chunk: Chunk, figures: PassFigures
) -> dict[int, ChangedRange]:
    started = time.perf_counter()
    changed = changed_versions(chunk, plan.live, vocabulary, on=plan.on)
    figures.decide_s += time.perf_counter() - started
    figures.chunks += 1
    return changed


def chunk_write(
    plan: PassPlan,
    changed: dict[int, ChangedRange],
    *,
    run_id: int | None,
    shared: bool = False,
    figures: PassFigures | None = None,
) -> list[ChangedRecord]:
    """Write the changed versions of a chunk through the per-version write path. Call inside the chunk's
    transaction: each version row is locked, in id order (as each is in the per-version path: no
    deadlock with a version's own run), until it commits.

    `shared`: FOR SHARE instead of FOR UPDATE. Chunks of one run cover disjoint enterprises, so they need
    not wait for each other (workers write the same versions side by side); a version's own run (FOR UPDATE)
    still waits for them, and they for it."""
    on = plan.on
    chunk_changes: list[ChangedRecord] = []
    for version_id, where in changed.items():
        if shared:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT 1 FROM {PolicyVersion._meta.db_table} WHERE id = %s FOR SHARE", [version_id])
        else:
            PolicyVersion.objects.select_for_update().filter(pk=version_id).first()
        version = plan.by_id[version_id]
        active = policy_in_effect(version, on)
        # A fresh explainer per chunk: its memo of explanations is freed with the chunk.
        explainer = services._Explainer(compiled=services._compiled(version), on=on) if active else None
        if where.count:
            if version_id not in plan.compiled_sql:
                tree = services._compiled(version).tree
                plan.compiled_sql[version_id] = services.compile_for(tree, on=on) if active else services._NOT_IN_EFFECT
            chunk_changes += services.version_chunk_write(
                version_id=version_id,
                compiled=plan.compiled_sql[version_id],
                explainer=explainer,
                # Only the ids that hold a change are decided again (the rest of the chunk stands).
                lo=where.lo,
                hi=where.hi,
                run_id=run_id,
            )
        if where.restated and explainer is not None:
            restated = services.version_records_restate(
                version_id=version_id, enterprise_ids=where.restated, explainer=explainer
            )
            if figures is not None:
                figures.restated_records += len(restated)
    return chunk_changes


def full_pass(
    *,
    on: date,
    versions: Sequence[PolicyVersion],
    run: MatchRun | None = None,
    chunk_size: int = 25_000,
    figures: PassFigures | None = None,
    fallback_share: float | None = None,
    probe_size: int = 2_000,
) -> services.MatchSummary:
    """Decide every live version (PolicyVersion rows) for the whole district in one read per chunk,
    and write the changed decisions through the per-version write path. Returns a
    services.MatchSummary of the changes. `run`: progress and a resumable cursor (services.match_run_*).
    (`matching.passchunks` spreads the same chunks over workers, one task each.)

    `fallback_share`: the first chunk is then a probe of `probe_size` enterprises; when more than that
    share of the versions change in it (e.g. no records stored yet: every version changes in every
    chunk), nothing is written and MostlyChanged is raised, since writing each version over every
    chunk is the per-policy path's own work, which that path does in parallel.
    """
    figures = figures if figures is not None else PassFigures()
    summary = services.MatchSummary()
    plan = pass_plan(on=on, versions=versions)
    vocabulary = Vocabulary.for_rules(plan.trees)
    bounds = MatchProfile.objects.aggregate(lo=Min("enterprise_id"), hi=Max("enterprise_id"))
    if bounds["lo"] is None:
        return summary
    lo, hi = bounds["lo"], bounds["hi"] + 1
    start = lo if run is None else services.match_run_resume_at(run=run, lo=lo, hi=hi)
    run_id = run.pk if run is not None else None
    probing = fallback_share is not None
    ranges: list[tuple[int, int]] = []
    while start < hi:
        end = min(start + (min(chunk_size, probe_size) if probing and not ranges else chunk_size), hi)
        ranges.append((start, end))
        start = end

    def read(at: int) -> tuple[Chunk, float]:
        return _timed_read(vocabulary, lo=ranges[at][0], hi=ranges[at][1], on=on)

    # Each chunk is still read in its own snapshot; the write re-decides its range in SQL under the versions'
    # locks, so a chunk read while the one before is written changes nothing (db.ahead).
    with ahead(len(ranges), read, name="pass-read") as chunks:
        for (_start, end), (chunk, spent) in zip(ranges, chunks, strict=True):
            figures.read_s += spent
            changed = _chunk_decided(plan, vocabulary, chunk, figures)
            del chunk
            if probing and fallback_share is not None and mostly_changed(changed, plan, fallback_share):
                raise MostlyChanged
            probing = False
            started = time.perf_counter()
            with transaction.atomic():
                chunk_changes_written = chunk_write(plan, changed, run_id=run_id, figures=figures)
                if run is not None:
                    services.match_run_progress(run=run, processed=end - lo, cursor=end, changes=chunk_changes_written)
            figures.write_s += time.perf_counter() - started
            figures.versions_written += sum(1 for where in changed.values() if where.count)
            figures.changed_records += len(chunk_changes_written)
            summary.add(chunk_changes_written)
    return summary


def mostly_changed(changed: dict[int, ChangedRange], plan: PassPlan, share: float) -> bool:
    """Whether more than `share` of the versions changed in a probe chunk (then the per-policy path writes).
    Restated explanations alone do not count: the per-policy path writes decisions only."""
    decided = sum(1 for where in changed.values() if where.count)
    if decided > share * len(plan.live):
        logger.info("full pass: %s of %s versions change in the probe: per-policy path", decided, len(plan.live))
        return True
    return False
