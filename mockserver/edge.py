"""The edge of the request path: one :class:`~mockserver.exchange.Exchange` per request, routed once, journaled.

A path of the spec goes to the :class:`~mockserver.pipeline.Pipeline` with its route; any other path
(the mock's own ``/__mock/`` endpoints, unknown paths) to the ``own`` app, whose 404 is the mock's
``unknown_path`` error. Every request but those to ``/__mock/`` gets a journal entry, made from its
exchange when the answer's last bytes are handed over, or when the request ends without them.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette._utils import get_route_path
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.exchange import Exchange
from mockserver.faults.runtime import Faults
from mockserver.pipeline import Pipeline, Route
from mockserver.routing import Dispatcher

RESERVED_PREFIX = "/__mock"  # the mock's own endpoints: not journaled, not faulted


class Edge:
    def __init__(self, routes: Mapping[str, Route], pipeline: Pipeline, own: ASGIApp, keys, faults: Faults):
        """``keys`` has ``authenticate(token) -> Principal | None`` (the app's MockState)."""
        self.dispatcher: Dispatcher[Route] = Dispatcher(routes)
        self.pipeline = pipeline
        self.own = own
        self.keys = keys
        self.faults = faults
        self.record = faults.journal.record_exchange

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = get_route_path(scope)
        if path.startswith(RESERVED_PREFIX + "/"):
            await self.own(scope, receive, send)
            return
        exchange = Exchange(scope, receive, send, self.keys, self.faults.next_sequence(), self.record)
        if self.faults.journal.capturing:
            exchange.chunks = []  # the inspector is watching: note the answer's body messages
        try:
            match = self.dispatcher.match(path, scope.get("query_string", b"").decode("latin-1"))
            if match is None:
                await self.own(scope, receive, exchange.send)
            else:
                route, exchange.path_params = match
                await self.pipeline(scope, exchange, route)
        finally:
            exchange.done()
