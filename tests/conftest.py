"""Session fixtures: the real local stack (Kafka, FerretDB, services, Prometheus), started
once per test session with the project's own scripts, on ports away from the demo's.

``FIVELINK_TEST_PORT_BASE`` moves the ports (default 19100);
``FIVELINK_TEST_KEEP=1`` leaves the stack running after the session (faster reruns).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from fivelink_cli import infra

TEST_ENV = {
    "FIVELINK_BATCH_WINDOW_S": "0.2",
    "FIVELINK_MAX_DELIVERY_ATTEMPTS": "3",
    "FIVELINK_SOLVE_TIME_LIMIT_S": "1.0",
    "FIVELINK_ESCALATION_CHECK_S": "1.0",
}


@pytest.fixture(scope="session")
def stack() -> Iterator[infra.Stack]:
    base = int(os.environ.get("FIVELINK_TEST_PORT_BASE", "19100"))
    state = infra.REPO_ROOT / ".run" / f"test-{base}"
    keep = os.environ.get("FIVELINK_TEST_KEEP") == "1"
    stack = infra.Stack(state, infra.Ports.from_base(base), service_overrides=TEST_ENV)
    if not keep or not all(infra.health(stack).values()):
        infra.stop_all(stack, lambda _: None)
        shutil.rmtree(state, ignore_errors=True)
        stack.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            infra.start_all(stack, print)
        except infra.InfraError:
            infra.stop_all(stack, lambda _: None)
            raise
    yield stack
    if not keep:
        infra.stop_all(stack, lambda _: None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, and asyncio tests cannot start beside it."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
