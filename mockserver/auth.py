"""Who is calling: read the credential the operation's security schemes name, and check it."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.errors import MockError
from mockserver.spec.model import SecurityScheme

DEFAULT_API_KEY = "rq-mock-admin-key"
ADMIN_KEY_ID = "admin"
# What paths outside the spec (the mock's own endpoints, unknown paths) take: a bearer token.
BEARER: tuple[tuple[SecurityScheme, ...], ...] = ((SecurityScheme("bearer", "bearer", "header", "authorization"),),)


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    is_admin: bool
    # what authentication read with the key, so the call reads it no more: its record, and with a
    # shared store (``--state``) its spend this month (read in the same step as the key)
    record: Any = field(default=None, compare=False, repr=False)
    spent: int | None = field(default=None, compare=False, repr=False)


class AdminKey:
    """The one key the mock starts with; compared in constant time."""

    def __init__(self, secret: str):
        self._secret = secret.encode()
        self._principal = Principal(ADMIN_KEY_ID, True)

    def authenticate(self, token: str) -> Principal | None:
        if hmac.compare_digest(token.encode(), self._secret):
            return self._principal
        return None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header value, or None."""
    prefix, _, token = (authorization or "").partition(" ")
    return (token.strip() or None) if prefix.lower() == "bearer" else None


def credential(scheme: SecurityScheme, headers: Mapping[str, str], query: Mapping[str, list[str]],
               cookies: Mapping[str, str]) -> str | None:
    """The token a request presents for ``scheme``, or None."""
    if scheme.kind == "apiKey":
        if scheme.location == "query":
            values = query.get(scheme.parameter) or []
            return values[-1] if values else None
        if scheme.location == "cookie":
            return cookies.get(scheme.parameter)
        return headers.get(scheme.parameter.lower())
    header = headers.get("authorization", "")
    if scheme.kind != "basic":
        return bearer_token(header)
    prefix, _, value = header.partition(" ")
    if prefix.lower() != "basic":
        return None
    try:
        return base64.b64decode(value.strip(), validate=True).decode().partition(":")[2] or None
    except (ValueError, UnicodeDecodeError):
        return None


def authenticate(security: tuple[tuple[SecurityScheme, ...], ...], keys, headers: Mapping[str, str],
                 query: Mapping[str, list[str]], cookies: Mapping[str, str]) -> Principal | None:
    """The caller, for the security alternatives of an operation: its principal, None when the
    operation is open to all, or a 401 :class:`MockError`.

    The one place a request's credentials are checked (``keys`` is the app's MockState); the
    request's :class:`~mockserver.exchange.Exchange` calls it at most once.
    """
    if not security or not all(security):
        return None
    presented = False
    for alternative in security:
        if len(alternative) == 1:  # the usual case: one scheme, one token
            token = credential(alternative[0], headers, query, cookies)
            if token:
                presented = True
                principal = keys.authenticate(token)
                if principal is not None:
                    return principal
            continue
        tokens = [credential(scheme, headers, query, cookies) for scheme in alternative]
        if any(tokens):
            presented = True
        if all(tokens):
            principals = [keys.authenticate(t) for t in tokens]
            if all(principals):
                return principals[0]
    if not presented:
        raise MockError(
            401,
            "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.",
            code="missing_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    raise MockError(401, "Incorrect API key provided.", code="invalid_api_key",
                    headers={"WWW-Authenticate": "Bearer"})
