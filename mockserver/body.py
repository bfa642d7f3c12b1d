"""Reading a request body within the limits: ``--max-body`` (413) and ``--body-timeout`` (408).

The one body reader of the mock: every step that needs the body (faults that look at the model or
the token estimate, the call's validation) gets it from the request's
:class:`~mockserver.exchange.Exchange`, which reads it once, through here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from starlette.requests import ClientDisconnect
from starlette.types import Receive

from mockserver.eager import begin
from mockserver.errors import MockError


async def read_limited_body(receive: Receive, headers: Mapping[str, str], limit: int, timeout: float) -> bytes:
    """The whole body; 413 as soon as it is known to be over ``limit`` bytes, 408 if it stalls.

    Nothing over the limit is kept: a declared length over it is refused before any byte is read,
    and an undeclared body is refused at the first piece that crosses it.
    """
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
