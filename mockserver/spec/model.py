"""The loaded spec: operations with their parameters, bodies, responses and compiled validators."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jsonschema_rs

from mockserver.spec.defects import Defect
from mockserver.spec.schemas import CompiledSchema

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    location: str  # path, query, header, cookie
    required: bool
    schema: dict[str, Any]  # resolved one level: the parameter's own schema object
    kind: str | None  # the JSON type used to read the raw string (integer, number, boolean, array, ...)
    item_kind: str | None
    validator: CompiledSchema


@dataclass(frozen=True, slots=True)
class MediaType:
    name: str
    schema: Any
    example: Any
    examples: dict[str, Any]
    validator: CompiledSchema | None
    encoding: dict[str, Any] = field(default_factory=dict)  # multipart/form: property -> Encoding Object
    item_schema: bool = False  # OAS 3.2 ``itemSchema``: the schema describes each item of a sequence (stream)


@dataclass(frozen=True, slots=True)
class Response:
    status: str
    description: str
    content: dict[str, MediaType]
    headers: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RequestBody:
    required: bool
    content: dict[str, MediaType]
    json: MediaType | None = field(init=False, default=None, compare=False)  # the first JSON media type

    def __post_init__(self) -> None:
        found = next((media for name, media in self.content.items() if is_json(name)), None)
        object.__setattr__(self, "json", found)

    def json_media(self) -> MediaType | None:
        return self.json


@dataclass(frozen=True, slots=True)
class SecurityScheme:
    name: str
    kind: str  # bearer, basic, apiKey
    location: str  # header, query, cookie
    parameter: str  # header/query/cookie name


@dataclass(frozen=True, slots=True)
class Operation:
    operation_id: str
    method: str  # upper case
    path: str  # the spec's path template
    summary: str
    parameters: tuple[Parameter, ...]
    body: RequestBody | None
    responses: dict[str, Response]
    security: tuple[tuple[SecurityScheme, ...], ...]  # alternatives; () means no auth needed
    pointer: str  # JSON pointer of the operation in the document
    error_shape: str = "openai"  # the shape of its error bodies: the operation's x-mock-error-shape (openai, anthropic)

    @property
    def needs_auth(self) -> bool:
        return bool(self.security) and all(self.security)

    def success(self) -> Response | None:
        """The documented answer a mock gives by default: the lowest 2xx, else ``default``."""
        codes = sorted(s for s in self.responses if s[:1] == "2" and s[1:].isdigit())
        if codes:
            return self.responses[codes[0]]
        if "2XX" in self.responses:
            return self.responses["2XX"]
        return self.responses.get("default")


@dataclass
class LoadedSpec:
    document: dict[str, Any]
    source: str
    base_path: str
    operations: tuple[Operation, ...]
    registry: jsonschema_rs.Registry = field(repr=False)
    schema_document: dict[str, Any] = field(repr=False, default_factory=dict)  # as JSON Schema 2020-12
    defects: tuple[Defect, ...] = ()  # what is wrong with the document but could still be served

    def operation(self, operation_id: str) -> Operation:
        for op in self.operations:
            if op.operation_id == operation_id:
                return op
        raise KeyError(operation_id)

    def resolve(self, node: Any) -> Any:
        """Follow local ``$ref`` chains in ``node`` to the referenced object."""
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
            node = resolve_pointer(self.schema_document or self.document, node["$ref"][1:])
            seen += 1
            if seen > 64:
                raise ValueError("$ref cycle")
        return node

    @property
    def paths(self) -> dict[str, list[Operation]]:
        table: dict[str, list[Operation]] = {}
        for op in self.operations:
            table.setdefault(op.path, []).append(op)
        return table


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # a media type without an example


def resolve_pointer(document: Any, pointer: str) -> Any:
    node = document
    for raw in pointer.split("/")[1:] if pointer else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


@lru_cache(maxsize=256)  # a request's Content-Type is one of a few strings, checked on every call
def is_json(media_type: str) -> bool:
    base = media_type.split(";", 1)[0].strip().lower()
    return base == "application/json" or base.endswith("+json") or base == "*/*"
