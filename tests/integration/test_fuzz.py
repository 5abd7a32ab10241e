"""Both HTTP APIs under schema-driven fuzzing (the CI size of ``python -m bench.fuzz``): no
request, valid or not, with any role's token, none or a malformed one, gets a server error."""

from __future__ import annotations

import pytest

from bench.fuzz import run_all

# A few hundred cases, in process (no server, no broker), yet minutes: left out of test-fast.
pytestmark = pytest.mark.slow


def test_no_server_error_over_a_few_hundred_generated_requests() -> None:
    summary = run_all(examples=4)
    assert summary["cases"]["registry"] >= 200
    assert summary["cases"]["ingest"] >= 100
    assert summary["server_errors"] == [], summary["server_errors"]
