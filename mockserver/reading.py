"""Read a routed, authenticated request into a :class:`~mockserver.call.Call`, checked against its operation."""

from __future__ import annotations

from mockserver.bodies import parse_body
from mockserver.call import Call
from mockserver.config import MockConfig
from mockserver.exchange import Exchange
from mockserver.faults.headers import Directives
from mockserver.faults.runtime import Faults
from mockserver.state import MockState
from mockserver.validation import NO_PARAMETERS, invalid, read_parameters


async def read_call(exchange: Exchange, config: MockConfig, state: MockState, principal,
                    directives: Directives | None, faults: Faults | None = None) -> Call:
    """The request as a validated :class:`Call`; a :class:`MockError` for what is wrong with it."""
    operation = exchange.operation
    raw = await exchange.body(config.max_body, config.body_timeout)
    headers = exchange.headers
    params, problems = (read_parameters(operation, exchange.path_params, exchange.query, headers, exchange.cookies)
                        if operation.parameters else (NO_PARAMETERS, ()))
    body = parse_body(operation, headers.get("content-type"), raw, config.spec.resolve) if operation.body else None
    if problems:
        raise invalid(problems)
    seed = (config.seed, operation.operation_id, exchange.path, exchange.query_string.decode("latin-1"))
    # Positional, in the field order of Call (made for every request: keywords cost a third of a microsecond):
    # operation, params, body, raw_body, headers, principal, config, state, seed, example_name, prefer,
    # exchange, faults.
    return Call(operation, params, body, raw, headers, principal, config, state, seed,
                directives.example if directives else None, directives, exchange, faults)
