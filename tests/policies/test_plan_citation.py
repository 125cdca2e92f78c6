"""The plan every catalogue policy cites: its title and 文号 as the notices print them are the plan's own."""

from __future__ import annotations

import re
from pathlib import Path

from policies.models import SOURCE_PLAN_DOCUMENT_NUMBER, SOURCE_PLAN_TITLE

PLAN = Path(__file__).resolve().parents[2] / "policies" / "catalogue" / "plan.txt"


def _flat(text: str) -> str:
    """Without spaces and line breaks, half-width brackets as full-width (the extracted text mixes them)."""
    return re.sub(r"\s+", "", text).replace("(", "（").replace(")", "）")


def test_the_document_number_is_the_plans() -> None:
    assert SOURCE_PLAN_DOCUMENT_NUMBER in PLAN.read_text(encoding="utf-8")


def test_the_title_is_the_plans() -> None:
    assert _flat(SOURCE_PLAN_TITLE.strip("《》")) in _flat(PLAN.read_text(encoding="utf-8"))
