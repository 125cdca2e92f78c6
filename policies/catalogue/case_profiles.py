"""Golden cases of the catalogue file (policies.json) as enterprise profiles for the evaluator.

Pure: plain data in, `matching.core.profile.EnterpriseProfile` out, no database. The conversion itself
(which department shares each fact when a case says "sources": "department", self-declared otherwise)
is `policies.golden.golden_profile`, the one the loader and the publish check use, so the catalogue's
tests check exactly what publishing checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from matching.core.profile import EnterpriseProfile
from policies.golden import golden_profile

# The day the catalogue's golden cases were written for; a case may name its own ("on").
CATALOGUE_DAY = date(2026, 11, 26)


def profile_from_case(case: Mapping[str, Any]) -> EnterpriseProfile:
    """The profile a golden case describes (GoldenProfileError names a malformed field)."""
    return golden_profile(case["profile"], name=case.get("name", ""))


def case_day(case: Mapping[str, Any]) -> date:
    """The date a golden case is evaluated on: its own "on", else CATALOGUE_DAY."""
    on = case.get("on")
    return date.fromisoformat(on) if on else CATALOGUE_DAY
