"""``nullable: true`` in an OpenAPI 3.1 document: the 3.0 form, which JSON Schema 2020-12 ignores.

Published 3.1 files still carry it (OpenAI's has 111), meaning "null is allowed too". Read as the
author meant, a request with ``null`` there is accepted, as clients (and Schemathesis) expect.
Each schema that says so is rewritten copy-on-write (the document as loaded is not changed) and
the whole repair is one warning, naming how many places and the first.
"""

from __future__ import annotations

from typing import Any

from mockserver.spec import repair
from mockserver.spec.defects import Defects
from mockserver.spec.repair import _replace, schema_positions
from mockserver.spec.schemas import _MAP, allowing_null
from mockserver.spec.structure import pointer_of

_SKIP = (*repair._SKIP, "default", "const", "enum")  # values, not schemas


def _nullable_paths(node: Any, path: tuple[Any, ...], names: bool = False) -> list[tuple[Any, ...]]:
    """Paths of the schemas under ``node`` (itself included) that say ``nullable: true``; innermost first."""
    found: list[tuple[Any, ...]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if names or not (isinstance(key, str) and key.startswith(_SKIP)):
                found += _nullable_paths(value, (*path, key), not names and key in _MAP)  # keys there are names
        if not names and node.get("nullable") is True:
            found.append(path)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _nullable_paths(value, (*path, index))
    return found


def read_nullable(document: dict[str, Any], defects: Defects) -> dict[str, Any]:
    """``document`` with every ``nullable: true`` schema widened to accept null (the same object when none)."""
    paths = [found for position, schema in schema_positions(document) for found in _nullable_paths(schema, position)]
    for path in paths:
        document = _replace(document, list(path), _widened)
    if paths:
        defects.add(pointer_of(paths[0]), f"nullable: true is the OpenAPI 3.0 form, ignored by 3.1; read as allowing "
                                          f"null here and at {len(paths) - 1} other place(s)")
    return document


def _widened(schema: dict[str, Any]) -> dict[str, Any]:
    return allowing_null({k: v for k, v in schema.items() if k != "nullable"})
