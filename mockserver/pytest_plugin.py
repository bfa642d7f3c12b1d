"""pytest fixtures for projects that test their code against the mock.

Installed with this package (entry point ``pytest11``), it adds:

- ``requesty_mock``: a :class:`mockserver.testing.RequestyMock` for the test,
  reset before and after it (keys, usage, faults, journal);
- ``requesty_mock_server``: the same, session-scoped and never reset;
- ``requesty_mock_config``: the ``MockConfig`` the server starts with
  (override it in a ``conftest.py`` to change the seed, key or spec).

The server starts on the first test that asks for it, on a free loopback
port, and stops at the end of the session; test runs that use none of these
fixtures import nothing from the mock.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def requesty_mock_config() -> Any:
    from mockserver.config import MockConfig

    return MockConfig()


@pytest.fixture(scope="session")
def requesty_mock_server(requesty_mock_config: Any) -> Iterator[Any]:
    from mockserver.testing import RequestyMock, serve_in_thread

    with serve_in_thread(requesty_mock_config) as running:
        yield RequestyMock(running)


@pytest.fixture
def requesty_mock(requesty_mock_server: Any) -> Iterator[Any]:
    requesty_mock_server.reset()
    yield requesty_mock_server
    requesty_mock_server.reset()
