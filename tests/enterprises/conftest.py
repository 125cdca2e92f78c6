"""Registry tests. The shared users (alice, bob, charlie, staff_*) come from tests/enterprises/fixtures.py,
which tests/conftest.py loads for every test."""

from tests.enterprises.support import facts_changed  # noqa: F401 - fixture
