"""The 500 guard: what the edge does with an unexpected error, in the error shape.

An exception that escapes the request's steps is logged and, when nothing was sent yet, answered
as a 500 in the OpenAI error shape through the request's exchange (so it carries the CORS headers
and a browser app can read why, and the journal has it with its status); then it is raised again
for the server to see. The guard reads only the exchange: whether an answer has started is the
exchange's status, so no ``send`` is wrapped to find out.
"""

from __future__ import annotations

import logging
from typing import Any

from mockserver.errors import error_response
from mockserver.exchange import Exchange

log = logging.getLogger("mockserver")
FAILED = "The mock failed to answer this request; see its log."


async def answer_unexpected(scope: dict[str, Any], exchange: Exchange) -> None:
    """Called from an ``except`` clause: log the error, and answer 500 when no answer has started."""
    log.exception("unexpected error answering %s %s", exchange.method, exchange.path)
    if exchange.status == 0:
        await error_response(500, FAILED)(scope, exchange.receive, exchange.send)
