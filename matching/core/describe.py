"""Plain-Chinese descriptions of rules for public policy pages (申报条件), from the fact registry's wording.

`not` is pushed down to the conditions (De Morgan), so readers never meet "不满足以下全部…": each
negated condition has its own opposite wording (未持有…, 行业不属于…). Attestations and
judgements read "企业承诺：…" and "经主管部门认定：…" (validation keeps them out of `not`).
No Django imports.
"""

from __future__ import annotations

from .rules import RuleError, as_tree
from .tree import AllOf, AnyOf, Attestation, Judgement, Leaf, Node, Not

_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def _number(i: int) -> str:
    return _CIRCLED[i] if i < len(_CIRCLED) else f"（{i + 1}）"


def _flatten(node: Node, negated: bool) -> tuple[str, list[tuple[Node, bool]]]:
    """("all" | "any" | "cond", items) after pushing `not` down; same-kind groups are merged."""
    while isinstance(node, Not):
        node, negated = node.child, not negated
    if isinstance(node, AllOf | AnyOf):
        kind = node.kind if not negated else ("any" if node.kind == "all" else "all")  # De Morgan
        items: list[tuple[Node, bool]] = []
        for child in node.children:
            child_kind, child_items = _flatten(child, negated)
            if child_kind == kind:
                items.extend(child_items)
            else:
                items.append((child, negated))
        return kind, items
    return "cond", [(node, negated)]


def _phrase(node: Node, negated: bool, level: int) -> str:
    """Level 0: a line of its own; 1: an item of a numbered list; 2+: inside an item (bracketed)."""
    kind, items = _flatten(node, negated)
    if kind == "cond":
        leaf, neg = items[0]
        assert not isinstance(leaf, AllOf | AnyOf | Not)  # _flatten gives groups only as "all" / "any"
        return leaf_wording(leaf, negated=neg)
    if len(items) == 1:
        return _phrase(items[0][0], items[0][1], level)
    if level == 0:
        head = "同时满足：" if kind == "all" else "满足以下任一项："
        return head + "；".join(_number(i) + _phrase(child, neg, 1) for i, (child, neg) in enumerate(items))
    joiner = "，且" if kind == "all" else "，或"
    text = joiner.join(_phrase(child, neg, level + 1) for child, neg in items)
    return text if level == 1 else f"（{text}）"


def leaf_wording(leaf: Leaf, *, negated: bool = False) -> str:
    """One condition of a tree in plain Chinese; `negated` gives a fact condition's opposite
    (attestations and judgements never sit under a `not`)."""
    if isinstance(leaf, Attestation):
        return f"企业承诺：{leaf.text}"
    if isinstance(leaf, Judgement):
        return f"经{leaf.judge}认定：{leaf.text}"
    return leaf.spec.wording(leaf.op, leaf.value, negated=negated)


def describe_condition(cond: object, *, negated: bool = False) -> str:
    """One condition ({"fact", "op", "value"}, {"attest"} or {"judge"}, or a tree leaf) in plain
    Chinese; `negated` gives a fact condition's opposite."""
    node = as_tree(cond)
    if isinstance(node, AllOf | AnyOf | Not):
        raise RuleError("", "malformed_node", "这里需要一个条件（fact、op、value，或 attest、judge），而不是条件组")
    return leaf_wording(node, negated=negated)


def describe_rule(rule: object) -> list[str]:
    """Bullet lines for a whole rule (its JSON or its tree): one line per requirement of the top-level
    `all`; a group in it as "满足以下任一项：①…；②…", deeper groups bracketed "（A，且B）" (RuleError
    if the rule is not valid)."""
    tree = as_tree(rule)
    kind, items = _flatten(tree, False)
    if kind == "all":
        return [_phrase(child, neg, 0) for child, neg in items]
    return [_phrase(tree, False, 0)]
