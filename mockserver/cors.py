"""CORS for the mock's settings, applied at the edge to the request's exchange.

It says what Starlette's ``CORSMiddleware`` says for the mock's settings (every method and
request header allowed, no credentials, the rate-limit headers exposed), at the cost of one
dict look-up per request and one list concatenation per answer:

- a preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) is answered
  by :meth:`CORS.preflight`: 200 ``OK``, or 400 ``Disallowed CORS ...`` for an origin not allowed,
  an unknown method or a private-network request;
- any other answer gains ``Vary: Origin`` and, when the request sent an allowed ``Origin``,
  ``Access-Control-Allow-Origin`` (``*``, or the origin when only some are allowed) and
  ``Access-Control-Expose-Headers`` (:meth:`CORS.added`, joined to the answer's head by
  :func:`with_vary` when the exchange sends it).

Every answer, the 500 of the guard included, leaves through the exchange, so each is readable
cross-origin; the answer is not wrapped in another ``send``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from starlette.types import Send

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY")
MAX_AGE_S = 600
PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, " \
                 "Access-Control-Request-Private-Network"
Raw = list[tuple[bytes, bytes]]
VARY_ORIGIN = (b"vary", b"Origin")
NOTHING: Raw = []  # shared, never changed


class CORS:
    def __init__(self, *, allow_origins: Collection[str], expose_headers: Collection[str]):
        self.any_origin = "*" in allow_origins
        self.origins = frozenset(allow_origins)
        self.exposed = [(b"access-control-expose-headers", ", ".join(expose_headers).encode("latin-1"))]
        self.allow_any = [(b"access-control-allow-origin", b"*")]

    def is_preflight(self, method: str, headers: Mapping[str, str]) -> bool:
        return method == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers

    def added(self, headers: Mapping[str, str]) -> Raw:
        """What every answer to a request with these headers gains, besides ``Vary: Origin``."""
        origin = headers.get("origin")
        return NOTHING if origin is None else self._simple_headers(origin)

    def _allowed(self, origin: str) -> bool:
        return self.any_origin or origin in self.origins

    def _simple_headers(self, origin: str) -> Raw:
        if self.any_origin:
            return self.allow_any + self.exposed
        if self._allowed(origin):
            return [(b"access-control-allow-origin", origin.encode("latin-1")), *self.exposed]
        return self.exposed

    async def preflight(self, request: Mapping[str, str], send: Send) -> None:
        """Answer a preflight (:meth:`is_preflight`)."""
        origin, method = request["origin"], request["access-control-request-method"]
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


def with_vary(headers: Raw, added: Raw) -> Raw:
    """``added`` and ``Vary: Origin`` (joined to any ``Vary`` the answer has) appended to ``headers``."""
    for name, _ in headers:
        if name == b"vary":
            break
    else:  # the usual answer: no Vary of its own
        return [*headers, *added, VARY_ORIGIN]
    vary = [value for name, value in headers if name == b"vary"]
    kept = [(name, value) for name, value in headers if name != b"vary"]
    return kept + added + [(b"vary", b", ".join([*vary, b"Origin"]))]
