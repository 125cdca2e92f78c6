"""The staff rule builder: rows of fact / operator / value under one top-level all / any, to and from rule JSON.

Rows are shown from a rule's parsed tree (matching.core.tree); rows are turned back into the rule's JSON as
typed, valid or not, so that `parse_rule` can name each problem by its path (all[2].value) on its row.
Validation and wording are matching.core.rules / matching.core.describe's. A rule the rows cannot show
(nested groups, `not`) is edited as raw JSON instead. Besides facts, a row may be an
attestation (企业承诺) or a judgement (主管部门认定): a condition no data decides, entered as its wording
(and, for a judgement, the department), which the evaluator never reports as met.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.http import QueryDict

from matching.core.registry import FACTS, OPERATOR_LABELS, ValueType
from matching.core.rules import RuleError, as_tree
from matching.core.tree import AllOf, AnyOf, Attestation, Judgement, Leaf, Not
from portal.api.parsers import JSONLimitError, loads_bounded

_ROW_KEY = re.compile(r"^r(\d+)_fact$")
_PATH_ROW = re.compile(r"^(?:all|any)\[(\d+)\]")
MULTI_TYPES = (ValueType.CHOICE, ValueType.PLACE, ValueType.COUNTRY)
# Row "facts" for conditions no data decides (rules.PENDING_KINDS), as the fact menu offers them.
PENDING_CHOICES = {"attest": "企业承诺（无数据可核验）", "judge": "主管部门认定（无数据可核验）"}


@dataclass
class Row:
    index: int
    fact: str = ""
    op: str = ""
    values: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    department: str = ""  # a judgement's department ("" → 主管部门)

    @property
    def spec(self) -> Any:
        return FACTS.get(self.fact)

    @property
    def pending(self) -> bool:
        """An attestation or judgement row: wording instead of operator and value."""
        return self.fact in PENDING_CHOICES

    @property
    def text(self) -> str:
        return ",".join(self.values)

    def operators(self) -> list[tuple[str, str]]:
        spec = self.spec
        return [(op, OPERATOR_LABELS.get(op, op)) for op in spec.operators] if spec else []

    def widget(self) -> str:
        """checkboxes / select / boolean / number / text: how the value is entered for this fact."""
        spec = self.spec
        if self.pending:
            return "wording"
        if spec is None:
            return "text"
        if spec.type in MULTI_TYPES:
            return "checkboxes"
        if spec.type == ValueType.QUALIFICATION:
            return "select"
        if spec.type == ValueType.BOOLEAN:
            return "boolean"
        if spec.type in (ValueType.INTEGER, ValueType.NUMBER) and self.op != "between":
            return "number"
        return "text"

    def choices(self) -> list[tuple[str, str]]:
        spec = self.spec
        return list(spec.choices.items()) if spec else []

    def hint(self) -> str:
        spec = self.spec
        if spec is None:
            return ""
        if spec.type == ValueType.INDUSTRY:
            return "GB/T 4754-2017 行业代码（门类字母或2–4位数字），多个用逗号分隔"
        if self.op == "between":
            return f"下限,上限（{spec.unit}）" if spec.unit else "下限,上限"
        return f"单位：{spec.unit}" if spec.unit else ""


def fact_choices() -> list[tuple[str, str]]:
    return [(name, spec.label) for name, spec in FACTS.items()] + list(PENDING_CHOICES.items())


# The value a new row starts with, where the first choice would be the wrong guess: a 失信 condition
# almost always means "not 失信", and a select with nothing selected would show (and submit) 是.
NEW_ROW_VALUES: dict[str, list[str]] = {"dishonest": ["false"]}


def new_row(index: int, fact: str = "") -> Row:
    if fact in PENDING_CHOICES:
        return Row(index=index, fact=fact)
    fact = fact if fact in FACTS else next(iter(FACTS))
    return Row(index=index, fact=fact, op=FACTS[fact].operators[0], values=list(NEW_ROW_VALUES.get(fact, [])))


def rows_from_post(data: QueryDict) -> list[Row]:
    """The rows posted by the builder, in index order (a row whose fact changed gets a valid operator)."""
    indices = sorted(int(m.group(1)) for key in data for m in [_ROW_KEY.match(key)] if m)
    rows = []
    for i in indices:
        fact = data.get(f"r{i}_fact", "")
        op = data.get(f"r{i}_op", "")
        spec = FACTS.get(fact)
        if spec is not None and op not in spec.operators:
            op = spec.operators[0]
        values = [v.strip() for v in data.getlist(f"r{i}_value") if v.strip()]
        if fact in PENDING_CHOICES:
            department = data.get(f"r{i}_department", "").strip() if fact == "judge" else ""
            rows.append(Row(index=i, fact=fact, op="", values=values[:1], department=department))
            continue
        rows.append(Row(index=i, fact=fact, op=op, values=values))
    return rows


def _number(text: str) -> Any:
    try:
        number = Decimal(text.replace("，", ",").strip())
    except InvalidOperation:
        return text  # left as typed: validate_rule names the path and says why
    return int(number) if number == number.to_integral_value() else float(number)


def _value(row: Row) -> Any:
    spec = row.spec
    if spec is None:
        return row.text
    if spec.type == ValueType.INDUSTRY:
        parts = [p.strip().upper() for p in re.split(r"[,，\s]+", row.text) if p.strip()]
        return parts
    if spec.type in MULTI_TYPES:
        return list(row.values)
    if spec.type == ValueType.QUALIFICATION:
        return row.values[0] if row.values else ""
    if spec.type == ValueType.BOOLEAN:
        return {"true": True, "false": False}.get(row.values[0] if row.values else "", "")
    if row.op == "between":
        return [_number(p) for p in re.split(r"[,，]", row.text) if p.strip()]
    return _number(row.values[0]) if row.values else ""


def _condition(row: Row) -> dict[str, Any]:
    if row.pending:
        # An empty wording stays empty: validate_rule names the row and says the wording is needed.
        node: dict[str, Any] = {row.fact: row.values[0] if row.values else ""}
        if row.department:
            node["department"] = row.department
        return node
    return {"fact": row.fact, "op": row.op, "value": _value(row)}


def rule_from_rows(combinator: str, rows: list[Row]) -> dict[str, Any]:
    conditions = [_condition(row) for row in rows]
    return {"any" if combinator == "any" else "all": conditions}


def _row(index: int, leaf: Leaf) -> Row:
    """The builder row showing one condition of a parsed rule."""
    if isinstance(leaf, Attestation):
        return Row(index=index, fact=leaf.kind, values=[leaf.text])
    if isinstance(leaf, Judgement):
        return Row(index=index, fact=leaf.kind, values=[leaf.text], department=leaf.department)
    value = leaf.value
    if isinstance(value, tuple):
        values = [str(v).lower() if isinstance(v, bool) else str(v) for v in value]
        if leaf.spec.type == ValueType.INDUSTRY or leaf.op == "between":
            values = [",".join(values)]
    else:
        values = [str(value).lower() if isinstance(value, bool) else str(value)]
    return Row(index=index, fact=leaf.fact, op=leaf.op, values=values)


def rows_from_rule(rule: Any) -> tuple[str, list[Row]] | None:
    """(combinator, rows) for a flat rule (its JSON or its tree): conditions, alone or under one
    `all` / `any`. None when the rule has nested groups or `not`, or does not parse (edit as JSON)."""
    try:
        tree = as_tree(rule)
    except RuleError:
        return None
    if isinstance(tree, AllOf | AnyOf):
        combinator, children = tree.kind, tree.children
    elif isinstance(tree, Not):
        return None
    else:
        combinator, children = "all", (tree,)
    leaves = [child for child in children if not isinstance(child, AllOf | AnyOf | Not)]
    if len(leaves) != len(children):
        return None
    return combinator, [_row(index, leaf) for index, leaf in enumerate(leaves)]


_JSON_REASONS = {
    "Expecting value": "缺少取值",
    "Expecting property name enclosed in double quotes": "键名须用英文双引号括起，或有多余的逗号",
    "Expecting ',' delimiter": "缺少逗号",
    "Expecting ':' delimiter": "缺少冒号",
    "Extra data": "规则之后有多余内容",
    "Unterminated string starting at": "字符串缺少结尾的引号",
    "Invalid control character at": "字符串中有换行等控制字符",
}


def parse_json(text: str) -> tuple[Any, str]:
    """(rule, "") or (None, error message) for the expert's raw JSON."""
    try:
        return loads_bounded(text), ""
    except JSONLimitError as error:
        return None, f"JSON格式错误：{error}"
    except json.JSONDecodeError as error:
        # json's own message is English; the position is what helps, plus the usual causes in words.
        reason = _JSON_REASONS.get(error.msg.split(":")[0], "无法解析")
        return None, f"JSON格式错误：第{error.lineno}行第{error.colno}列，{reason}"


def rule_from_post(data: QueryDict) -> tuple[Any, list[Row], str, str]:
    """(rule, rows, combinator, json error) from the editor's form: the JSON box when "以JSON为准" is ticked."""
    combinator = data.get("combinator", "all")
    rows = rows_from_post(data)
    if data.get("use_json"):
        rule, error = parse_json(data.get("rule_json", ""))
        return rule, rows, combinator, error
    return rule_from_rows(combinator, rows), rows, combinator, ""


def attach_errors(rows: list[Row], problems: list[dict[str, str]]) -> list[dict[str, str]]:
    """Put each problem on the row its path names (all[2] → the third row); return those left over."""
    by_position = dict(enumerate(rows))
    left = []
    for problem in problems:
        path = problem["field"].removeprefix("rule").lstrip(".")
        match = _PATH_ROW.match(path)
        row = by_position.get(int(match.group(1))) if match else None
        if row is not None:
            row.errors.append(f"{path_words(path)}：{problem['message']}")
        else:
            left.append(problem)
    return left


_PATH_PART = re.compile(
    r"(all|any)(?:\[(\d+)\])?|(not)|(value|op|fact|attest|judge|department)(?:\[(\d+)\])?|([^.\[\]]+)"
)
_PART_LABELS = {
    "value": "取值",
    "op": "判断方式",
    "fact": "信息项",
    "attest": "承诺内容",
    "judge": "认定事项",
    "department": "认定部门",
}


def path_words(field: str) -> str:
    """A rule problem's node path in words for a page: "rule.all[0].value[1]" → "第1个条件 › 取值第2项".

    The API keeps the path itself (a stable `field`); people read 第N个条件.
    """
    path = field.removeprefix("rule").lstrip(".")
    if not path:
        return "整条规则"
    parts = []
    for match in _PATH_PART.finditer(path):
        group, index, negation, key, item, other = match.groups()
        if group:
            parts.append(f"第{int(index) + 1}个条件" if index is not None else "条件组")
        elif negation:
            parts.append("“不满足”分组")
        elif key:
            parts.append(_PART_LABELS[key] + (f"第{int(item) + 1}项" if item is not None else ""))
        else:
            parts.append(f"“{other}”")  # a key typed in the JSON box: quoted as typed
    return " › ".join(parts)
