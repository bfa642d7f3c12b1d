"""Read and check a request against its operation: parameters and JSON body.

Pure functions over plain values (no ASGI here); every violation is collected,
so a 400 lists all of them with their JSON paths.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import orjson

from mockserver.errors import MockError
from mockserver.spec.model import MediaType, Operation, Parameter, is_json


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


# The values of an operation without parameters: one read-only value shared by all its calls.
NO_PARAMETERS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {location: MappingProxyType({}) for location in ("path", "query", "header", "cookie")})


def query_lists(items: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Query parameters as name -> every value, in order (from ``QueryParams.multi_items()``)."""
    query: dict[str, list[str]] = {}
    for key, value in items:
        query.setdefault(key, []).append(value)
    return query


def coerce(raw: str, kind: str | None) -> Any:
    """Read a parameter string as its schema type; leave it as a string when it does not parse."""
    try:
        if kind == "integer":
            return int(raw, 10)
        if kind == "number":
            value = float(raw)
            return raw if math.isnan(value) or math.isinf(value) else value
        if kind == "boolean":
            return {"true": True, "false": False}.get(raw, raw)
        if kind == "null":
            return None if raw in ("", "null") else raw
    except ValueError:
        return raw
    return raw


def read_parameters(
    operation: Operation,
    path_params: Mapping[str, str],
    query: Mapping[str, Sequence[str]],
    headers: Mapping[str, str],
    cookies: Mapping[str, str],
) -> tuple[Mapping[str, Mapping[str, Any]], list[Problem]]:
    """Return the typed parameter values by location, and every problem found."""
    if not operation.parameters:
        return NO_PARAMETERS, []
    values: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}, "cookie": {}}
    problems: list[Problem] = []
    for param in operation.parameters:
        raw = _raw_value(param, path_params, query, headers, cookies)
        where = f"{param.location}.{param.name}"
        if raw is None:
            if param.required:
                problems.append(Problem(where, f"missing required {param.location} parameter '{param.name}'"))
            continue
        value: Any
        if isinstance(raw, list):
            value = [coerce(item, param.item_kind) for item in raw]
        else:
            value = coerce(raw, param.kind)
        if not param.validator.is_valid(value):
            for violation in param.validator.violations(value):
                suffix = violation.path[1:] if violation.path != "$" else ""
                problems.append(Problem(where + suffix, violation.message))
        values[param.location][param.name] = value
    return values, problems


def _raw_value(
    param: Parameter,
    path_params: Mapping[str, str],
    query: Mapping[str, Sequence[str]],
    headers: Mapping[str, str],
    cookies: Mapping[str, str],
) -> Any:
    if param.location == "path":
        return path_params.get(param.name)
    if param.location == "header":
        return headers.get(param.name.lower())
    if param.location == "cookie":
        return cookies.get(param.name)
    items = list(query.get(param.name, ()))
    if not items:
        return None
    if param.kind == "array":
        return items
    return items[-1]


def read_json_body(operation: Operation, content_type: str | None, raw: bytes) -> Any:
    """Parse and validate the body of ``operation``; raise :class:`MockError` on any problem."""
    body_spec = operation.body
    if body_spec is None:
        return None
    if not raw.strip():
        if body_spec.required:
            raise MockError(400, "A request body is required.", code="missing_body")
        return None
    if not content_type or not is_json(content_type):
        if body_spec.json_media() is None and body_spec.content:
            return raw  # a non-JSON body the spec documents: passed through as bytes
        documented = ", ".join(body_spec.content) or "application/json"
        raise MockError(
            415,
            f"Unsupported Content-Type {content_type or '(none)'!r}: send {documented}.",
            param="Content-Type",
        )
    return json_object(body_spec.json_media(), raw)


def json_object(media: MediaType | None, raw: bytes) -> Any:
    """``raw`` parsed as strict JSON (:func:`parse_json`) and validated against ``media``'s schema."""
    body = parse_json(raw)
    if media is None or media.validator is None or media.validator.is_valid(body):
        return body
    raise invalid([Problem(v.path, v.message) for v in media.validator.violations(body)])


def parse_json(raw: bytes) -> Any:
    """Strict JSON: valid UTF-8, no NaN/Infinity, nesting under 1024 levels (orjson), no duplicate keys."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MockError(400, f"The body is not valid JSON: {exc}.", code="invalid_json") from None
    if isinstance(body, (dict, list)) and _may_repeat_a_key(body, raw):
        try:
            json.loads(raw, object_pairs_hook=_refuse_duplicates)
        except _DuplicateKey as exc:
            raise MockError(400, f"The body is not valid JSON: duplicate key {exc.args[0]!r}.",
                            code="invalid_json") from None
    return body


def _may_repeat_a_key(body: Any, raw: bytes) -> bool:
    """False when the text ``raw`` cannot repeat a key: ``body`` (its parse) re-encoded has as many colons.

    Without ``\\u`` escapes, each colon of the text separates a key from its value or sits in a string,
    and orjson writes both back as they were. A repeated key is parsed once (orjson keeps the last), so
    the re-encoding loses at least the dropped pair's colon. An escape could be a colon (``\\u003a``)
    that the re-encoding writes out, so a text with escapes goes to the exact check. Both counts run
    in C: for the usual body this is a few hundred nanoseconds, not a walk over every value in Python.
    """
    colons = raw.count(b":")
    if colons < 2:
        return False  # a repeat needs two keys, so two colons
    if b"\\u" in raw:
        return True
    return orjson.dumps(body).count(b":") != colons


class _DuplicateKey(ValueError):
    pass


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


def invalid(problems: list[Problem]) -> MockError:
    first = problems[0]
    summary = f"{first.path}: {first.message}"
    if len(problems) > 1:
        summary += f" (and {len(problems) - 1} more)"
    return MockError(
        400,
        f"Invalid request: {summary}",
        code="invalid_request",
        param=first.path,
        details=[p.as_dict() for p in problems],
    )
