"""Values valid for a caller's JSON Schema: tool-call arguments and structured outputs.

Generated with a :func:`mockserver.generation.fresh_plan` and checked with
jsonschema-rs; a schema the generator cannot satisfy is a clear 400, never
an invalid value.

A caller's schema arrives in every request as a new object, so nothing is
remembered by its identity. What is remembered is keyed by its content: the
validator and generation plan of the last :data:`REMEMBERED` distinct schemas
(by their JSON text, each at most :data:`REMEMBERED_BYTES` long; a larger one is
compiled on every request). An agent sends the same few schemas again and
again, and compiling one costs more than its JSON text.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jsonschema_rs
import orjson

from mockserver.errors import MockError
from mockserver.generation import Plan, fresh_plan
from mockserver.spec.model import resolve_pointer

ATTEMPTS = 8
MAX_SIZE = 10_000  # largest minItems / minLength / minProperties the mock generates
EMPTY_OBJECT: dict[str, Any] = {"type": "object", "properties": {}}
REMEMBERED = 256  # distinct caller schemas whose validator and plan are kept (least recently used goes first)
REMEMBERED_BYTES = 16 * 1024  # the longest JSON text of a schema that is kept


class _Invalid(Exception):
    """Not a JSON Schema; the message says why (the caller names the parameter)."""


@dataclass(frozen=True, slots=True)
class CallerSchema:
    """A caller's schema, compiled: its validator and its generation plan (None: it asks for too much)."""

    validator: jsonschema_rs.Validator
    plan: Plan | None


def compile_schema(schema: Any, param: str) -> CallerSchema:
    """The compiled ``schema``, or a 400 naming ``param`` when it is not a JSON Schema."""
    if not isinstance(schema, (dict, bool)):
        raise MockError(400, f"{param} must be a JSON Schema object.", code="invalid_schema", param=param)
    try:
        try:
            text = orjson.dumps(schema)
        except orjson.JSONEncodeError:  # nested deeper than orjson writes: compiled, not remembered
            return _compile(schema)
        return _remembered(text) if len(text) <= REMEMBERED_BYTES else _compile(schema)
    except _Invalid as exc:
        raise MockError(400, f"{param} is not a valid JSON Schema: {exc}", code="invalid_schema", param=param) from None


def generate_valid(schema: Any, rng: random.Random, param: str) -> Any:
    """A value valid for ``schema``, deterministic for ``rng``'s state."""
    compiled = compile_schema(schema, param)
    if compiled.plan is None:
        raise MockError(400, f"The schema in {param} asks for more than {MAX_SIZE} items, properties or characters.",
                        code="unsupported_schema", param=param)
    for _ in range(ATTEMPTS):
        try:
            value = compiled.plan(rng)
        except RecursionError:  # a schema that requires itself without end
            break
        if compiled.validator.is_valid(value):
            return value
    hint = " or force the reply with the X-Mock-Reply header" if param.startswith("response_format") else ""
    raise MockError(400, f"The mock cannot generate a value valid for the schema in {param}; simplify the schema{hint}.",
                    code="unsupported_schema", param=param)


def remembered() -> int:
    """How many compiled caller schemas are kept now (at most :data:`REMEMBERED`)."""
    return _remembered.cache_info().currsize


@lru_cache(maxsize=REMEMBERED)
def _remembered(text: bytes) -> CallerSchema:
    """Compiled from its own copy of the schema (parsed from ``text``): no request object is kept."""
    return _compile(orjson.loads(text))


def _compile(schema: Any) -> CallerSchema:
    try:
        validator = jsonschema_rs.validator_for(schema)
    except (jsonschema_rs.ValidationError, ValueError) as exc:
        raise _Invalid(getattr(exc, "message", None) or str(exc).splitlines()[0]) from None

    def resolve(node: Any) -> Any:
        for _ in range(64):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#")):
                break
            try:
                node = resolve_pointer(schema, node["$ref"][1:])
            except (KeyError, IndexError, ValueError, TypeError):
                return {}
        return node

    return CallerSchema(validator, None if _largest_minimum(schema) > MAX_SIZE else _LazyPlan(schema, resolve))


class _LazyPlan:
    """The schema's plan, compiled when a value is first asked for (most tools are listed, not called)."""

    __slots__ = ("_args", "_plan")

    def __init__(self, schema: Any, resolve: Any):
        self._args: tuple[Any, Any] | None = (schema, resolve)
        self._plan: Plan | None = None

    def __call__(self, rng: random.Random) -> Any:
        if self._plan is None:
            assert self._args is not None
            self._plan, self._args = fresh_plan(*self._args), None
        return self._plan(rng)


def _largest_minimum(schema: Any) -> float:
    if isinstance(schema, list):
        return max((_largest_minimum(item) for item in schema), default=0)
    if not isinstance(schema, dict):
        return 0
    own = [v for k, v in schema.items() if k in ("minItems", "minLength", "minProperties") and isinstance(v, (int, float))]
    return max([*own, *(_largest_minimum(v) for v in schema.values())], default=0)
