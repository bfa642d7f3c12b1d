"""The mock as one ASGI app, built from the loaded spec: one endpoint per spec path, one endpoint shape for all.

Layers, outermost first: CORS, which hands an unexpected error to the 500 guard (it is logged and,
when nothing was sent yet, answered in the error shape, with the CORS headers), the fault middleware
(faults and the journal), then the dispatcher: spec paths
go straight to their endpoint; the mock's ``/__mock/`` endpoints and unknown paths to a
Starlette router (404 ``unknown_path``, 405 with ``Allow``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, Router
from starlette.types import Receive, Scope, Send

from mockserver import error_shapes
from mockserver.config import MockConfig
from mockserver.cors import CORS
from mockserver.errors import MockError, error_response
from mockserver.faults import Faults
from mockserver.faults.admin import admin_routes
from mockserver.faults.middleware import FaultMiddleware
from mockserver.handlers import generic, handler_for
from mockserver.reading import read_call
from mockserver.responses import JSONResponse
from mockserver.routing import Dispatcher, Endpoint
from mockserver.spec.model import Operation
from mockserver.state import MockState

log = logging.getLogger("mockserver")
RESERVED_PREFIX = "/__mock"
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

    def __init__(self, config: MockConfig, state: MockState, faults: Faults):
        self.state = State()
        self.state.mock, self.state.faults, self.state.config = state, faults, config
        own: list[BaseRoute] = [
            Route(f"{RESERVED_PREFIX}/openapi.json", _spec_endpoint(config), methods=["GET"]),
            *admin_routes(RESERVED_PREFIX, faults, state),
        ]
        self.fallback = ExceptionMiddleware(Router(own, redirect_slashes=False), handlers={HTTPException: _http_error})
        endpoints = {config.spec.base_path + path: _endpoint(config, state, operations)
                     for path, operations in config.spec.paths.items()}
        dispatch = Dispatcher(endpoints, self.fallback)
        self.stack = CORS(FaultMiddleware(dispatch, faults=faults, keys=state),
                          allow_origins=config.cors_origins, expose_headers=EXPOSED_HEADERS, on_error=_answer_500)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        if scope["type"] != "http":  # lifespan, websockets: Starlette's router answers them
            await self.fallback(scope, receive, send)
            return
        await self.stack(scope, receive, send)


def create_app(config: MockConfig | None = None, state: MockState | None = None) -> MockApp:
    """Build the mock for ``config`` (the bundled spec and defaults when omitted)."""
    config = config or MockConfig()
    state = state or MockState(config)
    return MockApp(config, state, Faults(config.spec, config.seed, config.scenario))


async def _answer_500(scope: Scope, receive: Receive, send: Send, started: bool) -> None:
    """The 500 guard, for an unexpected error (re-raised after): log it; answer in the error shape if nothing was sent."""
    log.exception("unexpected error answering %s %s", scope["method"], scope["path"])
    if not started:
        await error_response(500, "The mock failed to answer this request; see its log.")(scope, receive, send)


def _endpoint(config: MockConfig, state: MockState, operations: list[Operation]) -> Endpoint:
    by_method = {op.method: op for op in operations}
    allow = ", ".join(sorted(by_method))
    prepared = {op.method: (op, handler_for(op.operation_id) or generic.answer) for op in operations}

    async def endpoint(scope: Scope, receive: Receive, send: Send, path_params: Mapping[str, str]) -> None:
        try:
            entry = prepared.get(scope["method"])
            if entry is None:
                raise MockError(
                    405,
                    f"Method {scope['method']} is not allowed on {scope['path']}; allowed: {allow}.",
                    headers={"Allow": allow},
                )
            operation, handler = entry
            call = await read_call(scope, receive, operation, config, state, path_params)
            response = await handler(call)
        except MockError as error:
            response = error_shapes.render(error, (entry[0] if entry else operations[0]).error_shape)
        await response(scope, receive, send)

    return endpoint


def _spec_endpoint(config: MockConfig):
    async def spec(request: Request) -> Response:
        return JSONResponse(config.spec.document)

    return spec


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(404, f"Unknown path {request.url.path}.", code="unknown_path")
    return error_response(exc.status_code, str(exc.detail), headers=exc.headers)
