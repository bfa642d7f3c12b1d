"""The edge of the request path: one :class:`~mockserver.exchange.Exchange` per request, routed once, journaled.

Every HTTP request gets its exchange here, and every answer leaves through it:

1. CORS: a preflight is answered (:meth:`~mockserver.cors.CORS.preflight`); every other answer gains
   the CORS headers as the exchange sends its head (:meth:`~mockserver.cors.CORS.added`);
2. a path of the spec goes to the :class:`~mockserver.pipeline.Pipeline` with its route; any other path
   (the mock's own ``/__mock/`` endpoints, unknown paths) to the ``own`` app, whose 404 is the mock's
   ``unknown_path`` error;
3. an error that escapes is the 500 guard's (:func:`~mockserver.guard.answer_unexpected`).

Every request but preflights and those to ``/__mock/`` is numbered and gets a journal entry, made
from its exchange when the answer's last bytes are handed over, or when the request ends without them.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette._utils import get_route_path
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.cors import CORS
from mockserver.exchange import Exchange
from mockserver.faults.runtime import Faults
from mockserver.guard import answer_unexpected
from mockserver.pipeline import Pipeline, Route
from mockserver.routing import Dispatcher

RESERVED_PREFIX = "/__mock"  # the mock's own endpoints: not journaled, not faulted


class Edge:
    def __init__(self, routes: Mapping[str, Route], pipeline: Pipeline, own: ASGIApp, keys, faults: Faults,
                 cors: CORS):
        """``keys`` has ``authenticate(token) -> Principal | None`` (the app's MockState)."""
        self.dispatcher: Dispatcher[Route] = Dispatcher(routes)
        self.pipeline = pipeline
        self.own = own
        self.keys = keys
        self.faults = faults
        self.cors = cors
        self.record = faults.journal.record_exchange

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = Exchange(scope, receive, send, self.keys)
        headers = exchange.headers
        if "origin" in headers:
            if self.cors.is_preflight(exchange.method, headers):
                await self.cors.preflight(headers, send)
                return
            exchange.cors = self.cors.added(headers)
        path = get_route_path(scope)
        try:
            if path.startswith(RESERVED_PREFIX + "/"):
                await self.own(scope, receive, exchange.send)
                return
            exchange.journaled(self.faults.next_sequence(), self.record)
            if self.faults.journal.capturing:
                exchange.chunks = []  # the inspector is watching: note the answer's body messages
            query = exchange.query_string
            match = self.dispatcher.match(path, query.decode("latin-1") if query and self.dispatcher.queried else "")
            if match is None:
                await self.own(scope, receive, exchange.send)
            else:
                route, exchange.path_params = match
                await self.pipeline(scope, exchange, route)
        except Exception:
            await answer_unexpected(scope, exchange)
            raise
        finally:
            exchange.done()
