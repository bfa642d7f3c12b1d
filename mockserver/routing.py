"""Dispatch a request to its spec path: fixed paths by one dict lookup, templated ones by regular expression.

Paths the spec does not have (the mock's own ``/__mock/`` endpoints, unknown paths) go to the
``fallback`` app; its 404 is the mock's ``unknown_path`` error. There are no trailing-slash redirects.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping

from starlette._utils import get_route_path
from starlette.types import ASGIApp, Receive, Scope, Send

# An endpoint gets the path parameters by their spec names.
Endpoint = Callable[[Scope, Receive, Send, Mapping[str, str]], Awaitable[None]]
_TEMPLATE = re.compile(r"{([^}]*)}")
_NO_PARAMS: Mapping[str, str] = {}


def route_order(path: str) -> tuple[tuple[int, str], ...]:
    """Fixed segments before templated ones, so ``/keys/usage`` wins over ``/keys/{id}``."""
    return tuple((1 if "{" in segment else 0, segment) for segment in path.split("/"))


def compile_template(path: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """A spec path template as a pattern with one group per ``{name}`` (one segment each), and the names."""
    names = tuple(_TEMPLATE.findall(path))
    pattern = "".join(re.escape(part) if index % 2 == 0 else "([^/]+)"
                      for index, part in enumerate(_TEMPLATE.split(path)))
    return re.compile(pattern), names


class Dispatcher:
    def __init__(self, endpoints: Mapping[str, Endpoint], fallback: ASGIApp):
        """``endpoints`` by full path template (base path included)."""
        self.fixed = {path: endpoint for path, endpoint in endpoints.items() if "{" not in path}
        self.templated = [(*compile_template(path), endpoints[path])
                          for path in sorted(endpoints, key=route_order) if "{" in path]
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = get_route_path(scope)
        endpoint = self.fixed.get(path)
        if endpoint is not None:
            await endpoint(scope, receive, send, _NO_PARAMS)
            return
        for pattern, names, candidate in self.templated:
            match = pattern.fullmatch(path)
            if match is not None:
                await candidate(scope, receive, send, dict(zip(names, match.groups(), strict=True)))
                return
        await self.fallback(scope, receive, send)
