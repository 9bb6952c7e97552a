from __future__ import annotations

import pytest

from tests.conftest import use_password_hasher


@pytest.fixture(autouse=True)
def _production_password_hashing(_cheap_password_hashing):
    """The suite hashes passwords at a test's cost (tests/conftest.py); the password tests at the real one."""
    before = use_password_hasher(*_cheap_password_hashing)
    yield
    use_password_hasher(*before)
