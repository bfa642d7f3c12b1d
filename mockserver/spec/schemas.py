"""OpenAPI schema objects as JSON Schema, and validators compiled once from them.

OpenAPI 3.1 schemas are JSON Schema 2020-12 already. OpenAPI 3.0 schemas are
a JSON Schema draft-4 dialect with ``nullable`` and boolean exclusive bounds;
:func:`upgrade_30_schema` rewrites them into 2020-12 so that one validator
class serves both versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import jsonschema_rs

# Keywords whose value is a schema, a list of schemas, or a map of schemas.
_ONE = ("items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else",
        "unevaluatedItems", "unevaluatedProperties", "contentSchema")
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems")
_MAP = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_OPENAPI_ONLY = ("nullable", "discriminator", "xml", "externalDocs", "example", "deprecated")


def upgrade_30_schema(schema: Any) -> Any:
    """Return a JSON Schema 2020-12 copy of an OpenAPI 3.0 schema object."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _ONE and isinstance(value, dict):
            out[key] = upgrade_30_schema(value)
        elif key in _MANY and isinstance(value, list):
            out[key] = [upgrade_30_schema(v) for v in value]
        elif key in _MAP and isinstance(value, dict):
            out[key] = {k: upgrade_30_schema(v) for k, v in value.items()}
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool):
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            if value and bound in schema:
                out[key] = schema[bound]
        elif key in ("minimum", "maximum") and schema.get("exclusive" + key.capitalize()) is True:
            continue
        elif key in _OPENAPI_ONLY and key != "example":
            continue
        else:
            out[key] = value
    if "$ref" in out:
        # 3.0 ignores siblings of $ref.
        return {"$ref": out["$ref"]}
    if schema.get("nullable") is True:
        return allowing_null(out)
    return out


def allowing_null(out: dict[str, Any]) -> dict[str, Any]:
    """``out`` (without ``nullable``) widened to accept null, as ``nullable: true`` meant in OpenAPI 3.0."""
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    if "type" not in out:
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def upgrade_30_document(document: dict[str, Any]) -> dict[str, Any]:
    """Rewrite every schema position of an OpenAPI 3.0 document into JSON Schema 2020-12."""

    def content(node: Any) -> None:
        if isinstance(node, dict):
            for media in node.values():
                if isinstance(media, dict) and "schema" in media:
                    media["schema"] = upgrade_30_schema(media["schema"])

    def parameters(items: Any) -> None:
        for param in items if isinstance(items, list) else []:
            if isinstance(param, dict):
                if "schema" in param:
                    param["schema"] = upgrade_30_schema(param["schema"])
                content(param.get("content"))

    def responses(node: Any) -> None:
        for response in node.values() if isinstance(node, dict) else []:
            if isinstance(response, dict):
                content(response.get("content"))
                for header in (response.get("headers") or {}).values():
                    if isinstance(header, dict) and "schema" in header:
                        header["schema"] = upgrade_30_schema(header["schema"])

    components = document.get("components") or {}
    schemas = components.get("schemas") or {}
    for name in list(schemas):
        schemas[name] = upgrade_30_schema(schemas[name])
    parameters(list((components.get("parameters") or {}).values()))
    responses(components.get("responses"))
    for body in (components.get("requestBodies") or {}).values():
        if isinstance(body, dict):
            content(body.get("content"))
    for item in (document.get("paths") or {}).values():
        if not isinstance(item, dict):
            continue
        parameters(item.get("parameters"))
        for operation in item.values():
            if isinstance(operation, dict):
                parameters(operation.get("parameters"))
                if isinstance(operation.get("requestBody"), dict):
                    content(operation["requestBody"].get("content"))
                responses(operation.get("responses"))
    return document


@dataclass(frozen=True, slots=True)
class Violation:
    """One way in which an instance breaks its schema."""

    path: str
    message: str


def json_path(parts: Any) -> str:
    """Format an instance path as ``$.a[0].b``."""
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


class CompiledSchema:
    """A schema compiled once; cheap to check, and able to list every violation."""

    __slots__ = ("schema", "_validator")

    def __init__(self, schema: Any, registry: jsonschema_rs.Registry | None, pointer: str | None = None):
        self.schema = schema
        root = {"$ref": f"{SPEC_URI}#{quote(pointer, safe=_POINTER_SAFE)}"} if pointer is not None else schema
        self._validator = jsonschema_rs.Draft202012Validator(root, registry=registry, validate_formats=True)

    def is_valid(self, instance: Any) -> bool:
        return self._validator.is_valid(instance)

    def violations(self, instance: Any) -> list[Violation]:
        return [Violation(json_path(e.instance_path), e.message) for e in self._validator.iter_errors(instance)]


SPEC_URI = "urn:mockserver:spec"
_POINTER_SAFE = "/~!$&'()*+,;=:@-._"


def escape_pointer(part: str) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")
