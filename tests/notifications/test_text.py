"""Notice sentences: each part ends once, clause marks are not left dangling, nothing runs together."""

from __future__ import annotations

import pytest

from portal.notifications.text import sentence, sentences


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("申报截止：2026年12月31日", "申报截止：2026年12月31日。"),
        ("已提交。", "已提交。"),
        ("企业须在区内注册；", "企业须在区内注册。"),
        ("  （示例）  ", "（示例）。"),
        ("他说“好。”", "他说“好。”"),
        ("真的吗？", "真的吗？"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_sentence(given: str, expected: str) -> None:
    assert sentence(given) == expected


def test_sentences_join_without_gluing_or_gaps() -> None:
    text = sentences("申报时间：常年受理", "", "申报条件：制造业企业；", "政策咨询：区科技局")
    assert text == "申报时间：常年受理。申报条件：制造业企业。政策咨询：区科技局。"
