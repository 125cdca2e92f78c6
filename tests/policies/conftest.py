"""Fixtures for policy tests: content of a valid version, drafts made through the services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from policies import services
from policies.models import PolicyVersion
from portal.accounts.roles import Role
from tests.enterprises.factories import StaffUserFactory
from tests.policies.factories import ELIGIBLE_PROFILE, HIGH_TECH_SOFTWARE_RULE, INELIGIBLE_PROFILE


def version_content(**overrides: Any) -> dict[str, Any]:
    content = {
        "title": "软件企业研发补贴（示例）",
        "summary": "高新技术软件企业可获研发补贴。",
        "body": "示例正文。",
        "source_section": "第三章 二（一）",
        "source_quote": "示例原文。",
        "department": "区科技局",
        "contact_name": "王敏（示例）",
        "contact_phone": "0512-0000-0000（示例）",
        "benefit_kind": "subsidy",
        "benefit_description": "研发费用补贴",
        "amount_max_wan": None,
        "amount_note": "",
        "mode": "apply",
        "application_start": dt.date(2026, 1, 1),
        "application_end": dt.date(2026, 12, 31),
        "conditions_text": "高新技术企业",
        "materials": ["营业执照"],
        "effective_from": dt.date(2020, 1, 1),
        "effective_to": None,
        "chains": ["ngit"],
        "rule": HIGH_TECH_SOFTWARE_RULE,
    }
    content.update(overrides)
    return content


@pytest.fixture
def reviewer2():
    return StaffUserFactory(roles=[Role.REVIEWER])


@pytest.fixture
def editor_reviewer():
    """Holds both roles: may write and review, but never review their own version."""
    return StaffUserFactory(roles=[Role.POLICY_EDITOR, Role.REVIEWER])


@pytest.fixture
def make_draft(staff_editor) -> Callable[..., PolicyVersion]:
    counter = iter(range(1, 10_000))

    def make(*, by=None, golden: bool = True, **overrides: Any) -> PolicyVersion:
        by = by or staff_editor
        version = services.policy_create(by=by, key=f"test-policy-{next(counter)}", **version_content(**overrides))
        if golden:
            services.golden_case_create(
                version=version, by=by, name="符合的软件企业", profile=ELIGIBLE_PROFILE, expected="eligible"
            )
            services.golden_case_create(
                version=version, by=by, name="制造企业不符合", profile=INELIGIBLE_PROFILE, expected="ineligible"
            )
        return version

    return make


@pytest.fixture
def publish(staff_editor, staff_reviewer) -> Callable[[PolicyVersion], PolicyVersion]:
    """Take a draft through submit → approve → publish."""

    def run(version: PolicyVersion, *, editor=None, reviewer=None) -> PolicyVersion:
        services.policy_submit(version=version, by=editor or staff_editor)
        services.policy_approve(version=version, by=reviewer or staff_reviewer)
        return services.policy_publish(version=version, by=reviewer or staff_reviewer)

    return run
