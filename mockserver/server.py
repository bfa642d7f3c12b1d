"""Run the mock app under uvicorn on a socket we bind ourselves (so a busy port is one clear line)."""

from __future__ import annotations

import errno
import socket
import sys
from collections.abc import Callable

import uvicorn

from mockserver.app import create_app
from mockserver.backends import describe, open_backend
from mockserver.config import MockConfig
from mockserver.faults.runtime import start as start_faults
from mockserver.workers import Supervisor


class ServeError(Exception):
    """The server could not start (port in use, bad address, workers without a shared state)."""


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # so asyncio sets TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it each answer on a kept-alive connection waits ~40 ms
    # (Nagle holds the body until the client's delayed ACK of the headers).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"port {port} on {host} is already in use; pick another with --port") from None
        raise ServeError(f"cannot bind {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def origin(host: str, port: int) -> str:
    """``http://host:port``, an IPv6 host in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def base_url(config: MockConfig, host: str, port: int) -> str:
    return origin(host, port) + config.spec.base_path


def proxy_config(app: object) -> uvicorn.Config:
    """uvicorn's settings for a proxy in front of a gateway (``mockserver record``, ``contract-tests proxy``): quiet,
    with a lifespan (its HTTP client is opened and closed there), and no ``Server``/``Date`` headers of its own,
    so the answers are the upstream's."""
    return uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", server_header=False,
                          date_header=False)


def uvicorn_config(app: object, *, http: str = "auto", loop: str = "auto", **settings: object) -> uvicorn.Config:
    """uvicorn's settings for the mock, the same for ``mockserver serve`` and tests: quiet, no lifespan,
    no ``X-Forwarded-*`` rewriting (the mock never reads the client's address)."""
    return uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", http=http,
                          loop=loop, proxy_headers=False, **settings)


def check_workers(workers: int, state_path: str | None) -> None:
    """A :class:`ServeError` when ``workers`` processes cannot share the state (the default memory state)."""
    if workers > 1 and not state_path:
        raise ServeError(f"--workers {workers} needs a shared --state (a SQLite file or a redis:// URL): "
                         "the default memory state belongs to one process")


def serve(config: MockConfig, host: str, port: int, *, announce: Callable[[str], None] | None = None,
          http: str = "auto", loop: str = "auto", app: object | None = None, workers: int = 1) -> None:
    """Serve until interrupted. Prints the base URL and the admin key first.

    ``http``/``loop`` are uvicorn's: ``auto`` takes httptools and uvloop when installed, the fastest
    pair measured here (docs/benchmarks.md); ``h11``/``asyncio`` are the pure-Python fallbacks.
    ``app`` is the mock to serve when not ``create_app(config)`` (e.g. one that replays recordings).
    ``workers`` > 1 forks that many processes on the one socket (:mod:`mockserver.workers`); each
    builds its own app, and they need a shared ``--state`` (docs/scaling.md).
    """
    check_workers(workers, config.state_path)
    if config.state_path:  # checked once, and the start-up scenario put in force once, before any worker
        backend = open_backend(config.state_path)
        try:
            start_faults(backend, config.scenario)
        finally:
            backend.close()
    sock = bind(host, port)
    port = sock.getsockname()[1]
    if workers == 1:
        app = app or create_app(config)
    say = announce or (lambda line: print(line, file=sys.stdout, flush=True))
    say(f"mockserver: serving {config.spec.document.get('info', {}).get('title', 'the spec')} "
        f"({len(config.spec.operations)} operations)")
    say(f"  base URL:  {base_url(config, host, port)}")
    say(f"  admin key: {config.shown_api_key or config.api_key}")
    say(f"  inspector: {origin(host, port)}/__mock/  (asks for the admin key; docs/inspector.md)")
    if config.scenario is not None:
        say(f"  faults:    {', '.join(config.scenario.as_dict())} (GET /__mock/scenario)")
    if workers > 1 or config.state_path:
        say(f"  state:     {describe(config.state_path)}, {workers} worker{'s' if workers > 1 else ''}")
    say("  Ctrl-C to stop")

    def run(number: int) -> None:  # one forked worker: its own app and its own connection to the store
        server = uvicorn.Server(uvicorn_config(create_app(config), http=http, loop=loop))
        server.run(sockets=[sock])

    try:
        if workers == 1:
            uvicorn.Server(uvicorn_config(app, http=http, loop=loop)).run(sockets=[sock])
        else:
            Supervisor(run, workers, lambda line: print(line, file=sys.stderr, flush=True)).run()
    finally:
        sock.close()
