"""Plain-Chinese descriptions of rules for public policy pages (申报条件), from the fact registry's wording.

`not` is pushed down to the conditions (De Morgan), so readers never meet "不满足以下全部…": each
negated condition has its own opposite wording (未持有…, 行业不属于…). Attestations and
judgements read "企业承诺：…" and "经主管部门认定：…" (validation keeps them out of `not`).
No Django imports.
"""

from __future__ import annotations

from typing import Any

from .registry import FACTS
from .rules import RuleError, pending_kind, validate_rule

_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def _number(i: int) -> str:
    return _CIRCLED[i] if i < len(_CIRCLED) else f"（{i + 1}）"


def _flatten(node: dict[str, Any], negated: bool) -> tuple[str, list[tuple[dict[str, Any], bool]]]:
    """("all" | "any" | "cond", items) after pushing `not` down; same-kind groups are merged."""
    while "not" in node:
        node, negated = node["not"], not negated
    if "all" in node or "any" in node:
        key = "all" if "all" in node else "any"
        kind = key if not negated else ("any" if key == "all" else "all")  # De Morgan
        items: list[tuple[dict[str, Any], bool]] = []
        for child in node[key]:
            child_kind, child_items = _flatten(child, negated)
            if child_kind == kind:
                items.extend(child_items)
            else:
                items.append((child, negated))
        return kind, items
    return "cond", [(node, negated)]


def _phrase(node: dict[str, Any], negated: bool, level: int) -> str:
    """Level 0: a line of its own; 1: an item of a numbered list; 2+: inside an item (bracketed)."""
    kind, items = _flatten(node, negated)
    if kind == "cond":
        cond, neg = items[0]
        return _condition(cond, neg)
    if len(items) == 1:
        return _phrase(items[0][0], items[0][1], level)
    if level == 0:
        head = "同时满足：" if kind == "all" else "满足以下任一项："
        return head + "；".join(_number(i) + _phrase(child, neg, 1) for i, (child, neg) in enumerate(items))
    joiner = "，且" if kind == "all" else "，或"
    text = joiner.join(_phrase(child, neg, level + 1) for child, neg in items)
    return text if level == 1 else f"（{text}）"


def _condition(cond: dict[str, Any], negated: bool) -> str:
    kind = pending_kind(cond)
    if kind == "attest":
        return f"企业承诺：{cond['attest']}"
    if kind == "judge":
        return f"经{cond.get('department') or '主管部门'}认定：{cond['judge']}"
    return FACTS[cond["fact"]].wording(cond["op"], cond["value"], negated=negated)


def describe_condition(cond: dict[str, Any], *, negated: bool = False) -> str:
    """One condition ({"fact", "op", "value"}, {"attest"} or {"judge"}) in plain Chinese; `negated`
    gives a fact condition's opposite."""
    validate_rule(cond)
    if "all" in cond or "any" in cond or "not" in cond:
        raise RuleError("", "malformed_node", "这里需要一个条件（fact、op、value，或 attest、judge），而不是条件组")
    return _condition(cond, negated)


def describe_rule(rule: dict[str, Any]) -> list[str]:
    """Bullet lines for a whole rule: one line per requirement of the top-level `all`; a group in it
    as "满足以下任一项：①…；②…", deeper groups bracketed "（A，且B）" (RuleError if the rule is not valid)."""
    validate_rule(rule)
    kind, items = _flatten(rule, False)
    if kind == "all":
        return [_phrase(child, neg, 0) for child, neg in items]
    return [_phrase(rule, False, 0)]
