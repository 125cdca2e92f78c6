"""Compile a rule to SQL for the bulk path: one statement decides a policy for a whole district.

The SQL mirrors the pure evaluator exactly (a property test holds them to it):
- SQL's own NULL logic *is* Kleene's three-valued logic, so a condition is NULL when its fact is
  unknown, and AND / OR / NOT combine met, unmet and unknown as `evaluator` does.
- `verified` follows the evaluator's rule: for each node two never-NULL flags, VT (true, and what
  decided it is verified) and VF (false, likewise): all → VT = AND VT_i, VF = OR VF_i;
  any → VT = OR VT_i, VF = AND VF_i; not → swaps VT and VF; a condition → its evidence's source.
- An attestation or judgement (tree.Attestation / tree.Judgement) is NULL (unknown) whatever the data, never
  verified either way, and its state letter is A or J, as in the evaluator.
- `candidates` is a necessary condition for "not ineligible" that indexes can answer (industry
  prefixes, size, valid qualifications, places), so a district-wide run reads only the rows that
  can match, plus those that already hold a record.

Scalar facts come from the projection table (matching.models.MatchProfile) whose columns are NULL
exactly when the evaluator would find the fact unknown; qualifications and sites from the
registry's tables (one correlated aggregate per qualification or place condition). Every literal
is inlined from a rule that `parse_rule` accepted (codes match strict patterns, numbers are
numbers) and is quoted again here, so no text from a rule reaches the SQL unescaped.
Pure: no Django imports (table names are passed in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from .industries import SECTION_DIVISIONS, section_divisions
from .registry import FACTS, NumberFact, _to_decimal
from .rules import as_tree
from .tree import AllOf, AnyOf, Attestation, Condition, Leaf, Node, Not, iter_leaves

TRUE, FALSE = "TRUE", "FALSE"


@dataclass(frozen=True)
class Tables:
    profile: str
    qualification: str
    site: str
    township: str
    zone: str
    site_parks: str
    park: str
    site_parks_site_column: str = "site_id"
    site_parks_park_column: str = "park_id"


@dataclass(frozen=True)
class CompiledSql:
    truth: str  # three-valued: TRUE met, FALSE unmet, NULL unknown
    verified_true: str  # never NULL: truth is TRUE and what decided it is verified
    states: str  # text, one letter per condition in document order
    candidates: str  # necessary condition for truth IS NOT FALSE, index-friendly
    condition_count: int
    # LEFT JOIN LATERAL clauses the expressions above read (one per qualification or place
    # condition): put them after `FROM profile AS alias`. Empty for rules of scalar facts only.
    joins: str = ""


def quote(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _number(value: Any) -> str:
    if isinstance(value, bool):
        raise TypeError("boolean where a number belongs")
    number = _to_decimal(value) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise ValueError("not a finite number")
    return format(number, "f")


def _in_list(values: Any) -> str:
    return "(" + ", ".join(quote(v) for v in values) + ")"


def _age_cutoff(on: date, years: int) -> date | None:
    """The latest establishment date with age_years >= `years` on `on` (None: nobody that old).

    Age is whole years with the anniversary counting (see registry._age_on); comparing
    (year, month, day) tuples, age >= k  ⇔  established <= (on.year - k, on.month, on.day), and a
    29 February that year does not have becomes the 28th (no date lies between).
    """
    year = on.year - years
    if year < 1:
        return None
    try:
        return on.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def _both(expr: str, flag: str) -> tuple[str, str]:
    """VT and VF for a scalar condition whose evidence is the fact itself."""
    return f"(COALESCE({expr}, FALSE) AND {flag})", f"(COALESCE(NOT {expr}, FALSE) AND {flag})"


class _Compiler:
    def __init__(self, tables: Tables, on: date, alias: str = "p", *, lateral: bool = True) -> None:
        self.t = tables
        self.on = on
        self.p = alias
        self.lateral = lateral
        self.states: list[str] = []
        self.joins: list[str] = []

    def _lateral(self, select: str) -> str:
        """Join a one-row aggregate over this enterprise's records; returns its alias.

        An aggregate without GROUP BY yields exactly one row (zero counts and NULL flags when the
        enterprise has no such records), so the LEFT JOIN … ON TRUE never drops or repeats a row.
        Being correlated, it reads only the candidate's own rows through the enterprise_id index,
        where an EXISTS per occurrence would hash the whole table once for every place it appears.
        """
        alias = f"x{len(self.joins)}"
        self.joins.append(f"LEFT JOIN LATERAL ({select}) {alias} ON TRUE")
        return alias

    # Each node compiles to (truth, VT, VF, candidates).
    def node(self, node: Node) -> tuple[str, str, str, str]:
        if isinstance(node, Not):
            truth, vt, vf, _ = self.node(node.child)
            return f"(NOT {truth})", vf, vt, TRUE
        if isinstance(node, AllOf | AnyOf):
            parts = [self.node(child) for child in node.children]
            truths, vts, vfs, cands = zip(*parts, strict=True)
            if isinstance(node, AllOf):
                narrowing = [c for c in cands if c != TRUE]
                cand = "(" + " AND ".join(narrowing) + ")" if narrowing else TRUE
                return _join(truths, "AND"), _join(vts, "AND"), _join(vfs, "OR"), cand
            cand = TRUE if TRUE in cands else _join(cands, "OR")
            return _join(truths, "OR"), _join(vts, "OR"), _join(vfs, "AND"), cand
        return self.condition(node)

    def condition(self, leaf: Leaf) -> tuple[str, str, str, str]:
        if not isinstance(leaf, Condition):
            # No data decides it: unknown for every enterprise, and it narrows no candidates.
            self.states.append("'A'" if isinstance(leaf, Attestation) else "'J'")
            return "CAST(NULL AS BOOLEAN)", FALSE, FALSE, TRUE
        fact, op, value = leaf.fact, leaf.op, leaf.value
        method = getattr(self, f"_{fact}", None) or self._scalar
        truth, vt, vf, cand = method(fact, op, value)
        self.states.append(f"(CASE WHEN {truth} THEN 'M' WHEN NOT {truth} THEN 'N' ELSE 'U' END)")
        return truth, vt, vf, cand

    # --- scalar facts from the projection ------------------------------------------------------
    def _column(self, fact: str) -> tuple[str, str]:
        spec = FACTS[fact]  # its projection column and flag (projection.SCALAR_COLUMNS)
        return f"{self.p}.{spec.profile_key}", f"{self.p}.{spec.flag_column}"

    def _scalar(self, fact: str, op: str, value: Any) -> tuple[str, str, str, str]:
        column, flag = self._column(fact)
        spec = FACTS[fact]
        if op in ("in", "not_in"):
            negation = "NOT " if op == "not_in" else ""
            expr = f"({column} {negation}IN {_in_list(value)})"
        elif op == "eq":
            expr = f"({column} = {TRUE if value else FALSE})"
        elif op == "between":
            assert isinstance(spec, NumberFact)  # validation allows order operators on number facts only
            lo, hi = (_number(spec.normalize(v)) for v in value)
            expr = f"({column} BETWEEN {lo} AND {hi})"
        else:
            assert isinstance(spec, NumberFact)  # validation allows order operators on number facts only
            sign = {"gte": ">=", "gt": ">", "lte": "<=", "lt": "<"}[op]
            expr = f"({column} {sign} {_number(spec.normalize(value))})"
        cand = f"({column} IS NULL OR {expr})" if fact == "size" and op == "in" else TRUE
        return (expr, *_both(expr, flag), cand)

    def _industry(self, fact: str, op: str, codes: list[str]) -> tuple[str, str, str, str]:
        column, flag = self._column(fact)
        tests: list[str] = []
        for code in codes:
            prefixes = section_divisions(code) if code in SECTION_DIVISIONS else (code,)
            for prefix in prefixes:
                if len(prefix) >= 4:
                    tests.append(f"{column} = {quote(prefix)}")
                else:
                    tests.append(f"{column} LIKE {quote(prefix + '%')}")
        expr = "(" + " OR ".join(tests) + ")"
        return (expr, *_both(expr, flag), f"({column} IS NULL OR {expr})")

    def _age_years(self, fact: str, op: str, value: Any) -> tuple[str, str, str, str]:
        column, flag = self._column(fact)

        def at_least(years: int) -> str:
            cutoff = _age_cutoff(self.on, years)
            return FALSE if cutoff is None else f"{column} <= {quote(cutoff.isoformat())}"

        if op == "between":
            lo, hi = int(value[0]), int(value[1])
            test = f"({at_least(lo)} AND NOT ({at_least(hi + 1)}))"
        else:
            k = int(value)
            test = {
                "gte": at_least(k),
                "gt": at_least(k + 1),
                "lt": f"NOT ({at_least(k)})",
                "lte": f"NOT ({at_least(k + 1)})",
            }[op]
        # A literal FALSE would be "known" even for a missing date: keep NULL for unknown.
        expr = f"(CASE WHEN {column} IS NULL THEN NULL ELSE ({test}) END)"
        return (expr, *_both(expr, flag), TRUE)

    def _verified_sources(self, fact: str) -> str:
        return _in_list(sorted(FACTS[fact].verified_sources))

    def _qualification(self, fact: str, op: str, kind: str) -> tuple[str, str, str, str]:
        q, day = self.t.qualification, quote(self.on.isoformat())
        valid = f"q.valid_from <= {day} AND (q.valid_to IS NULL OR q.valid_to >= {day})"
        verified = f"q.source IN {self._verified_sources(fact)}"
        cand = f"{self.p}.enterprise_id IN (SELECT q.enterprise_id FROM {q} q WHERE q.kind = {quote(kind)} AND {valid})"
        if not self.lateral:
            return (*self._qualification_exists(kind, valid, verified), cand)
        x = self._lateral(
            f"SELECT COALESCE(bool_or({valid}), FALSE) AS held,"
            f" COALESCE(bool_or({valid} AND {verified}), FALSE) AS held_verified,"
            f" count(*) > 0 AS recorded, COALESCE(bool_and({verified}), TRUE) AS all_verified"
            f" FROM {q} q WHERE q.enterprise_id = {self.p}.enterprise_id AND q.kind = {quote(kind)}"
        )
        truth = f"{x}.held"
        vt = f"{x}.held_verified"
        # Unmet rests on the lapsed records of that kind (none: no evidence, never verified).
        vf = f"(NOT {x}.held AND {x}.recorded AND {x}.all_verified)"
        return truth, vt, vf, cand

    def _qualification_exists(self, kind: str, valid: str, verified: str) -> tuple[str, str, str]:
        """The same condition with one EXISTS per reading, for databases without LATERAL (SQLite)."""
        q = self.t.qualification
        of_kind = f"q.enterprise_id = {self.p}.enterprise_id AND q.kind = {quote(kind)}"
        truth = f"EXISTS (SELECT 1 FROM {q} q WHERE {of_kind} AND {valid})"
        vt = f"EXISTS (SELECT 1 FROM {q} q WHERE {of_kind} AND {valid} AND {verified})"
        vf = (
            f"(NOT {truth} AND EXISTS (SELECT 1 FROM {q} q WHERE {of_kind})"
            f" AND NOT EXISTS (SELECT 1 FROM {q} q WHERE {of_kind} AND NOT ({verified})))"
        )
        return truth, vt, vf

    def _sites_from(self, correlated: bool) -> str:
        t = self.t
        where = f" WHERE s.enterprise_id = {self.p}.enterprise_id" if correlated else " WHERE 1 = 1"
        return (
            f"FROM {t.site} s JOIN {t.township} tw ON tw.id = s.township_id"
            f" LEFT JOIN {t.zone} z ON z.id = tw.zone_id{where}"
        )

    def _place(self, fact: str, matched: str, undetermined: str | None) -> tuple[str, str, str, str]:
        verified = f"s.source IN {self._verified_sources(fact)}"
        possible = f"{matched} OR {undetermined}" if undetermined else matched
        # Correlated: a probe of this candidate's own sites. An IN (…) list of every matching site
        # would be hashed per statement, or (past work_mem, at a million enterprises) rescanned per row.
        cand = f"(NOT {self.p}.has_sites OR EXISTS (SELECT 1 {self._sites_from(correlated=True)} AND ({possible})))"
        if not self.lateral:
            return (*self._place_exists(matched, undetermined, verified), cand)
        x = self._lateral(
            f"SELECT count(*) > 0 AS sited, COALESCE(bool_or({matched}), FALSE) AS matched,"
            f" COALESCE(bool_or({undetermined if undetermined else FALSE}), FALSE) AS undetermined,"
            f" COALESCE(bool_or(({matched}) AND {verified}), FALSE) AS matched_verified,"
            f" COALESCE(bool_and({verified}), TRUE) AS all_verified"
            f" {self._sites_from(correlated=True)}"
        )
        unknown_branch = f" WHEN {x}.undetermined THEN NULL" if undetermined else ""
        truth = f"(CASE WHEN NOT {x}.sited THEN NULL WHEN {x}.matched THEN TRUE{unknown_branch} ELSE FALSE END)"
        vt = f"{x}.matched_verified"
        vf = f"(COALESCE(NOT {truth}, FALSE) AND {x}.all_verified)"
        return truth, vt, vf, cand

    def _place_exists(self, matched: str, undetermined: str | None, verified: str) -> tuple[str, str, str]:
        """The same condition with one EXISTS per reading, for databases without LATERAL (SQLite)."""
        sites = f"SELECT 1 FROM {self.t.site} s WHERE s.enterprise_id = {self.p}.enterprise_id"
        inner = self._sites_from(correlated=True)
        unknown_branch = f" WHEN EXISTS (SELECT 1 {inner} AND {undetermined}) THEN NULL" if undetermined else ""
        truth = (
            f"(CASE WHEN NOT EXISTS ({sites}) THEN NULL"
            f" WHEN EXISTS (SELECT 1 {inner} AND {matched}) THEN TRUE{unknown_branch} ELSE FALSE END)"
        )
        vt = f"EXISTS (SELECT 1 {inner} AND {matched} AND {verified})"
        vf = f"(COALESCE(NOT {truth}, FALSE) AND NOT EXISTS ({sites} AND NOT ({verified})))"
        return truth, vt, vf

    def _zone(self, fact: str, op: str, codes: list[str]) -> tuple[str, str, str, str]:
        return self._place(fact, f"z.code IN {_in_list(codes)}", "tw.zone_id IS NULL")

    def _park(self, fact: str, op: str, codes: list[str]) -> tuple[str, str, str, str]:
        t = self.t
        matched = (
            f"EXISTS (SELECT 1 FROM {t.site_parks} sp JOIN {t.park} k ON k.id = sp.{t.site_parks_park_column}"
            f" WHERE sp.{t.site_parks_site_column} = s.id AND k.code IN {_in_list(codes)})"
        )
        return self._place(fact, matched, None)


def _join(parts: tuple[str, ...] | list[str], op: str) -> str:
    return "(" + f" {op} ".join(parts) + ")"


def compile_rule_sql(rule: object, *, tables: Tables, on: date, alias: str = "p", lateral: bool = True) -> CompiledSql:
    """Compile a rule (its JSON, parsed first: RuleError if it is not valid; or its parsed tree) for
    evaluation as of `on` over `tables.profile AS alias`.

    `lateral`: read qualification and place conditions through LATERAL aggregates (PostgreSQL);
    without it, through EXISTS sub-selects that SQLite understands. Both decide the same.
    """
    tree = as_tree(rule)
    compiler = _Compiler(tables, on, alias, lateral=lateral)
    truth, vt, _vf, cand = compiler.node(tree)
    count = sum(1 for _ in iter_leaves(tree))
    assert count == len(compiler.states)
    return CompiledSql(
        truth=truth,
        verified_true=f"(COALESCE({truth}, FALSE) AND {vt})",
        states=" || ".join(compiler.states),
        candidates=cand,
        condition_count=count,
        joins=" ".join(compiler.joins),
    )
