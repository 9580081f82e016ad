"""Fixtures of the report tests: a synthetic MetricsResult (see report_fixtures.py)."""

from __future__ import annotations

import pytest

from churnradar.metrics.result import MetricsResult
from tests.report.report_fixtures import make_result


@pytest.fixture
def result() -> MetricsResult:
    """A fresh synthetic result (tests may modify it)."""
    return make_result()
