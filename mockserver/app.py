"""The Starlette app, built from the loaded spec: one route per spec path, one endpoint shape for all."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request, cookie_parser
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive

from mockserver.auth import authenticate
from mockserver.call import Call
from mockserver.config import MockConfig
from mockserver.cors import CORS
from mockserver.errors import MockError, error_response
from mockserver.faults import Faults
from mockserver.faults.admin import admin_routes
from mockserver.faults.headers import undocumented_code
from mockserver.faults.middleware import PREFER_SCOPE_KEY, FaultMiddleware
from mockserver.handlers import generic, handler_for, is_admin_only
from mockserver.responses import JSONResponse
from mockserver.spec.model import Operation
from mockserver.state import MockState
from mockserver.validation import invalid, query_lists, read_json_body, read_parameters

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
_TEMPLATE = re.compile(r"{([^}]*)}")


def create_app(config: MockConfig | None = None, state: MockState | None = None) -> Starlette:
    """Build the mock for ``config`` (the bundled spec and defaults when omitted)."""
    config = config or MockConfig()
    state = state or MockState(config)
    faults = Faults(config.spec, config.seed, config.scenario)
    routes: list[BaseRoute] = [
        Route(f"{RESERVED_PREFIX}/openapi.json", _spec_endpoint(config), methods=["GET"]),
        *admin_routes(RESERVED_PREFIX, faults, state),
    ]
    for path, operations in sorted(config.spec.paths.items(), key=lambda item: _route_order(item[0])):
        route_path, names = _route_path(config.spec.base_path + path)
        route = Route(route_path, _endpoint(config, state, operations, names))
        route.methods = None  # every method reaches the endpoint, which answers 405 in the error shape
        routes.append(route)
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(CORS, allow_origins=config.cors_origins, expose_headers=EXPOSED_HEADERS),
            Middleware(FaultMiddleware, faults=faults, keys=state),
        ],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.router.redirect_slashes = False
    app.state.mock = state
    app.state.faults = faults
    app.state.config = config
    return app


def _route_order(path: str) -> tuple[Any, ...]:
    """Fixed segments before templated ones, so ``/keys/usage`` wins over ``/keys/{id}``."""
    return tuple((1 if "{" in segment else 0, segment) for segment in path.split("/"))


def _route_path(path: str) -> tuple[str, dict[str, str]]:
    """Starlette needs identifier names in ``{...}``; map any other spec name to a safe one."""
    names: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        safe = f"p{len(names)}_" + re.sub(r"\W", "_", match.group(1))
        names[safe] = match.group(1)
        return "{" + safe + "}"

    return _TEMPLATE.sub(replace, path), names


def _endpoint(config: MockConfig, state: MockState, operations: list[Operation], names: dict[str, str]) -> Callable:
    by_method = {op.method: op for op in operations}
    allow = ", ".join(sorted(by_method))
    prepared = {op.method: (op, handler_for(op.operation_id) or generic.answer) for op in operations}

    async def endpoint(request: Request) -> Response:
        try:
            entry = prepared.get(request.method)
            if entry is None:
                raise MockError(
                    405,
                    f"Method {request.method} is not allowed on {request.url.path}; allowed: {allow}.",
                    headers={"Allow": allow},
                )
            operation, handler = entry
            call = await _read_call(request, operation, config, state, names)
            response = await handler(call)
        except MockError as error:
            response = error.response()
        return response

    return endpoint


async def _read_call(request: Request, operation: Operation, config: MockConfig, state: MockState,
                     names: dict[str, str]) -> Call:
    scope = request.scope
    raw_headers = scope["headers"]
    header_bytes = sum(len(name) + len(value) for name, value in raw_headers)
    if header_bytes > config.max_headers:
        raise MockError(431, f"The request headers total {header_bytes} bytes; the limit is {config.max_headers} bytes.")
    headers = header_dict(raw_headers)
    query_string = scope["query_string"]
    query = query_lists(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)) if query_string else {}
    cookie = headers.get("cookie")
    cookies = cookie_parser(cookie) if cookie else {}
    principal = authenticate(operation, state, headers, query, cookies)
    if principal is not None and not principal.is_admin and is_admin_only(operation.operation_id):
        raise MockError(403, "Managing API keys and reading usage needs the organization's admin key; "
                             "this key may only call the inference endpoints.")
    if operation.body is None and "content-length" not in headers and "transfer-encoding" not in headers:
        raw = b""  # no body is coming (RFC 9112 6.3) and none is expected: nothing to wait for
    else:
        raw = await read_limited_body(request.receive, headers, config.max_body, config.body_timeout)
    path_params = scope.get("path_params", {})
    if names:
        path_params = {names.get(k, k): v for k, v in path_params.items()}
    params, problems = read_parameters(operation, path_params, query, headers, cookies)
    body = read_json_body(operation, headers.get("content-type"), raw) if operation.body else None
    prefer = scope.get(PREFER_SCOPE_KEY)
    if problems:
        raise invalid(problems)
    if prefer is not None and prefer.code is not None and str(prefer.code) not in operation.responses:
        raise undocumented_code(operation.operation_id, prefer.code, list(operation.responses))
    return Call(
        operation=operation,
        params=params,
        body=body,
        raw_body=raw,
        headers=headers,
        principal=principal,
        seed=(config.seed, operation.operation_id, scope["path"], query_string.decode("latin-1")),
        config=config,
        state=state,
        prefer=prefer,
        example_name=prefer.example if prefer else None,
    )


def header_dict(raw_headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """ASGI headers as a dict of lower-case names (as ASGI sends them); a repeated header keeps its first value."""
    headers: dict[str, str] = {}
    for name, value in raw_headers:
        key = name.decode("latin-1")
        if key not in headers:
            headers[key] = value.decode("latin-1")
    return headers


async def read_limited_body(receive: Receive, headers: Mapping[str, str], limit: int, timeout: float) -> bytes:
    """The whole body; 413 as soon as it is known to be over ``limit`` bytes, 408 if it stalls."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise MockError(413, f"The request body is {declared} bytes; the limit is {limit} bytes.")
    chunks = []
    size = 0
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout) as deadline:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    raise ClientDisconnect()
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise MockError(413, f"The request body is over the limit of {limit} bytes.")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
                deadline.reschedule(loop.time() + timeout)  # the limit is per piece: a slow upload may go on
    except TimeoutError:
        raise MockError(408, f"The request body did not arrive within {timeout:g} s.",
                        headers={"Connection": "close"}) from None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _spec_endpoint(config: MockConfig) -> Callable:
    async def spec(request: Request) -> Response:
        return JSONResponse(config.spec.document)

    return spec


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(404, f"Unknown path {request.url.path}.", code="unknown_path")
    return error_response(exc.status_code, str(exc.detail), headers=exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error answering %s %s", request.method, request.url.path)
    return error_response(500, "The mock failed to answer this request; see its log.")
