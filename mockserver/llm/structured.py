"""Values valid for a caller's JSON Schema: tool-call arguments and structured outputs.

Generated with :func:`mockserver.generation.generate` and checked with
jsonschema-rs; a schema the generator cannot satisfy is a clear 400, never
an invalid value.
"""

from __future__ import annotations

import random
from typing import Any

import jsonschema_rs

from mockserver.errors import MockError
from mockserver.generation import generate
from mockserver.spec.model import resolve_pointer

ATTEMPTS = 8
MAX_SIZE = 10_000  # largest minItems / minLength / minProperties the mock generates
EMPTY_OBJECT: dict[str, Any] = {"type": "object", "properties": {}}


def compile_schema(schema: Any, param: str) -> jsonschema_rs.Validator:
    """A validator for the caller's ``schema``, or a 400 naming ``param`` when it is not a JSON Schema."""
    if not isinstance(schema, (dict, bool)):
        raise MockError(400, f"{param} must be a JSON Schema object.", code="invalid_schema", param=param)
    try:
        return jsonschema_rs.validator_for(schema)
    except (jsonschema_rs.ValidationError, ValueError) as exc:
        message = getattr(exc, "message", None) or str(exc).splitlines()[0]
        raise MockError(400, f"{param} is not a valid JSON Schema: {message}", code="invalid_schema", param=param) from None


def generate_valid(schema: Any, rng: random.Random, param: str) -> Any:
    """A value valid for ``schema``, deterministic for ``rng``'s state."""
    validator = compile_schema(schema, param)
    if _largest_minimum(schema) > MAX_SIZE:
        raise MockError(400, f"The schema in {param} asks for more than {MAX_SIZE} items, properties or characters.",
                        code="unsupported_schema", param=param)

    def resolve(node: Any) -> Any:
        for _ in range(64):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#")):
                break
            try:
                node = resolve_pointer(schema, node["$ref"][1:])
            except (KeyError, IndexError, ValueError, TypeError):
                return {}
        return node

    for _ in range(ATTEMPTS):
        try:
            value = generate(schema, resolve, rng)
        except RecursionError:  # a schema that requires itself without end
            break
        if validator.is_valid(value):
            return value
    hint = " or force the reply with the X-Mock-Reply header" if param.startswith("response_format") else ""
    raise MockError(400, f"The mock cannot generate a value valid for the schema in {param}; simplify the schema{hint}.",
                    code="unsupported_schema", param=param)


def _largest_minimum(schema: Any) -> float:
    if isinstance(schema, list):
        return max((_largest_minimum(item) for item in schema), default=0)
    if not isinstance(schema, dict):
        return 0
    own = [v for k, v in schema.items() if k in ("minItems", "minLength", "minProperties") and isinstance(v, (int, float))]
    return max([*own, *(_largest_minimum(v) for v in schema.values())], default=0)
