"""Errors in the OpenAI shape: ``{"error": {"message", "type", "param", "code", "origin"}}``.

``origin`` is Requesty's: ``provider`` when the upstream provider failed (an injected 5xx or 429, an
unavailable model), ``router`` for everything the router itself decides (authentication, limits,
validation, unknown models), and ``router`` for a failure after a stream has started ("a problem
with the provider stream"). The OpenAI SDKs ignore the extra field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mockserver.responses import JSONResponse

# The type (and default code) the OpenAI SDKs and API use for each status.
DEFAULT_TYPES: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    402: ("insufficient_quota", "key_limit_exceeded"),
    403: ("permission_error", "permission_denied"),
    404: ("invalid_request_error", "not_found"),
    405: ("invalid_request_error", "method_not_allowed"),
    408: ("timeout_error", "request_timeout"),
    413: ("invalid_request_error", "payload_too_large"),
    415: ("invalid_request_error", "unsupported_media_type"),
    431: ("invalid_request_error", "headers_too_large"),
    422: ("invalid_request_error", None),
    429: ("rate_limit_error", "rate_limit_exceeded"),
    500: ("server_error", "internal_error"),
    502: ("server_error", "bad_gateway"),
    503: ("server_error", "service_unavailable"),
    504: ("timeout_error", "gateway_timeout"),
}


ROUTER = "router"
PROVIDER = "provider"


class MockError(Exception):
    """Raised anywhere in request handling; answered as an error-shaped response."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        details: Iterable[Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        origin: str = ROUTER,
    ):
        super().__init__(message)
        self.origin = origin
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.details = list(details) if details is not None else None
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.message, type=self.type, code=self.code, param=self.param,
                          details=self.details, origin=self.origin)

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def error_body(
    status: int,
    message: str,
    *,
    type: str | None = None,
    code: str | None = None,
    param: str | None = None,
    details: list[Mapping[str, str]] | None = None,
    origin: str = ROUTER,
) -> dict[str, Any]:
    default_type, default_code = DEFAULT_TYPES.get(status, ("server_error" if status >= 500 else "invalid_request_error", None))
    error: dict[str, Any] = {
        "message": message,
        "type": type or default_type,
        "param": param,
        "code": code if code is not None else default_code,
        "origin": origin,
    }
    if details is not None:
        error["details"] = [dict(d) for d in details]
    return {"error": error}


def error_response(status: int, message: str, **kwargs: Any) -> JSONResponse:
    headers = kwargs.pop("headers", None)
    return MockError(status, message, **kwargs, headers=headers).response()
