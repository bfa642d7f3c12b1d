"""``GET /__mock/alerts`` (admin key only): every alert delivery and each of its attempts.

A delivery shows the crossing (key id, month, threshold), the event id, the webhook URL, its state
(pending, delivered, failed) and its attempts (time, HTTP status or error class). Never the secret,
the signature or a key's secret.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.errors import MockError
from mockserver.faults.admin import _require_admin
from mockserver.responses import JSONResponse


def governance_routes(prefix: str, state) -> list[BaseRoute]:
    async def alerts(request: Request) -> Response:
        try:
            _require_admin(request, state)
        except MockError as error:
            return error.response()
        return JSONResponse({"object": "list", "data": state.governance.outbox.list()})

    return [Route(f"{prefix}/alerts", alerts, methods=["GET"])]
