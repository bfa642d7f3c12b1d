"""Run the mock on a real loopback port from a test, in a background thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.server import base_url, bind


@dataclass(frozen=True)
class RunningMock:
    app: Starlette
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
def serve_in_thread(config: MockConfig | None = None, app: Starlette | None = None,
                    host: str = "127.0.0.1") -> Iterator[RunningMock]:
    """Serve ``app`` (or a new mock for ``config``) on a free port until the block ends."""
    config = config or MockConfig()
    app = app or create_app(config)
    sock = bind(host, 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                           timeout_graceful_shutdown=1))
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
