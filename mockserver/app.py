"""The mock as one ASGI app, built from the loaded spec and a handler table.

The edge (:mod:`mockserver.edge`) makes each request's Exchange, answers CORS, routes it once, journals
it and hands an escaping error to the 500 guard (:mod:`mockserver.guard`); then, for a spec path, the
pipeline (:mod:`mockserver.pipeline`: limits, directives, authentication,
faults, the call, the handler), and for any other path the mock's own ``/__mock/`` endpoints or the
``unknown_path`` 404. The request goes one way: no inner module reads or writes anything of a layer
that wraps it. ``docs/architecture.md`` draws the map.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, Router
from starlette.types import Receive, Scope, Send

from mockserver.config import MockConfig
from mockserver.cors import CORS
from mockserver.edge import RESERVED_PREFIX, Edge
from mockserver.errors import error_response
from mockserver.faults import Faults
from mockserver.faults.admin import admin_routes
from mockserver.governance.views import governance_routes
from mockserver.handlers import Handlers
from mockserver.handlers.table import BUILTIN
from mockserver.pipeline import Pipeline, routes
from mockserver.responses import JSONResponse
from mockserver.state import MockState

EXPOSED_HEADERS = [
    "Retry-After",
    "x-request-id",
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-tokens",
]


class MockApp:
    """The ASGI app; ``state.mock``, ``state.faults`` and ``state.config`` are its MockState, Faults and MockConfig."""

    def __init__(self, config: MockConfig, state: MockState, faults: Faults, handlers: Handlers = BUILTIN,
                 own_routes: Sequence[BaseRoute] = ()):
        self.state = State()
        self.state.mock, self.state.faults, self.state.config = state, faults, config
        own: list[BaseRoute] = [
            Route(f"{RESERVED_PREFIX}/openapi.json", _spec_endpoint(config), methods=["GET"]),
            *admin_routes(RESERVED_PREFIX, faults, state),
            *governance_routes(RESERVED_PREFIX, state),  # GET /__mock/alerts
            *own_routes,  # more of the mock's own endpoints under /__mock/ (e.g. the replay's coverage)
        ]
        self.own = ExceptionMiddleware(Router(own, redirect_slashes=False), handlers={HTTPException: _http_error})
        self.edge = Edge(routes(config, handlers), Pipeline(config, state, faults), self.own, state, faults,
                         CORS(allow_origins=config.cors_origins, expose_headers=EXPOSED_HEADERS))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        if scope["type"] != "http":  # lifespan, websockets: Starlette's router answers them
            await self.own(scope, receive, send)
            return
        await self.edge(scope, receive, send)


def create_app(config: MockConfig | None = None, state: MockState | None = None,
               handlers: Handlers = BUILTIN, own_routes: Sequence[BaseRoute] = ()) -> MockApp:
    """Build the mock for ``config`` (the bundled spec and defaults when omitted), answering with ``handlers``;
    ``own_routes`` are more endpoints under ``/__mock/``."""
    config = config or MockConfig()
    state = state or MockState(config)
    return MockApp(config, state, Faults(config.seed, config.scenario, backend=state.backend), handlers, own_routes)


def _spec_endpoint(config: MockConfig):
    async def spec(request: Request) -> Response:
        return JSONResponse(config.spec.document)

    return spec


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(404, f"Unknown path {request.url.path}.", code="unknown_path")
    return error_response(exc.status_code, str(exc.detail), headers=exc.headers)
