"""Reading values out of a target's answers, for the checks."""

from __future__ import annotations

import json

import jsonschema_rs

from contract_tests.checks.outcomes import CheckFailed


def number(value: object) -> bool:
    """A JSON number (not a boolean)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def usage_of(body: dict, what: str) -> dict:
    """The ``usage`` object of an answer, or a failure that says what came instead."""
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        raise CheckFailed(f"{what}: expected a usage object, received {str(usage)[:200]}")
    return usage


def schema_problem(value: object, schema: dict) -> str | None:
    """Why ``value`` is not valid against the JSON Schema ``schema``, or None when it is."""
    error = next(iter(jsonschema_rs.validator_for(schema).iter_errors(value)), None)
    return None if error is None else str(error.message)


def json_problem(text: object, schema: dict, what: str) -> str | None:
    """Why the JSON text ``text`` does not parse to a value valid against ``schema``, or None."""
    if not isinstance(text, str):
        return f"{what}: expected a JSON string, received {str(text)[:120]}"
    try:
        value = json.loads(text)
    except ValueError:
        return f"{what}: not JSON: {text[:120]!r}"
    problem = schema_problem(value, schema)
    return f"{what} {text[:120]!r} is not valid against the schema: {problem}" if problem else None
