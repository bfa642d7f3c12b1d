"""Read a request into a :class:`~mockserver.call.Call`: from the raw ASGI scope, checked against its operation."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect, cookie_parser
from starlette.types import Receive, Scope

from mockserver.auth import authenticate
from mockserver.bodies import parse_body
from mockserver.call import Call
from mockserver.config import MockConfig
from mockserver.eager import begin
from mockserver.errors import MockError
from mockserver.faults.headers import undocumented_code
from mockserver.faults.middleware import CALLER_SCOPE_KEY, PREFER_SCOPE_KEY
from mockserver.handlers import is_admin_only
from mockserver.request_headers import headers_of
from mockserver.spec.model import Operation
from mockserver.state import MockState
from mockserver.validation import invalid, query_lists, read_parameters


async def read_call(scope: Scope, receive: Receive, operation: Operation, config: MockConfig, state: MockState,
                    path_params: Mapping[str, str]) -> Call:
    """The request as a validated :class:`Call` of ``operation``; a :class:`MockError` for what is wrong with it."""
    headers, header_bytes = headers_of(scope)
    if header_bytes > config.max_headers:
        raise MockError(431, f"The request headers total {header_bytes} bytes; the limit is {config.max_headers} bytes.")
    query_string = scope["query_string"]
    query = query_lists(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)) if query_string else {}
    cookie = headers.get("cookie")
    cookies = cookie_parser(cookie) if cookie else {}
    principal = authenticate(operation, state, headers, query, cookies)
    seen = scope.get(CALLER_SCOPE_KEY)
    if seen is not None:  # for the journal
        seen.operation = operation
        if principal is not None:
            seen.key_id = principal.key_id
    if principal is not None and not principal.is_admin and is_admin_only(operation.operation_id):
        raise MockError(403, "Managing API keys and reading usage needs the organization's admin key; "
                             "this key may only call the inference endpoints.")
    if operation.body is None and "content-length" not in headers and "transfer-encoding" not in headers:
        raw = b""  # no body is coming (RFC 9112 6.3) and none is expected: nothing to wait for
    else:
        raw = await read_limited_body(receive, headers, config.max_body, config.body_timeout)
    params, problems = read_parameters(operation, path_params, query, headers, cookies)
    body = parse_body(operation, headers.get("content-type"), raw, config.spec.resolve) if operation.body else None
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


async def read_limited_body(receive: Receive, headers: Mapping[str, str], limit: int, timeout: float) -> bytes:
    """The whole body; 413 as soon as it is known to be over ``limit`` bytes, 408 if it stalls."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise MockError(413, f"The request body is {declared} bytes; the limit is {limit} bytes.")
    chunks = []
    size = 0
    while True:
        arrived, message = begin(receive())
        if not arrived:  # the next piece has to be waited for, at most ``timeout`` (a slow upload may go on)
            try:
                async with asyncio.timeout(timeout):
                    message = await message
            except TimeoutError:
                raise MockError(408, f"The request body did not arrive within {timeout:g} s.",
                                headers={"Connection": "close"}) from None
        if message["type"] != "http.request":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise MockError(413, f"The request body is over the limit of {limit} bytes.")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
