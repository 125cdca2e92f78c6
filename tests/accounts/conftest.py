"""Accounts tests (shared users come from tests/enterprises/fixtures.py via tests/conftest.py)."""

from tests.enterprises.support import facts_changed  # noqa: F401 - fixture
