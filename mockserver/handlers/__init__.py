"""What answers a validated call: a table from ``operationId`` to :class:`Handler`, given to the app.

Every operation of the loaded spec is answered by :data:`GENERIC` (examples, then generated data)
unless the table names a handler for its ``operationId``: that is where the gateway's real
behaviour lives (chat, streams, keys, usage). :data:`mockserver.handlers.table.BUILTIN` is the
Requesty table; a spec without those operation ids gets the generic mock for all of them, and an
app can be given another table (``create_app(handlers=...)``), the way Starlette takes ``routes=[...]``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from mockserver.handlers import generic
from mockserver.responses import JSONResponse

if TYPE_CHECKING:
    from mockserver.call import Call

Answer = Callable[["Call"], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Handler:
    answer: Answer
    admin_only: bool = False  # any key but the admin key gets 403, before the request is read
    # The handler resolves the request's model itself (policies, aliases, regions) and asks the faults
    # runtime per model it tries, so the fault step leaves unavailable models and error rates to it.
    routes_models: bool = False


Handlers = Mapping[str, Handler]
GENERIC = Handler(generic.answer)


def admin_json(payload: Callable[[Call], Any]) -> Handler:
    """An admin-only handler whose answer is ``payload(call)`` as JSON."""

    async def answer(call: Call) -> Response:
        return JSONResponse(payload(call))

    return Handler(answer, admin_only=True)
