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
def redis_url():
    """A Redis of our own on a free loopback port (apt-get installs redis-server on first use), stopped at the end."""
    from tests.redis_server import running_redis

    with running_redis() as url:
        yield url


@pytest.fixture
def state_url(request, tmp_path):
    """A fresh shared state: ``sqlite`` (a file in tmp_path) or ``redis`` (the session's Redis, flushed)."""
    if request.param == "sqlite":
        return str(tmp_path / "state.db")
    import redis

    redis_url = request.getfixturevalue("redis_url")
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    return redis_url


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script (tests/e2e/axe, installed by npm on first use), to run in a page."""
    axe = node.install(Path(__file__).parent / "axe", ("axe-core",))
    return (axe / "node_modules" / "axe-core" / "axe.min.js").read_text()


@pytest.fixture(scope="session")
def node_sdk() -> Path:
    """tests/e2e/js with the JavaScript SDKs installed (npm, on first use)."""
    return node.install()
