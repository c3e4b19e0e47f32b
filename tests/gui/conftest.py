"""Fixtures shared by the widget tests."""
import pytest

from hsgui.common.background import JobRunner


@pytest.fixture
def runner():
    """A job runner of its own per test; every job must have ended when the test does."""
    r = JobRunner()
    yield r
    assert r.shutdown(10000)
