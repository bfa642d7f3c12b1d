"""End-to-end tests: real sockets, subprocesses, the official SDKs, ``kill -9``, npm, a browser. All of them are marked slow."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import node
from tests.e2e.browser import Browser, running_browser

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium (installed from Debian's packages on first use); ``browser.new_page()`` opens a tab."""
    with running_browser() as instance:
        yield instance


@pytest.fixture(scope="session")
def node_sdk() -> Path:
    """tests/e2e/js with the JavaScript SDKs installed (npm, on first use)."""
    return node.install()
