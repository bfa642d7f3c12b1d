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
_ADMIN_ONLY: set[str] = set()


def handles(operation_id: str, *, admin_only: bool = False) -> Callable[[Handler], Handler]:
    """Register the decorated coroutine as the semantic handler of ``operation_id``.

    ``admin_only`` operations answer 403 to any other key, before the request is read.
    """

    def register(func: Handler) -> Handler:
        _REGISTRY[operation_id] = func
        if admin_only:
            _ADMIN_ONLY.add(operation_id)
        return func

    return register


def is_admin_only(operation_id: str) -> bool:
    _load_builtin()
    return operation_id in _ADMIN_ONLY


def handler_for(operation_id: str) -> Handler | None:
    _load_builtin()
    return _REGISTRY.get(operation_id)


_loaded = False


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        from mockserver.handlers import builtin  # noqa: F401  (registers on import)
