from __future__ import annotations

import pytest

from tests.governance.conftest import org  # noqa: F401  (the people, one per role)
from tests.scripted_triage import scripted_runtime


@pytest.fixture
def runtime(settings):
    from onevoice.governance.hooks import install

    runtime = scripted_runtime(settings)
    install(runtime.session_factory)  # what the app does: audited changes (contact links...) reach the log
    yield runtime
    runtime.dispose()
