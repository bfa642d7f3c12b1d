"""What answers a validated call.

Every operation of the loaded spec is answered by :func:`generic.answer`
(examples, then generated data) unless a semantic handler is registered for
its ``operationId``: that is where the gateway's real behaviour lives (chat,
streams, keys, usage). A spec without those operation ids gets the generic
mock for all of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.responses import Response

if TYPE_CHECKING:
    from mockserver.call import Call

Handler = Callable[["Call"], Awaitable[Response]]
_REGISTRY: dict[str, Handler] = {}


def handles(operation_id: str) -> Callable[[Handler], Handler]:
    """Register the decorated coroutine as the semantic handler of ``operation_id``."""

    def register(func: Handler) -> Handler:
        _REGISTRY[operation_id] = func
        return func

    return register


def handler_for(operation_id: str) -> Handler | None:
    _load_builtin()
    return _REGISTRY.get(operation_id)


_loaded = False


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        from mockserver.handlers import builtin  # noqa: F401  (registers on import)
