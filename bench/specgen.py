"""A generated OpenAPI 3.1 spec of N operations, for the start-up measurement.

Resources of five operations each (list, create, get, update, delete), with request and
response bodies that ``$ref`` shared components (money, metadata, pagination, errors), a
path parameter, query parameters and bearer auth: the shape of a real management API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

OPERATIONS_PER_RESOURCE = 5


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _shared_schemas() -> dict[str, Any]:
    return {
        "Money": {"type": "object", "required": ["amount", "currency"], "properties": {
            "amount": {"type": "number", "minimum": 0}, "currency": {"type": "string", "enum": ["USD", "EUR", "GBP"]}}},
        "Metadata": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 256}},
        "Page": {"type": "object", "required": ["has_more"], "properties": {
            "has_more": {"type": "boolean"}, "next_cursor": {"type": ["string", "null"]}}},
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["message", "type"], "properties": {
                "message": {"type": "string"}, "type": {"type": "string"},
                "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}}}}},
    }


def _resource_schemas(name: str) -> dict[str, Any]:
    title = name.capitalize()
    fields = {
        "name": {"type": "string", "minLength": 1, "maxLength": 128},
        "description": {"type": "string", "maxLength": 2048},
        "status": {"type": "string", "enum": ["active", "paused", "archived"]},
        "budget": _ref("Money"),
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 20, "uniqueItems": True},
        "metadata": _ref("Metadata"),
    }
    return {
        f"{title}Input": {"type": "object", "required": ["name"], "additionalProperties": False,
                          "properties": fields},
        title: {"allOf": [_ref(f"{title}Input"), {"type": "object", "required": ["id", "created_at"], "properties": {
            "id": {"type": "string", "format": "uuid"}, "created_at": {"type": "string", "format": "date-time"},
            "owner": {"type": "string", "format": "email"}}}]},
        f"{title}List": {"allOf": [_ref("Page"), {"type": "object", "required": ["data"], "properties": {
            "data": {"type": "array", "items": _ref(title)}}}]},
    }


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _errors() -> dict[str, Any]:
    return {status: {"description": text, **_json(_ref("Error"))}
            for status, text in (("400", "Bad request"), ("401", "Unauthorized"), ("404", "Not found"))}


def _resource_paths(name: str) -> dict[str, Any]:
    title = name.capitalize()
    item = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
    return {
        f"/{name}": {
            "get": {"operationId": f"list{title}", "parameters": [
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                {"name": "cursor", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "OK", **_json(_ref(f"{title}List"))}, **_errors()}},
            "post": {"operationId": f"create{title}", "requestBody": {"required": True, **_json(_ref(f"{title}Input"))},
                     "responses": {"201": {"description": "Created", **_json(_ref(title))}, **_errors()}},
        },
        f"/{name}/{{id}}": {
            "parameters": [item],
            "get": {"operationId": f"get{title}",
                    "responses": {"200": {"description": "OK", **_json(_ref(title))}, **_errors()}},
            "patch": {"operationId": f"update{title}", "requestBody": {"required": True, **_json(_ref(f"{title}Input"))},
                      "responses": {"200": {"description": "OK", **_json(_ref(title))}, **_errors()}},
            "delete": {"operationId": f"delete{title}", "responses": {"204": {"description": "Deleted"}, **_errors()}},
        },
    }


def generate_spec(operations: int = 500) -> dict[str, Any]:
    resources = [f"resource{index:03d}" for index in range(-(-operations // OPERATIONS_PER_RESOURCE))]
    schemas = _shared_schemas()
    paths: dict[str, Any] = {}
    for name in resources:
        schemas.update(_resource_schemas(name))
        paths.update(_resource_paths(name))
    # The model catalog, so the readiness probe (GET /models) answers as it does on the real spec.
    paths["/models"] = {"get": {"operationId": "listModels", "responses": {
        "200": {"description": "OK", **_json({"type": "object", "properties": {"data": {"type": "array"}}})}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": f"Generated API ({operations} operations)", "version": "1.0.0"},
        "servers": [{"url": "http://127.0.0.1/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}, "schemas": schemas},
    }


def write_spec(path: Path, operations: int = 500) -> Path:
    path.write_text(yaml.safe_dump(generate_spec(operations), sort_keys=False))
    return path
