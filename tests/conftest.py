"""Shared pytest options for every area of the suite."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", default=False,
        help="rewrite the expected output of golden tests (tests/golden/) from the "
             "current behaviour instead of comparing against it")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """Whether this run rewrites golden files (`pytest --update-golden`)."""
    return bool(request.config.getoption("--update-golden"))
