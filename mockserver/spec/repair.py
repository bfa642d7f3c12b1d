"""Make every schema of a document valid JSON Schema 2020-12, saying what was changed and where.

Each schema position (``components.schemas`` and every inline ``schema``/``itemSchema`` of a
parameter, header, request or response) is checked against the 2020-12 meta-schema with
jsonschema-rs. A keyword that breaks it is repaired when its meaning is clear (a 3.0-style boolean
``exclusiveMinimum`` in a 3.1 document, a ``required`` list with repeats) and otherwise dropped, so
that validation of that part is relaxed rather than the operation refused. The document as loaded
is not changed: repairs copy the nodes on their path (copy-on-write), so ``/__mock/openapi.json``
still serves the file as written.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs

from mockserver.spec.defects import Defects
from mockserver.spec.structure import pointer_of

# Formats on: an invalid regular expression in "pattern" is found here, so only that keyword is relaxed.
_META = jsonschema_rs.validator_for({"$ref": "https://json-schema.org/draft/2020-12/schema"}, validate_formats=True)
_SKIP = ("example", "examples", "x-")
_SCHEMA_KEYS = ("schema", "itemSchema")
_MAX_ROUNDS = 8  # a repair can uncover another error at the same place


def schema_positions(document: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every place of ``document`` that holds a schema object, as (path, schema)."""
    components = document.get("components")
    if isinstance(components, dict):
        schemas = components.get("schemas")
        if isinstance(schemas, dict):
            for name, schema in schemas.items():
                yield ("components", "schemas", name), schema
        for key, value in components.items():
            if key != "schemas":
                yield from _walk(value, ("components", key))
    yield from _walk(document.get("paths"), ("paths",))
    yield from _walk(document.get("webhooks"), ("webhooks",))


def _walk(node: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and key.startswith(_SKIP):
                continue
            if key in _SCHEMA_KEYS and isinstance(value, (dict, bool)):
                yield (*path, key), value
            else:
                yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index))


def repair_schemas(document: dict[str, Any], defects: Defects) -> dict[str, Any]:
    """``document`` with every schema made valid 2020-12 (the same object when nothing needed repair)."""
    for path, schema in list(schema_positions(document)):
        for _ in range(_MAX_ROUNDS):
            errors = list(_META.iter_errors(schema))
            if not errors:
                break
            # Deepest first, so that fixing one place does not move the others.
            for error in sorted(errors, key=lambda e: len(e.instance_path), reverse=True):
                document, schema = _repair(document, path, schema, list(error.instance_path), error.message, defects)
    return document


def _repair(document: dict[str, Any], path: tuple[Any, ...], schema: Any, where: list[Any], message: str,
            defects: Defects) -> tuple[dict[str, Any], Any]:
    # Find the keyword the error is about: the last string step whose parent is a mapping.
    while where and not isinstance(where[-1], str):
        where = where[:-1]
    if not where:
        document = _replace(document, list(path), lambda _: {})
        defects.add(pointer_of(path), f"not a schema ({message.splitlines()[0]}); this part accepts any value")
        return document, _get(document, path)
    keyword = where[-1]
    parent_path = (*path, *where[:-1])
    parent = _get(document, parent_path)
    if not isinstance(parent, dict) or keyword not in parent:
        return document, schema
    value = parent[keyword]
    pointer = pointer_of((*parent_path, keyword))
    first = message.splitlines()[0]
    if keyword in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool):
        bound = "minimum" if keyword == "exclusiveMinimum" else "maximum"
        new = dict(parent)
        del new[keyword]
        if value and isinstance(parent.get(bound), (int, float)):
            new[keyword] = new.pop(bound)
            note = f"read as {keyword}: {new[keyword]} (the 3.1 form)"
        else:
            note = "dropped (no bound to make exclusive)"
        defects.add(pointer, f"boolean {keyword} is the OpenAPI 3.0 form, not valid in 3.1; {note}")
    elif isinstance(value, list) and len({_key(v) for v in value}) < len(value):
        new = dict(parent)
        unique, seen = [], set()
        for item in value:
            if _key(item) not in seen:
                seen.add(_key(item))
                unique.append(item)
        new[keyword] = unique
        defects.add(pointer, f"{keyword} lists an entry more than once; repeats ignored")
    else:
        new = {k: v for k, v in parent.items() if k != keyword}
        defects.add(pointer, f"invalid {keyword!r} ({first}); keyword ignored, so validation of this part is relaxed")
    document = _replace(document, list(parent_path), lambda _: new)
    return document, _get(document, path)


def _key(value: Any) -> Any:
    return repr(value) if isinstance(value, (dict, list)) else (type(value).__name__, value)


def _get(node: Any, path: tuple[Any, ...] | list[Any]) -> Any:
    for part in path:
        node = node[part]
    return node


def _replace(node: Any, path: list[Any], fn: Any) -> Any:
    """A copy of ``node`` with the value at ``path`` replaced by ``fn(value)``; only the path's nodes are copied."""
    if not path:
        return fn(node)
    head = path[0]
    copied = list(node) if isinstance(node, list) else dict(node)
    copied[head] = _replace(node[head], path[1:], fn)
    return copied
