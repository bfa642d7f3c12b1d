"""Check a document against the published OpenAPI JSON Schema, collecting every error as a defect.

The OpenAPI 3.0/3.1 JSON Schemas shipped by openapi-spec-validator are compiled with jsonschema-rs
(milliseconds even for a 3 MB document; openapi-spec-validator's own full walk takes seconds there).
The 3.1 schema leaves schema objects to :mod:`mockserver.spec.repair`, which checks them against
JSON Schema 2020-12.
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from mockserver.spec.defects import Defects
from mockserver.spec.schemas import escape_pointer

_RESOURCE = {"3.0": "v3.0", "3.1": "v3.1", "3.2": "v3.2"}


@cache
def _validator(version: str) -> Any:
    # Located without importing openapi_spec_validator (a quarter of a second of imports).
    found = importlib.util.find_spec("openapi_spec_validator")
    package = Path(next(iter(found.submodule_search_locations)))  # type: ignore[union-attr]
    path = package / "resources" / "schemas" / _RESOURCE[version] / "schema.json"
    return jsonschema_rs.validator_for(json.loads(path.read_text(encoding="utf-8")))


def pointer_of(parts: Any) -> str:
    return "".join("/" + escape_pointer(str(p)) for p in parts)


def check_structure(document: dict[str, Any], version: str, defects: Defects) -> None:
    """Add a defect for every place where ``document`` breaks the OpenAPI schema of ``version``."""
    for error in _validator(version).iter_errors(document):
        message = error.message.splitlines()[0]
        if len(message) > 200:
            message = message[:200] + "…"
        defects.add(pointer_of(error.instance_path), f"not valid OpenAPI {version}: {message}; served as far as it can be")
