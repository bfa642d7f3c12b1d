"""The steps of a request to a spec operation, one way, each reading the request's Exchange.

1. the method: 405 with ``Allow`` when the path has no such operation;
2. the header limit: 431 over ``--max-headers``;
3. the directives (``Prefer``, ``X-Mock-*``): a bad value is 400, read once;
4. the caller, authenticated once (401), and admin-only operations (403), as the handler table says;
5. ``Prefer: code=``: one rule, an exact or a range status the operation documents (400 otherwise);
6. the faults (:func:`mockserver.faults.inject.inject`), when a scenario is in force or a directive asks;
7. the call: body (through the exchange's bounded reader), parameters and schema (400, 413, 408);
8. the handler, whose answer is sent; any :class:`MockError` on the way is answered in the error shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockserver import error_shapes
from mockserver.config import MockConfig
from mockserver.errors import MockError
from mockserver.exchange import Exchange
from mockserver.faults.headers import DIRECTIVE_NAMES, check_code, read_directives
from mockserver.faults.inject import aborted, inject
from mockserver.faults.runtime import Faults
from mockserver.handlers import GENERIC, Handler, Handlers
from mockserver.reading import read_call
from mockserver.spec.model import Operation
from mockserver.state import MockState

ADMIN_ONLY = ("Managing API keys and reading usage needs the organization's admin key; "
              "this key may only call the inference endpoints.")


@dataclass(frozen=True, slots=True)
class Route:
    """A spec path's operations by method, each with its handler."""

    by_method: Mapping[str, tuple[Operation, Handler]]
    allow: str  # the ``Allow`` header of a 405
    error_shape: str  # how a 405 is answered: the path's operations' ``x-mock-error-shape``


def routes(config: MockConfig, handlers: Handlers) -> dict[str, Route]:
    """The spec's paths (base path included) with their operations and handlers."""
    table = {}
    for path, operations in config.spec.paths.items():
        by_method = {op.method: (op, handlers.get(op.operation_id, GENERIC)) for op in operations}
        table[config.spec.base_path + path] = Route(by_method, ", ".join(sorted(by_method)), operations[0].error_shape)
    return table


class Pipeline:
    def __init__(self, config: MockConfig, state: MockState, faults: Faults):
        self.config = config
        self.state = state
        self.faults = faults

    async def __call__(self, scope: dict[str, Any], exchange: Exchange, route: Route) -> None:
        send = exchange.send
        try:
            entry = route.by_method.get(exchange.method)
            if entry is None:
                raise MockError(405, f"Method {exchange.method} is not allowed on {exchange.path}; "
                                     f"allowed: {route.allow}.", headers={"Allow": route.allow})
            operation, handler = entry
            exchange.operation = operation
            config = self.config
            if exchange.header_bytes > config.max_headers:
                raise MockError(431, f"The request headers total {exchange.header_bytes} bytes; "
                                     f"the limit is {config.max_headers} bytes.")
            # The usual request names no directive: a look in the header dict says so.
            directives = None if exchange.headers.keys().isdisjoint(DIRECTIVE_NAMES) else read_directives(scope["headers"])
            principal = exchange.principal(operation.security)
            if handler.admin_only and principal is not None and not principal.is_admin:
                raise MockError(403, ADMIN_ONLY)
            if directives is not None:
                check_code(operation, directives)
            if directives is not None or self.faults.active:
                send = await inject(exchange, self.faults, directives, send,
                                    lambda: exchange.body(config.max_body, config.body_timeout),
                                    routed=handler.routes_models)
            call = await read_call(exchange, config, self.state, principal, directives, self.faults)
            response = await handler.answer(call)
        except MockError as error:  # in the shape the operation's clients parse (x-mock-error-shape)
            shape = exchange.operation.error_shape if exchange.operation is not None else route.error_shape
            response = error_shapes.render(error, shape)
        if exchange.stream is None:
            await response(scope, exchange.receive, send)
            return
        try:
            await response(scope, exchange.receive, send)
        except Exception as exc:  # noqa: BLE001  (only a stream fault's deliberate drop is swallowed)
            if not aborted(exc):
                raise
