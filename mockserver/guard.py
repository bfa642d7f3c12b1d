"""The 500 guard: the layer that answers an unexpected error in the error shape.

An exception that escapes the layers inside is logged and, when nothing was sent yet, answered
as a 500 in the OpenAI error shape (through the layers outside it, so a browser app gets the CORS
headers and can read why); then it is raised again for the server to see.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.errors import error_response

log = logging.getLogger("mockserver")


class Guard:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def sending(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            log.exception("unexpected error answering %s %s", scope["method"], scope["path"])
            if not started:
                await error_response(500, "The mock failed to answer this request; see its log.")(scope, receive, send)
            raise
