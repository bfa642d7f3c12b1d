"""Run the mock on a real loopback port from a test, in a background thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from mockserver.app import MockApp, create_app
from mockserver.config import MockConfig
from mockserver.server import base_url, bind, uvicorn_config


@dataclass(frozen=True)
class RunningMock:
    app: MockApp
    config: MockConfig
    host: str
    port: int

    @property
    def url(self) -> str:
        """The base URL, including the spec's base path (``http://127.0.0.1:PORT/v1``)."""
        return base_url(self.config, self.host, self.port)

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"


@contextmanager
def serve_in_thread(config: MockConfig | None = None, app: MockApp | None = None,
                    host: str = "127.0.0.1") -> Iterator[RunningMock]:
    """Serve ``app`` (or a new mock for ``config``) on a free port until the block ends."""
    config = config or MockConfig()
    app = app or create_app(config)
    sock = bind(host, 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(app, timeout_graceful_shutdown=1))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  (not the main thread)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the mock did not start within 10 s")
        time.sleep(0.01)
    try:
        yield RunningMock(app, config, host, port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


class RequestyMock:
    """A running mock seen from a test: its URLs, admin key, app, faults and journal.

    The fault helpers change the server-wide scenario in force (each call adds
    to it); :meth:`reset` goes back to the start-up state.
    """

    def __init__(self, running: RunningMock):
        self.running = running

    @property
    def url(self) -> str:
        """Base URL for SDKs, e.g. ``http://127.0.0.1:PORT/v1``."""
        return self.running.url

    @property
    def origin(self) -> str:
        return self.running.origin

    @property
    def api_key(self) -> str:
        """The admin key: valid for every operation and for ``/__mock/``."""
        return self.running.config.api_key

    @property
    def app(self) -> MockApp:
        """The same mock as an ASGI app, for ``httpx.ASGITransport`` (in-process, no timing)."""
        return self.running.app

    @property
    def _faults(self):
        return self.running.app.state.faults

    def reset(self) -> None:
        """Forget keys, usage, faults set by the test and the journal."""
        self.running.app.state.mock.reset()
        self._faults.reset()

    def scenario(self) -> dict[str, Any]:
        return self._faults.scenario.as_dict()

    def set_scenario(self, scenario: Mapping[str, Any] | str | None) -> None:
        """Replace the scenario: a mapping, YAML text, or None for no faults. Raises ScenarioError."""
        from mockserver.faults.scenario import Scenario, build_scenario, parse_scenario

        if scenario is None:
            loaded = Scenario()
        elif isinstance(scenario, str):
            loaded = parse_scenario(scenario)
        else:
            loaded = build_scenario(dict(scenario))
        self._faults.load(loaded)

    def _add(self, key: str, value: Any) -> None:
        data = self.scenario()
        if isinstance(value, list):
            data[key] = [*data.get(key, []), *value]
        else:
            data[key] = value
        self.set_scenario(data)

    def error_rate(self, status: int, rate: float, *, operations: list[str] | None = None,
                   message: str | None = None, models: list[str] | None = None) -> None:
        """A share of calls get ``status``; with ``models``, only tries served by those models."""
        rule = {"status": status, "rate": rate, "operations": operations, "message": message, "models": models}
        self._add("errors", [{k: v for k, v in rule.items() if v is not None}])

    def latency(self, ms: float | None = None, *, distribution: str = "fixed", **params: float) -> None:
        self._add("latency", {"distribution": distribution, **({"ms": ms} if ms is not None else {}), **params})

    def rate_limits(self, *, rpm: int | None = None, tpm: int | None = None) -> None:
        self._add("rate_limits", {k: v for k, v in (("rpm", rpm), ("tpm", tpm)) if v is not None})

    def unavailable(self, *models: str) -> None:
        self._add("unavailable_models", sorted({*self.scenario().get("unavailable_models", []), *models}))

    def stream_fault(self, fault: str, *, rate: float = 1.0, after: int = 1, seconds: float | None = None,
                     operations: list[str] | None = None) -> None:
        rule = {"fault": fault, "rate": rate, "after": after, "seconds": seconds, "operations": operations}
        self._add("stream_faults", [{k: v for k, v in rule.items() if v is not None}])

    def seed(self, seed: int) -> None:
        self._add("seed", seed)

    def journal(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The last requests, newest first: sequence, method, path, operation, status, latency_ms, fault, key,
        model (asked for) and served."""
        return self._faults.journal.last(limit)

    def openai(self, **options: Any) -> Any:
        """An ``openai.OpenAI`` client for this mock (``max_retries=0`` unless given)."""
        import openai

        options.setdefault("max_retries", 0)
        return openai.OpenAI(base_url=self.url, api_key=self.api_key, **options)

    def anthropic(self, **options: Any) -> Any:
        """An ``anthropic.Anthropic`` client for this mock's Messages API (``max_retries=0`` unless given).

        Its base URL is the origin, without ``/v1``: the Anthropic SDKs add ``/v1/messages`` themselves.
        """
        import anthropic

        options.setdefault("max_retries", 0)
        return anthropic.Anthropic(base_url=self.origin, api_key=self.api_key, **options)

    def async_openai(self, *, in_process: bool = False, **options: Any) -> Any:
        """An ``openai.AsyncOpenAI`` client; ``in_process=True`` talks to :attr:`app` without a socket."""
        import httpx
        import openai

        options.setdefault("max_retries", 0)
        base_url = self.url
        if in_process:
            base_url = "http://mock" + self.running.config.spec.base_path
            options.setdefault("http_client", httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app)))
        return openai.AsyncOpenAI(base_url=base_url, api_key=self.api_key, **options)
