"""Shared fixtures: the loaded spec once per session, factories for apps and clients."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.auth import DEFAULT_API_KEY
from mockserver.config import MockConfig
from mockserver.spec import LoadedSpec, load_spec
from mockserver.state import MockState
from mockserver.testing import RunningMock, serve_in_thread

DATA = Path(__file__).parent / "data"
ADMIN = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}


@pytest.fixture(scope="session")
def spec() -> LoadedSpec:
    return load_spec()


@pytest.fixture
def make_client(spec: LoadedSpec) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(*, headers: dict[str, str] | None = ADMIN, clock: Callable[[], dt.datetime] | None = None,
             **config: object) -> TestClient:
        """A client of a new mock; its state is ``client.app.state.mock`` (on ``clock``'s time when given)."""
        config.setdefault("spec", spec)
        config.setdefault("api_key", DEFAULT_API_KEY)
        cfg = MockConfig(**config)  # type: ignore[arg-type]
        state = MockState(cfg, clock=clock) if clock is not None else None
        client = TestClient(create_app(cfg, state), base_url=f"http://testserver{cfg.spec.base_path}",
                            headers=headers or {}, raise_server_exceptions=True)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def serve(spec: LoadedSpec) -> Iterator[Callable[..., RunningMock]]:
    """Factory: a mock on a real loopback port (for SDKs, streaming and timing), stopped after the test."""
    with ExitStack() as stack:

        def start(**config: object) -> RunningMock:
            config.setdefault("spec", spec)
            config.setdefault("api_key", DEFAULT_API_KEY)
            return stack.enter_context(serve_in_thread(MockConfig(**config)))  # type: ignore[arg-type]

        yield start


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


class FakeClock:
    """A clock that stands still until told to move."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC))


collect_ignore = ["e2e/plugin_example"]  # run by test_pytest_plugin.py in a project of its own
