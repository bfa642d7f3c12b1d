"""CORS as a pure ASGI wrapper: answers preflights, adds precomputed headers to every other answer.

It says what Starlette's ``CORSMiddleware`` says for the mock's settings (every method and
request header allowed, no credentials, the rate-limit headers exposed), at the cost of one
header scan and one list concatenation per answer:

- a preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) is answered
  here: 200 ``OK``, or 400 ``Disallowed CORS ...`` for an origin not allowed, an unknown method
  or a private-network request;
- any other answer gains ``Vary: Origin`` and, when the request sent an allowed ``Origin``,
  ``Access-Control-Allow-Origin`` (``*``, or the origin when only some are allowed) and
  ``Access-Control-Expose-Headers``.

The 500 guard sits inside it, so an error answer is readable cross-origin too.
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.request_headers import headers_of

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY")
MAX_AGE_S = 600
PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, " \
                 "Access-Control-Request-Private-Network"
Raw = list[tuple[bytes, bytes]]
VARY_ORIGIN = (b"vary", b"Origin")


class CORS:
    def __init__(self, app: ASGIApp, *, allow_origins: Collection[str], expose_headers: Collection[str]):
        self.app = app
        self.any_origin = "*" in allow_origins
        self.origins = frozenset(allow_origins)
        self.exposed = [(b"access-control-expose-headers", ", ".join(expose_headers).encode("latin-1"))]
        self.allow_any = [(b"access-control-allow-origin", b"*")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = headers_of(scope)[0]
        origin = headers.get("origin")
        if origin is None:
            added: Raw = []
        else:
            method = headers.get("access-control-request-method")
            if method is not None and scope["method"] == "OPTIONS":
                await self._preflight(headers, origin, method, send)
                return
            added = self._simple_headers(origin)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_vary(message.get("headers", []), added)
            await send(message)

        await self.app(scope, receive, sending)

    def _allowed(self, origin: str) -> bool:
        return self.any_origin or origin in self.origins

    def _simple_headers(self, origin: str) -> Raw:
        if self.any_origin:
            return self.allow_any + self.exposed
        if self._allowed(origin):
            return [(b"access-control-allow-origin", origin.encode("latin-1")), *self.exposed]
        return self.exposed

    async def _preflight(self, request: dict[str, str], origin: str, method: str, send: Send) -> None:
        requested = request.get("access-control-request-headers")
        private = "access-control-request-private-network" in request
        headers: Raw = [(b"vary", PREFLIGHT_VARY.encode())]
        failures = []
        if self.any_origin:
            headers.append((b"access-control-allow-origin", b"*"))
        elif self._allowed(origin):
            headers.append((b"access-control-allow-origin", origin.encode("latin-1")))
        else:
            failures.append("origin")
        headers += [(b"access-control-allow-methods", ", ".join(ALL_METHODS).encode()),
                    (b"access-control-max-age", str(MAX_AGE_S).encode())]
        if method not in ALL_METHODS:
            failures.append("method")
        if requested is not None:
            headers.append((b"access-control-allow-headers", requested.encode("latin-1")))  # all allowed: mirrored
        if private:
            failures.append("private-network")
        status, body = (400, ("Disallowed CORS " + ", ".join(failures)).encode()) if failures else (200, b"OK")
        headers += [(b"content-length", str(len(body)).encode()), (b"content-type", b"text/plain; charset=utf-8")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _with_vary(headers: Raw, added: Raw) -> Raw:
    """``added`` and ``Vary: Origin`` (joined to any ``Vary`` the answer has) appended to ``headers``."""
    vary = [value for name, value in headers if name == b"vary"]
    if not vary:
        return [*headers, *added, VARY_ORIGIN]
    kept = [(name, value) for name, value in headers if name != b"vary"]
    return kept + added + [(b"vary", b", ".join([*vary, b"Origin"]))]
