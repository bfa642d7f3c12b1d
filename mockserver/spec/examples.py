"""Schema-level examples that break their own schema: each a defect, and not used for generated values.

Generation (:mod:`mockserver.generation`) prefers a schema's ``example`` (or first ``examples`` item)
when it fits the schema's type. An example that does not validate against its own schema (OpenAI's
spec has several: a ``null`` where a string is required, a missing required property) would make
the mock answer something its own spec refuses. Each such example is dropped from the schema
document (copy-on-write, as in :mod:`mockserver.spec.repair`) with a warning.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs

from mockserver.spec.defects import Defects
from mockserver.spec.repair import _replace, schema_positions
from mockserver.spec.schemas import _MANY, _MAP, _ONE, CompiledSchema
from mockserver.spec.structure import pointer_of


def _with_examples(schema: Any, path: tuple[Any, ...], depth: int = 0) -> Iterator[tuple[tuple[Any, ...], dict]]:
    if not isinstance(schema, dict) or depth > 64:
        return
    if "example" in schema or isinstance(schema.get("examples"), list) and schema["examples"]:
        yield path, schema
    for key in _ONE:
        if isinstance(schema.get(key), dict):
            yield from _with_examples(schema[key], (*path, key), depth + 1)
    for key in _MANY:
        if isinstance(schema.get(key), list):
            for index, sub in enumerate(schema[key]):
                yield from _with_examples(sub, (*path, key, index), depth + 1)
    for key in _MAP:
        if isinstance(schema.get(key), dict):
            for name, sub in schema[key].items():
                yield from _with_examples(sub, (*path, key, name), depth + 1)


def drop_invalid_examples(document: dict[str, Any], registry: jsonschema_rs.Registry, defects: Defects) -> dict[str, Any]:
    found = [hit for path, schema in schema_positions(document) for hit in _with_examples(schema, path)]
    for path, schema in found:
        try:
            validator = CompiledSchema(schema, registry, pointer_of(path))
        except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError):
            continue  # reported where the schema is compiled for an operation
        for key in ("example", "examples"):
            if key not in schema:
                continue
            value = schema[key] if key == "example" else schema[key][0] if isinstance(schema[key], list) and \
                schema[key] else None
            if key == "examples" and not (isinstance(schema[key], list) and schema[key]):
                continue
            if validator.is_valid(value):
                continue
            first = validator.violations(value)[0]
            defects.add(pointer_of((*path, key)), f"{key} does not match its schema ({first.path}: "
                                                  f"{first.message[:120]}); not used for generated values")
            document = _replace(document, list(path), lambda node, key=key: {k: v for k, v in node.items() if k != key})
    return document
