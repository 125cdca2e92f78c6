"""Users shared by every app's tests: alice and bob (one enterprise), charlie (the stranger), staff, API client.

Imported by tests/conftest.py, so every test module can ask for them.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.enterprises.models import Enterprise

from .factories import EnterpriseFactory, EnterpriseUserFactory, StaffUserFactory

__all__ = [
    "alice",
    "api_client",
    "bob",
    "charlie",
    "enterprise_a",
    "staff_auditor",
    "staff_data_officer",
    "staff_editor",
    "staff_reviewer",
]


@pytest.fixture
def enterprise_a(db) -> Enterprise:
    return EnterpriseFactory(name="苏州甲示例科技有限公司")


@pytest.fixture
def alice(enterprise_a) -> User:
    """An enterprise user."""
    return EnterpriseUserFactory(username="alice", enterprise=enterprise_a)


@pytest.fixture
def bob(alice) -> User:
    """Alice's teammate (same enterprise)."""
    return EnterpriseUserFactory(username="bob", enterprise=alice.enterprise)


@pytest.fixture
def charlie(db) -> User:
    """A user of another enterprise: the stranger."""
    return EnterpriseUserFactory(username="charlie", enterprise=EnterpriseFactory(name="苏州乙示例机械有限公司"))


@pytest.fixture
def staff_editor(db) -> User:
    return StaffUserFactory(username="editor", roles=[Role.POLICY_EDITOR])


@pytest.fixture
def staff_reviewer(db) -> User:
    return StaffUserFactory(username="reviewer", roles=[Role.REVIEWER])


@pytest.fixture
def staff_data_officer(db) -> User:
    return StaffUserFactory(username="dataofficer", roles=[Role.DATA_OFFICER])


@pytest.fixture
def staff_auditor(db) -> User:
    return StaffUserFactory(username="auditor", roles=[Role.AUDITOR])


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()
