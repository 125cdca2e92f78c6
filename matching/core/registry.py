"""The one registry of facts a rule may test: label, type, operators, reading, verification and wording.

Every other part of matching (validation, evaluation, descriptions, the calculator) asks this module
about a fact; nothing else knows how a fact is read from an `EnterpriseProfile` or worded in Chinese.
Pure Python, no Django imports.

One fact, one definition. Each fact is defined once, in `_build`: label, value type, unit, operators,
how it is read from a profile, which sources verify it, its bounds, its column on the enterprise
register (`stored`), the departments whose feeds share it, the column titles spreadsheets give it,
how typed text becomes a number on each input channel (reading.py), an example value and (for new
facts) its demo-data generator. Derived from it: the projection columns and the SQL column map
(projection.py, sql.py), the register's FACT_FIELDS, feed parsers, department ownership and column
aliases (portal.enterprises), the API input, the workspace profile form, the calculator and its form,
golden-case profiles and their form, demo and benchmark data. tests/matching/test_fact_definitions.py
walks FACTS and proves every one of those places knows every fact.

Adding a fact: its definition here; its Enterprise column (`register_count` / `register_amount` for
numbers) and MatchProfile column and flag (`projection_number`), with their migrations; a strategy in
tests/matching/strategies.py and operator cases in tests/matching/test_registry.py. The tests name
whatever is left out.
"""

from __future__ import annotations

import functools
import math
import operator
import random
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import TypeIs

from .dates import Anniversary, DateBoundary, Validity
from .industries import IndustryMatcher, industry_display, is_industry_code
from .profile import EnterpriseProfile, Fact, QualificationRecord, SiteRecord
from .reading import NUMBER_SYNTAX, Channel, NumberSyntax, Stored, Widget
from .vocabulary import (
    COUNTRIES,
    DEPARTMENT_SOURCES,
    PARKS,
    QUALIFICATION_KINDS,
    SIZES,
    SOURCES,
    TAX_CREDIT_RATINGS,
    ZONES,
    source_codes,
    sources_within,
)

# Three-valued results, ordered so that `all` is min, `any` is max and `not` is 2 - x (Kleene).
UNMET, UNKNOWN, MET = 0, 1, 2
RESULT_CODES: dict[int, str] = {UNMET: "unmet", UNKNOWN: "unknown", MET: "met"}
RESULT_LABELS: dict[str, str] = {"met": "符合", "unmet": "不符合", "unknown": "信息不足"}
# Results of attestations and judgements (rules.PENDING_KINDS): never met by data, unknown in the
# three-valued logic, reported as what they wait for. A judgement names its department when it can.
PENDING_RESULT_LABELS: dict[str, str] = {"attest": "需您承诺", "judge": "待主管部门认定"}

# Caps on a value list in a rule, so that a hostile rule cannot blow up validation or evaluation.
MAX_LIST_ITEMS = 500
MAX_CODE_LENGTH = 64

OPERATOR_LABELS: dict[str, str] = {
    "under": "属于（含下级行业）",
    "in": "属于其中之一",
    "not_in": "不属于其中任何一项",
    "eq": "为",
    "gte": "不低于",
    "gt": "高于",
    "lte": "不高于",
    "lt": "低于",
    "between": "介于（含本数）",
    "has": "具有",
}

UNKNOWN_DISPLAY = "未提供"

# The record a condition's result rests on: a profile Fact, a QualificationRecord or a SiteRecord
# (each has .source and .as_of), or a Fact built for a combined reading.
Evidence = Fact | QualificationRecord | SiteRecord
# What a leaf check returns: its result and its evidence (None when unknown).
CheckResult = tuple[int, Evidence | None]
Checker = Callable[[EnterpriseProfile, date], CheckResult]
_UNKNOWN_RESULT: CheckResult = (UNKNOWN, None)
_PLACE_CODE = re.compile(r"[a-z0-9_]+")
_COUNTRY_CODE = re.compile(r"[A-Z]{2}")

# (sub-path, code, message) for each problem found in a condition's value; rules.py adds the path.
ValueProblem = tuple[str, str, str]


class ValueType(StrEnum):
    INDUSTRY = "industry"  # list of GB/T 4754-2017 codes of any level
    CHOICE = "choice"  # list of codes from a fixed vocabulary
    INTEGER = "integer"
    NUMBER = "number"
    QUALIFICATION = "qualification"  # one qualification kind
    PLACE = "place"  # list of zone / park codes (administrators add new ones)
    BOOLEAN = "boolean"
    COUNTRY = "country"  # list of ISO 3166 alpha-2 codes


_TYPE_WIDGETS: dict[ValueType, Widget] = {
    ValueType.INDUSTRY: Widget.INDUSTRY,
    ValueType.CHOICE: Widget.SELECT,
    ValueType.INTEGER: Widget.NUMBER,
    ValueType.NUMBER: Widget.NUMBER,
    ValueType.QUALIFICATION: Widget.CHECKBOXES,
    ValueType.PLACE: Widget.CHECKBOXES,
    ValueType.BOOLEAN: Widget.YES_NO,
    ValueType.COUNTRY: Widget.SELECT,
}


def source_label(source: str | None) -> str:
    if not source:
        return ""
    return "、".join(SOURCES.get(code, code) for code in source_codes(source))


def format_number(value: Any) -> str:
    """2000 → "2000", Decimal("3.50") → "3.5", 0.1 → "0.1" (no exponent, no trailing zeros)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        return format(value.normalize(), "f")
    return str(value)


def _to_decimal(value: float) -> Decimal:
    # repr() gives the shortest text that round-trips, so 0.1 becomes Decimal("0.1"), not the binary
    # expansion; comparing a float with a Decimal directly would make 0.1 < Decimal("0.1").
    return Decimal(repr(value))


def _is_number(value: object) -> TypeIs[int | float | Decimal]:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Decimal):
        return value.is_finite()
    return True


def _weakest(records: Iterable[Evidence], verified: frozenset[str]) -> tuple[str, date | None]:
    """The source a combined reading rests on (the first unverified one, if any) and its oldest date."""
    source = ""
    oldest: date | None = None
    for record in records:
        if not source or (source in verified and record.source not in verified):
            source = record.source
        if record.as_of is not None and (oldest is None or record.as_of < oldest):
            oldest = record.as_of
    return source, oldest


@dataclass(frozen=True, slots=True, eq=False)
class FactSpec:
    """One fact a rule may test. Subclasses (one per value type) implement the behaviour.

    `read(profile, on)` returns the enterprise's actual value with its source and date as a `Fact`,
    or None when it is unknown. `checker(op, value)` precompiles a condition into a function
    `(profile, on) -> (result, evidence)`, where evidence is the record the result rests on (a
    `Fact`, `QualificationRecord` or `SiteRecord`: each has `source` and `as_of`); the condition is
    verified when the evidence's source is in `verified_sources`. `wording` / `short` word a
    condition, `display` an actual value, `validate_value` checks a rule's value for an operator.
    """

    name: str
    label: str
    type: ValueType
    operators: tuple[str, ...]
    read: Callable[[EnterpriseProfile, date], Fact | None]
    verified_sources: frozenset[str] = DEPARTMENT_SOURCES
    input_label: str = ""  # what to ask for when the fact is unknown (需补充：…); defaults to label
    unit: str = ""
    choices: Mapping[str, str] = field(default_factory=dict)
    phrases: Mapping[str, str] = field(default_factory=dict)
    profile_key: str = ""  # key in EnterpriseProfile.facts for scalar facts
    # The largest value an enterprise can truthfully declare (numbers: in `unit`; age: years). Input
    # forms and the calculator API refuse more, so that an absurd figure is named, not computed.
    maximum: int | Decimal | None = None
    # For a yes/no fact a visitor can only vouch for (no form can check it): the favourable answer
    # worded as the visitor's own statement, shown as a checkbox, and the value ticking it declares.
    statement: str = ""
    statement_value: Any = None
    # --- what the rest of the portal derives from this definition ------------------------------
    # The enterprise register's column for the fact (named profile_key); None: not stored there
    # (derived, like size, or held in its own tables, like qualifications and sites).
    stored: Stored | None = None
    # The departments whose feeds (部门信息共享) may set the fact, the first being the usual one.
    shared_by: tuple[str, ...] = ()
    # The department a golden case's "sources": "department" credits; defaults to shared_by[0].
    golden_source: str = ""
    # How forms ask for the fact; None: the usual input for its value type (see `input_widget`).
    widget: Widget | None = None
    # Offered on the enterprise workspace's profile form (what an enterprise declares about itself there).
    profile_form: bool = True
    # Column titles people put in spreadsheets for the fact (besides its code and column title).
    aliases: tuple[str, ...] = ()
    # How typed text becomes a number, per input channel (numbers only).
    number_syntax: Mapping[Channel, NumberSyntax] = field(default_factory=lambda: NUMBER_SYNTAX)
    # A value of the right shape for examples (the golden-case JSON help), sample data only.
    example: Any = None
    # Demo data: a value for an enterprise whose other facts are `known` (None: leave it unknown).
    # Sample data only, never an official figure.
    sample: Callable[[random.Random, Mapping[str, Any]], Any] | None = None
    # The matching projection's verified-flag column (default: "<profile_key>_verified").
    projection_flag: str = ""

    @property
    def ask(self) -> str:
        return self.input_label or self.label

    @property
    def title(self) -> str:
        """The fact's name with its unit, as a column title: 从业人员（人）."""
        return f"{self.label}（{self.unit}）" if self.unit else self.label

    @property
    def input_widget(self) -> Widget:
        return self.widget or _TYPE_WIDGETS[self.type]

    @property
    def golden_department(self) -> str:
        return self.golden_source or (self.shared_by[0] if self.shared_by else "")

    @property
    def flag_column(self) -> str:
        return self.projection_flag or f"{self.profile_key}_verified"

    def syntax(self, channel: Channel) -> NumberSyntax:
        return self.number_syntax[channel]

    def is_verified(self, evidence: Evidence | None) -> bool:
        return evidence is not None and sources_within(evidence.source, self.verified_sources)

    def show(self, evidence: Evidence | None, on: date) -> str:
        """The actual value behind a result in plain Chinese."""
        if isinstance(evidence, Fact):
            return self.display(evidence.value, on)
        return self.display(evidence, on)

    # --- overridden per value type -------------------------------------------------------------
    def validate_value(self, op: str, value: object) -> list[ValueProblem]:
        raise NotImplementedError

    def checker(self, op: str, value: Any) -> Checker:
        raise NotImplementedError

    def wording(self, op: str, value: Any, *, negated: bool = False) -> str:
        """The condition in plain Chinese ("行业属于：集成电路设计（6520）"); negated: its opposite."""
        raise NotImplementedError

    def short(self, op: str, value: Any, *, negated: bool = False) -> str:
        """A compact form for summaries (只差：高新技术企业资质); no "、" inside."""
        return self.wording(op, value, negated=negated)

    def display(self, value: Any, on: date) -> str:
        """An actual value (the `value` of an evidence `Fact`) in plain Chinese."""
        return str(value)

    def date_boundaries(self, op: str, value: Any) -> tuple[DateBoundary, ...]:
        """Where a condition's result may change with the evaluation date alone (core.dates); empty:
        never (the result reads the data only). A fact that reads the date must say where."""
        return ()

    # --- shared helpers ----------------------------------------------------------------------
    def _code_list(self, value: object, *, check: Callable[[str], ValueProblem | None]) -> list[ValueProblem]:
        if not isinstance(value, list):
            return [("value", "invalid_value", f"{self.label}的取值必须是列表")]
        if not value:
            return [("value", "invalid_value", f"{self.label}的取值列表不能为空")]
        if len(value) > MAX_LIST_ITEMS:
            return [("value", "invalid_value", f"{self.label}的取值最多{MAX_LIST_ITEMS}项")]
        problems: list[ValueProblem] = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item or len(item) > MAX_CODE_LENGTH:
                message = f"{self.label}的代码必须是不超过{MAX_CODE_LENGTH}个字符的非空字符串"
                problems.append((f"value[{i}]", "invalid_value", message))
                continue
            problem = check(item)
            if problem is not None:
                problems.append((f"value[{i}]", *problem[1:]))
        return problems


def _scalar_reader(key: str) -> Callable[[EnterpriseProfile, date], Fact | None]:
    def read(profile: EnterpriseProfile, on: date) -> Fact | None:
        return profile.fact(key)

    return read


def _membership_checker(key: str, wanted: frozenset[Any], *, inside: bool) -> Checker:
    def check(profile: EnterpriseProfile, on: date) -> CheckResult:
        fact = profile.facts.get(key)
        if fact is None:
            return _UNKNOWN_RESULT
        actual = fact.value
        if actual is None:
            return _UNKNOWN_RESULT
        try:
            found = actual in wanted
        except TypeError:  # an unhashable value in a bad profile: treat as not known
            return _UNKNOWN_RESULT
        return (MET, fact) if found is inside else (UNMET, fact)

    return check


class IndustryFact(FactSpec):
    __slots__ = ()

    def validate_value(self, op: str, value: object) -> list[ValueProblem]:
        def check(code: str) -> ValueProblem | None:
            if is_industry_code(code):
                return None
            return ("", "unknown_code", f"“{code}”不是GB/T 4754-2017中的行业代码（可用门类字母A–T或2、3、4位代码）")

        return self._code_list(value, check=check)

    def checker(self, op: str, value: Any) -> Checker:
        matches = IndustryMatcher(value)
        key = self.profile_key

        def check(profile: EnterpriseProfile, on: date) -> CheckResult:
            fact = profile.facts.get(key)
            if fact is None:
                return _UNKNOWN_RESULT
            code = fact.value
            if code.__class__ is not str or not code:
                return _UNKNOWN_RESULT
            return (MET, fact) if matches(code) else (UNMET, fact)

        return check

    def wording(self, op: str, value: Any, *, negated: bool = False) -> str:
        verb = "不属于" if negated else "属于"
        return f"行业{verb}：" + "、".join(industry_display(c) for c in value)

    def short(self, op: str, value: Any, *, negated: bool = False) -> str:
        if negated:
            return "行业不属于" + "及".join(industry_display(c) for c in value)
        return "行业属于" + "或".join(industry_display(c) for c in value)

    def display(self, value: Any, on: date) -> str:
        return industry_display(str(value))


class ChoiceFact(FactSpec):
    __slots__ = ()

    def validate_value(self, op: str, value: object) -> list[ValueProblem]:
        def check(code: str) -> ValueProblem | None:
            if code in self.choices:
                return None
            options = "、".join(self.choices)
            return ("", "unknown_code", f"“{code}”不是有效的{self.label}代码（可选：{options}）")

        return self._code_list(value, check=check)

    def checker(self, op: str, value: Any) -> Checker:
        return _membership_checker(self.profile_key, frozenset(value), inside=(op == "in"))

    def _names(self, value: Any, sep: str) -> str:
        return sep.join(self.choices.get(c, c) for c in value)

    def wording(self, op: str, value: Any, *, negated: bool = False) -> str:
        inside = (op == "in") is not negated
        return f"{self.label}{'为' if inside else '不为'}：{self._names(value, '、')}"

    def short(self, op: str, value: Any, *, negated: bool = False) -> str:
        inside = (op == "in") is not negated
        if inside:
            return f"{self.label}为{self._names(value, '或')}"
        return f"{self.label}不为{self._names(value, '及')}"

    def display(self, value: Any, on: date) -> str:
        return self.choices.get(value, str(value))


_COMPARE = {"gte": operator.ge, "gt": operator.gt, "lte": operator.le, "lt": operator.lt}
# partial(_SWAPPED[op], bound)(x) == _COMPARE[op](x, bound)
_SWAPPED = {"gte": operator.le, "gt": operator.lt, "lte": operator.ge, "lt": operator.gt}
_NEGATE_COMPARISON = {"gte": "lt", "gt": "lte", "lte": "gt", "lt": "gte"}
_DEFAULT_COMPARATIVES = {"gte": "不低于", "gt": "高于", "lte": "不高于", "lt": "低于"}


class NumberFact(FactSpec):
    """`employees`, `revenue`, `total_assets`, `rd_expense_ratio` (INTEGER or NUMBER values)."""

    __slots__ = ()

    def _number_problem(self, value: object) -> str | None:
        kind = "整数" if self.type is ValueType.INTEGER else "数字"
        if not _is_number(value):
            return f"{self.label}的取值必须是{kind}"
        if self.type is ValueType.INTEGER and not isinstance(value, int) and value != int(value):
            return f"{self.label}的取值必须是整数"
        if value < 0:
            return f"{self.label}的取值不能为负数"
        return None

    def validate_value(self, op: str, value: object) -> list[ValueProblem]:
        if op == "between":
            if not isinstance(value, list) or len(value) != 2:
                return [("value", "invalid_value", f"{self.label}的取值必须是[下限, 上限]两个数")]
            problems = [
                (f"value[{i}]", "invalid_value", problem)
                for i, v in enumerate(value)
                if (problem := self._number_problem(v))
            ]
            if not problems and value[0] > value[1]:
                lo, hi = (format_number(v) for v in value)
                problems.append(("value", "invalid_value", f"{self.label}的下限{lo}大于上限{hi}"))
            return problems
        problem = self._number_problem(value)
        return [("value", "invalid_value", problem)] if problem else []

    def normalize(self, value: Any) -> int | Decimal:
        if self.type is ValueType.INTEGER:
            return int(value)
        if isinstance(value, float):
            return _to_decimal(value)
        return value

    def _actual(self, profile: EnterpriseProfile, on: date) -> tuple[Any, Fact | None]:
        fact = profile.facts.get(self.profile_key)
        if fact is None:
            return None, None
        return fact.value, fact

    def checker(self, op: str, value: Any) -> Checker:
        key = self.profile_key
        if op == "between":
            lo, hi = self.normalize(value[0]), self.normalize(value[1])

            def test(x: Any) -> bool:
                return lo <= x <= hi
        else:
            # operator.ge(x, bound) etc. directly: no Python-level call in the hot path
            test = functools.partial(_SWAPPED[op], self.normalize(value))

        def check(profile: EnterpriseProfile, on: date) -> CheckResult:
            fact = profile.facts.get(key)
            if fact is None:
                return _UNKNOWN_RESULT
            x = fact.value
            if x is None or x.__class__ is bool:
                return _UNKNOWN_RESULT
            if x.__class__ is float:
                x = _to_decimal(x)
            try:
                return (MET, fact) if test(x) else (UNMET, fact)
            except (TypeError, ArithmeticError):  # a non-number in a bad profile: not known
                return _UNKNOWN_RESULT

        return check

    def _amount(self, value: Any) -> str:
        return f"{format_number(value)}{self.unit}"

    def wording(self, op: str, value: Any, *, negated: bool = False) -> str:
        words = {**_DEFAULT_COMPARATIVES, **self.phrases}
        if op == "between":
            lo, hi = (self._amount(v) for v in value)
            if negated:
                return f"{self.label}{words['lt']}{lo}或{words['gt']}{hi}"
            return f"{self.label}在{lo}至{hi}之间（含本数）"
        if negated:
            op = _NEGATE_COMPARISON[op]
        return f"{self.label}{words[op]}{self._amount(value)}"

    def display(self, value: Any, on: date) -> str:
        return self._amount(value)


def _age_on(established: date, on: date) -> int:
    """Whole years from establishment to `on`: the anniversary day itself counts (a 29 Feb
    establishment completes its year on 1 March in non-leap years)."""
    return on.year - established.year - ((on.month, on.day) < (established.month, established.day))


def _read_age(profile: EnterpriseProfile, on: date) -> Fact | None:
    fact = profile.fact("established_on")
    if fact is None or not isinstance(fact.value, date):
        return None
    return Fact(value=_age_on(fact.value, on), source=fact.source, as_of=fact.as_of)


class AgeFact(NumberFact):
    """`age_years`: whole years since `established_on`, as of the evaluation date."""

    __slots__ = ()

    def checker(self, op: str, value: Any) -> Checker:
        if op == "between":
            lo, hi = int(value[0]), int(value[1])

            def test(x: int) -> bool:
                return lo <= x <= hi
        else:
            test = functools.partial(_SWAPPED[op], int(value))

        def check(profile: EnterpriseProfile, on: date) -> CheckResult:
            # The evidence is the established_on fact itself: the result rests on its source and date.
            fact = profile.facts.get("established_on")
            if fact is None:
                return _UNKNOWN_RESULT
            d = fact.value
            if not isinstance(d, date):
                return _UNKNOWN_RESULT
            years = on.year - d.year - ((on.month, on.day) < (d.month, d.day))
            return (MET, fact) if test(years) else (UNMET, fact)

        return check

    def display(self, value: Any, on: date) -> str:
        if isinstance(value, date):
            return f"{_age_on(value, on)}年（{value.isoformat()}成立）"
        return self._amount(value)

    def date_boundaries(self, op: str, value: Any) -> tuple[DateBoundary, ...]:
        """The ages at which the test flips: x >= k and x < k at k; x > k and x <= k at k + 1;
        between [a, b] at a and b + 1."""
        if op == "between":
            ages = [int(value[0]), int(value[1]) + 1]
        else:
            ages = [int(value) + (1 if op in ("gt", "lte") else 0)]
        return tuple(Anniversary(self.profile_key, years) for years in sorted(set(ages)))


def _read_qualifications(profile: EnterpriseProfile, on: date) -> Fact | None:
    valid = [q for q in profile.qualifications if q.valid_on(on)]
    source, as_of = _weakest(valid, DEPARTMENT_SOURCES)
    # Never unknown: the list of qualifications is what the enterprise holds (empty: none).
    return Fact(value=tuple(sorted({q.kind for q in valid})), source=source, as_of=as_of)


class QualificationFact(FactSpec):
    """`has`: a qualification of that kind valid on the evaluation date.

    No record of the kind means the enterprise does not hold it (unmet, with no evidence, so an
    outcome decided by the absence is not verified); records of the kind that are not valid on the
    date (expired, not yet in force) are the evidence for unmet.
    """

    __slots__ = ()

    def validate_value(self, op: str, value: object) -> list[ValueProblem]:
        if not isinstance(value, str):
            return [("value", "invalid_value", f"{self.label}的取值必须是一个资质代码")]
        if value not in self.choices:
            options = "、".join(self.choices)
            return [("value", "unknown_code", f"“{value}”不是有效的资质代码（可选：{options}）")]
        return []

    def checker(self, op: str, value: Any) -> Checker:
        kind = value
        verified = self.verified_sources

        def check(profile: EnterpriseProfile, on: date) -> CheckResult:
            chosen: QualificationRecord | None = None
            lapsed: list[QualificationRecord] = []
            for q in profile.qualifications:
                if q.kind != kind:
                    continue
                if q.valid_from <= on and (q.valid_to is None or on <= q.valid_to):
                    if q.source in verified:  # prefer a department record when there are several
                        return MET, q
                    if chosen is None:
                        chosen = q
                else:
                    lapsed.append(q)
            if chosen is not None:
                return MET, chosen
            if lapsed:
                source, as_of = _weakest(lapsed, verified)
                return UNMET, Fact(value=tuple(lapsed), source=source, as_of=as_of)
            return UNMET, None

        return check

    def _name(self, value: Any) -> str:
        return self.choices.get(value, str(value))

    def date_boundaries(self, op: str, value: Any) -> tuple[DateBoundary, ...]:
        return (Validity(str(value)),)

    def wording(self, op: str, value: Any, *, negated: bool = False) -> str:
        return f"{'未持有' if negated else '持有'}有效的{self._name(value)}资质"

    def short(self, op: str, value: Any, *, negated: bool = False) -> str:
        return f"{'未持有' if negated else ''}{self._name(value)}资质"

    def display(self, value: Any, on: date) -> str:
        if value is None or value == ():
            return "无"
        if isinstance(value, QualificationRecord):
            records: tuple[QualificationRecord, ...] = (value,)
        elif isinstance(value, tuple) and all(isinstance(v, QualificationRecord) for v in value):
            records = value
        else:  # the whole-fact reading: a tuple of kind codes
            return "、".join(self._name(k) for k in value) or "无"
        parts = []
        for q in records:
            # date.min: no start date was declared (政策计算器), so none is shown.
            start = "" if q.valid_from == date.min else q.valid_from.isoformat()
            # No dates at all: the visitor only said it is held, so no period (not even 长期) is claimed.
            open_ended = f"{start}起长期" if start else "未填写有效期"
            period = f"{start}至{q.valid_to.isoformat()}" if q.valid_to else open_ended
            if q.valid_on(on):
                state = "有效"
            elif q.valid_from > on:
                state = "尚未生效"
            else:
                state = "已过期"
            number = f"，证书编号{q.certificate_no}" if q.certificate_no else ""
            parts.append(f"{self._name(q.kind)}（{state}，{period}{number}）")
        return "；".join(parts)


class PlaceFact(FactSpec):
    """`zone` / `park` with op `in`: any of the enterprise's sites (一照多址) lies in a listed place.

    Unknown when the enterprise has no site on record, or (zone) when no site matches and some
    site's zone is not known; unmet only when every site is known to lie elsewhere.
    """

    __slots__ = ()

    def validate_value(self, op: str, value: object) -> list[ValueProblem]:
        def check(code: str) -> ValueProblem | None:
            if _PLACE_CODE.fullmatch(code):
                return None
            return ("", "invalid_value", f"“{code}”不是有效的{self.label}代码（只能使用小写字母、数字和下划线）")

        return self._code_list(value, check=check)

    def _codes(self, site: SiteRecord) -> tuple[str, ...] | None:
        if self.name == "zone":
            return None if site.zone_code is None else (site.zone_code,)
        return site.park_codes

    def checker(self, op: str, value: Any) -> Checker:
        wanted = frozenset(value)
        verified = self.verified_sources
        codes_of = self._codes

        def unmet(sites: tuple[SiteRecord, ...]) -> CheckResult:
            source, as_of = _weakest(sites, verified)
            everywhere = tuple(dict.fromkeys(code for site in sites for code in codes_of(site) or ()))
            return UNMET, Fact(value=everywhere, source=source, as_of=as_of)

        def check_zone(profile: EnterpriseProfile, on: date) -> CheckResult:
            sites = profile.sites
            if not sites:
                return _UNKNOWN_RESULT
            chosen: SiteRecord | None = None
            undetermined = False
            for site in sites:
                zone = site.zone_code
                if zone is None:
                    undetermined = True
                elif zone in wanted:
                    if site.source in verified:  # prefer a verified site when several match
                        return MET, site
                    if chosen is None:
                        chosen = site
            if chosen is not None:
                return MET, chosen
            return _UNKNOWN_RESULT if undetermined else unmet(sites)

        def check_park(profile: EnterpriseProfile, on: date) -> CheckResult:
            sites = profile.sites
            if not sites:
                return _UNKNOWN_RESULT
            chosen: SiteRecord | None = None
            for site in sites:
                if not wanted.isdisjoint(site.park_codes):
                    if site.source in verified:
                        return MET, site
                    if chosen is None:
                        chosen = site
            if chosen is not None:
                return MET, chosen
            return unmet(sites)

        return check_zone if self.name == "zone" else check_park

    def _read(self, profile: EnterpriseProfile, on: date) -> Fact | None:
        if not profile.sites:
            return None
        found: list[str] = []
        for site in profile.sites:
            codes = self._codes(site)
            if codes is None:
                return None
            found.extend(codes)
        source, as_of = _weakest(profile.sites, DEPARTMENT_SOURCES)
        return Fact(value=tuple(dict.fromkeys(found)), source=source, as_of=as_of)

    def _names(self, value: Any, sep: str) -> str:
        return sep.join(self.choices.get(c, c) for c in value)

    def wording(self, op: str, value: Any, *, negated: bool = False) -> str:
        return f"经营场所{'均不位于' if negated else '位于'}：{self._names(value, '、')}"

    def short(self, op: str, value: Any, *, negated: bool = False) -> str:
        if negated:
            return f"经营场所均不位于{self._names(value, '及')}"
        return f"经营场所位于{self._names(value, '或')}"

    def display(self, value: Any, on: date) -> str:
        if isinstance(value, SiteRecord):  # the site a met condition rests on
            value = self._codes(value) or ()
        if isinstance(value, str):
            return self.choices.get(value, value)
        if not value:
            return self.phrases.get("none", "无")
        return self._names(value, "、")


class BooleanFact(FactSpec):
    """`eq` true/false; `phrases` holds the wording for "true" and "false"."""

    __slots__ = ()

    def validate_value(self, op: str, value: object) -> list[ValueProblem]:
        if not isinstance(value, bool):
            return [("value", "invalid_value", f"{self.label}的取值必须是 true 或 false")]
        return []

    def checker(self, op: str, value: Any) -> Checker:
        key = self.profile_key
        expected = bool(value)

        def check(profile: EnterpriseProfile, on: date) -> CheckResult:
            fact = profile.facts.get(key)
            if fact is None:
                return _UNKNOWN_RESULT
            actual = fact.value
            if actual.__class__ is not bool:
                return _UNKNOWN_RESULT
            return (MET, fact) if actual is expected else (UNMET, fact)

        return check

    def wording(self, op: str, value: Any, *, negated: bool = False) -> str:
        return self.phrases["true" if bool(value) is not negated else "false"]

    def display(self, value: Any, on: date) -> str:
        if isinstance(value, bool):
            return self.phrases["true" if value else "false"]
        return str(value)


class CountryFact(FactSpec):
    __slots__ = ()

    def validate_value(self, op: str, value: object) -> list[ValueProblem]:
        def check(code: str) -> ValueProblem | None:
            if _COUNTRY_CODE.fullmatch(code):
                return None
            return ("", "invalid_value", f"“{code}”不是有效的国家或地区代码（ISO 3166 两位大写字母）")

        return self._code_list(value, check=check)

    def checker(self, op: str, value: Any) -> Checker:
        return _membership_checker(self.profile_key, frozenset(value), inside=True)

    def _names(self, value: Any, sep: str) -> str:
        return sep.join(self.choices.get(c, c) for c in value)

    def wording(self, op: str, value: Any, *, negated: bool = False) -> str:
        return f"{self.label}{'不为' if negated else '为'}：{self._names(value, '、')}"

    def short(self, op: str, value: Any, *, negated: bool = False) -> str:
        if negated:
            return f"{self.label}不为{self._names(value, '及')}"
        return f"{self.label}为{self._names(value, '或')}"

    def display(self, value: Any, on: date) -> str:
        if value == "":
            return "无外资"
        return self.choices.get(value, str(value))


_NUMERIC_OPS = ("gte", "gt", "lte", "lt", "between")
# Upper bounds of what an enterprise can declare, far above any real one (the largest employers have
# a few million staff; the largest balance sheets are tens of 万亿元), so only absurd input is refused.
MAX_EMPLOYEES = 10_000_000  # 人
MAX_AMOUNT_WAN = Decimal("10000000000")  # 万元 (100 万亿元)
# A percentage, as the enterprise register stores it (its check constraint is 0–100).
MAX_RD_RATIO = Decimal("100")  # %
MAX_AGE_YEARS = 200  # 年
# Far above the largest patent portfolios (a few hundred thousand), so only absurd input is refused.
MAX_PATENTS = 10_000_000  # 件
_PERSON_COMPARATIVES = {"gte": "不少于", "gt": "多于", "lte": "不超过", "lt": "少于"}


# --- demo data generators (sample data, never official figures) -----------------------------------
def _share_of_staff(low: float, high: float, known_rate: float) -> Callable[[random.Random, Mapping[str, Any]], Any]:
    """A head-count that is a share of the enterprise's employees (unknown when they are)."""

    def sample(rng: random.Random, known: Mapping[str, Any]) -> int | None:
        employees = known.get("employees")
        if employees is None or rng.random() >= known_rate:
            return None
        return round(int(employees) * rng.uniform(low, high))

    return sample


def _sample_patents(rng: random.Random, known: Mapping[str, Any]) -> int | None:
    if rng.random() >= 0.5:
        return None
    return 0 if rng.random() < 0.4 else round(10 ** rng.uniform(0, 2.3))


def _build() -> dict[str, FactSpec]:
    zone = PlaceFact(
        name="zone",
        label="所在功能区",
        type=ValueType.PLACE,
        operators=("in",),
        read=lambda profile, on: zone._read(profile, on),
        input_label="经营场所所在功能区",
        choices=ZONES,
    )
    park = PlaceFact(
        name="park",
        label="所在园区",
        type=ValueType.PLACE,
        operators=("in",),
        read=lambda profile, on: park._read(profile, on),
        input_label="经营场所所在园区",
        choices=PARKS,
        phrases={"none": "不在特色园区内"},
    )
    specs: list[FactSpec] = [
        IndustryFact(
            name="industry",
            label="所属行业",
            type=ValueType.INDUSTRY,
            operators=("under",),
            read=_scalar_reader("industry_code"),
            profile_key="industry_code",
            stored=Stored(input_length=10),
            shared_by=("market_regulation",),
            aliases=("行业代码", "国民经济行业代码"),
            example="6520",
            projection_flag="industry_verified",
        ),
        ChoiceFact(
            name="size",
            label="企业规模",
            type=ValueType.CHOICE,
            operators=("in", "not_in"),
            read=_scalar_reader("size"),
            choices=SIZES,
            profile_key="size",
            # Derived from industry and figures (portal.enterprises.sizing), never stored as typed.
            golden_source="statistics",
            example="small",
        ),
        NumberFact(
            name="employees",
            label="从业人员",
            type=ValueType.INTEGER,
            operators=_NUMERIC_OPS,
            read=_scalar_reader("employees"),
            unit="人",
            phrases=_PERSON_COMPARATIVES,
            profile_key="employees",
            maximum=MAX_EMPLOYEES,
            stored=Stored(),
            shared_by=("statistics",),
            aliases=("从业人员", "从业人员数"),
            example=80,
        ),
        NumberFact(
            name="revenue",
            label="营业收入",
            type=ValueType.NUMBER,
            operators=_NUMERIC_OPS,
            read=_scalar_reader("revenue"),
            unit="万元",
            profile_key="revenue",
            maximum=MAX_AMOUNT_WAN,
            stored=Stored(digits=16, places=2),
            shared_by=("tax", "statistics"),
            aliases=("营业收入",),
            example=5000,
        ),
        NumberFact(
            name="total_assets",
            label="资产总额",
            type=ValueType.NUMBER,
            operators=_NUMERIC_OPS,
            read=_scalar_reader("total_assets"),
            unit="万元",
            profile_key="total_assets",
            maximum=MAX_AMOUNT_WAN,
            stored=Stored(digits=16, places=2),
            shared_by=("tax", "statistics"),
            golden_source="statistics",
            aliases=("资产总额",),
            example=3000,
        ),
        NumberFact(
            name="rd_expense_ratio",
            label="研发费用占营业收入比例",
            type=ValueType.NUMBER,
            operators=_NUMERIC_OPS,
            read=_scalar_reader("rd_expense_ratio"),
            unit="%",
            profile_key="rd_expense_ratio",
            maximum=MAX_RD_RATIO,
            stored=Stored(digits=5, places=2, maximum=MAX_RD_RATIO, projection_digits=12),
            shared_by=("science_tech",),
            # The ratio is computed from the tax return's figures (研发费用加计扣除).
            golden_source="tax",
            aliases=("研发费用占比",),
            example=8.5,
        ),
        AgeFact(
            name="age_years",
            label="成立年限",
            type=ValueType.INTEGER,
            operators=_NUMERIC_OPS,
            read=_read_age,
            input_label="成立日期",
            widget=Widget.DATE,  # asked as the establishment date; the age follows from it
            unit="年",
            phrases={"gte": "不少于", "gt": "超过", "lte": "不超过", "lt": "不满"},
            profile_key="established_on",
            maximum=MAX_AGE_YEARS,
            stored=Stored(),
            shared_by=("market_regulation",),
            example="2018-05-01",
        ),
        QualificationFact(
            name="qualification",
            label="企业资质",
            type=ValueType.QUALIFICATION,
            operators=("has",),
            read=_read_qualifications,
            choices=QUALIFICATION_KINDS,
        ),
        zone,
        park,
        ChoiceFact(
            name="tax_credit_rating",
            label="纳税信用等级",
            type=ValueType.CHOICE,
            operators=("in", "not_in"),
            read=_scalar_reader("tax_credit_rating"),
            # The rating is the tax bureau's; the credit platform republishes it.
            verified_sources=frozenset({"tax", "credit"}),
            choices=TAX_CREDIT_RATINGS,
            profile_key="tax_credit_rating",
            stored=Stored(input_length=2),
            shared_by=("tax",),
            aliases=("纳税信用等级",),
            example="A",
        ),
        BooleanFact(
            name="dishonest",
            label="失信主体认定",
            type=ValueType.BOOLEAN,
            operators=("eq",),
            read=_scalar_reader("dishonest"),
            input_label="是否被列为失信主体",
            phrases={"true": "被列为失信主体", "false": "未被列为失信主体"},
            profile_key="dishonest",
            statement="本企业未被列入失信被执行人等失信名单",
            statement_value=False,
            stored=Stored(),
            profile_form=False,  # the credit platform's finding, not the enterprise's to state
            shared_by=("credit",),
            aliases=("严重失信",),
            example=False,
        ),
        BooleanFact(
            name="above_designated_size",
            label="规模以上企业",
            type=ValueType.BOOLEAN,
            operators=("eq",),
            read=_scalar_reader("above_designated_size"),
            input_label="是否为规模以上企业",
            phrases={"true": "属于规模以上企业", "false": "不属于规模以上企业"},
            profile_key="above_designated_size",
            stored=Stored(),
            shared_by=("statistics",),
            aliases=("规上企业", "是否规上"),
            example=True,
        ),
        CountryFact(
            name="foreign_investor_country",
            label="外资来源国（地区）",
            type=ValueType.COUNTRY,
            operators=("in",),
            read=_scalar_reader("foreign_investor_country"),
            choices=COUNTRIES,
            profile_key="foreign_investor_country",
            stored=Stored(input_length=10),
            profile_form=False,  # from the registration (market regulation)
            shared_by=("market_regulation",),
            aliases=("外资来源",),
            example="",
        ),
        # The district's talent and innovation policies count these. Sources are the departments that
        # hold the records: social insurance contributions are collected by the tax bureau (社保费由税务
        # 部门征收); invention patents are registered under market regulation (知识产权); R&D staff are
        # reported to science and technology and in the statistics survey (研发活动统计).
        NumberFact(
            name="social_insurance_staff",
            label="社保缴纳人数",
            type=ValueType.INTEGER,
            operators=_NUMERIC_OPS,
            read=_scalar_reader("social_insurance_staff"),
            unit="人",
            phrases=_PERSON_COMPARATIVES,
            profile_key="social_insurance_staff",
            maximum=MAX_EMPLOYEES,
            stored=Stored(),
            shared_by=("tax",),
            aliases=("社保缴纳人数", "参保人数", "社保人数"),
            example=72,
            sample=_share_of_staff(0.6, 1.0, known_rate=0.8),
        ),
        NumberFact(
            name="invention_patents",
            label="有效发明专利数",
            type=ValueType.INTEGER,
            operators=_NUMERIC_OPS,
            read=_scalar_reader("invention_patents"),
            unit="件",
            phrases=_PERSON_COMPARATIVES,  # the same words for counts of patents
            profile_key="invention_patents",
            maximum=MAX_PATENTS,
            stored=Stored(),
            shared_by=("market_regulation",),
            aliases=("有效发明专利数", "有效发明专利", "发明专利数"),
            example=6,
            sample=_sample_patents,
        ),
        NumberFact(
            name="rd_staff",
            label="研发人员数",
            type=ValueType.INTEGER,
            operators=_NUMERIC_OPS,
            read=_scalar_reader("rd_staff"),
            unit="人",
            phrases=_PERSON_COMPARATIVES,
            profile_key="rd_staff",
            maximum=MAX_EMPLOYEES,
            stored=Stored(),
            shared_by=("science_tech", "statistics"),
            aliases=("研发人员数", "研发人员"),
            example=18,
            sample=_share_of_staff(0.05, 0.4, known_rate=0.6),
        ),
    ]
    return {spec.name: spec for spec in specs}


FACTS: Mapping[str, FactSpec] = _build()


def fact_spec(name: str) -> FactSpec:
    """The spec for a fact name; KeyError for an unknown one."""
    return FACTS[name]


# --- derived views of the definitions ---------------------------------------------------------------


def stored_facts() -> tuple[FactSpec, ...]:
    """The facts the enterprise register holds in its own columns (named profile_key), in registry order."""
    return tuple(spec for spec in FACTS.values() if spec.stored is not None)


def scalar_facts() -> tuple[FactSpec, ...]:
    """The facts read from one profile key (stored or derived): the matching projection's columns."""
    return tuple(spec for spec in FACTS.values() if spec.profile_key)


def facts_shared_by(department: str) -> tuple[str, ...]:
    """The profile keys a department's feed may set, in registry order."""
    return tuple(spec.profile_key for spec in stored_facts() if department in spec.shared_by)


def sample_facts(rng: random.Random, known: Mapping[str, Any], *, names: Iterable[str]) -> dict[str, Any]:
    """Demo values (sample data) for the named facts, from their definitions' generators, keyed by
    profile key; a fact whose generator leaves it unknown is None. Each draws in turn from `rng`."""
    values: dict[str, Any] = {}
    for name in names:
        spec = FACTS[name]
        if spec.sample is None:
            raise ValueError(f"fact {name} has no demo generator")
        values[spec.profile_key] = spec.sample(rng, {**known, **values})
    return values


def generated_facts() -> tuple[str, ...]:
    """The facts whose demo data comes from their definition's generator (the rest are hand-tuned)."""
    return tuple(spec.name for spec in FACTS.values() if spec.sample is not None)


# Bumped whenever place names change, so that caches of compiled (worded) rules can tell.
_names_version = 0


def names_version() -> int:
    return _names_version


def set_place_names(*, zones: Mapping[str, str] | None = None, parks: Mapping[str, str] | None = None) -> None:
    """Use administrators' zone / park names (from the database) in wording instead of the initial ones.

    Codes not given keep their current name; a code with no name at all is shown as the code.
    """
    global _names_version
    for spec_name, names in (("zone", zones), ("park", parks)):
        if names:
            merged = {**FACTS[spec_name].choices, **names}
            object.__setattr__(FACTS[spec_name], "choices", merged)
    _names_version += 1
