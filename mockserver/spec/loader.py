"""Read a spec file, apply overlays, check the result, and build the operation table."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jsonschema_rs
import yaml

from mockserver.spec.errors import SpecError
from mockserver.spec.model import (
    HTTP_METHODS,
    MISSING,
    LoadedSpec,
    MediaType,
    Operation,
    Parameter,
    RequestBody,
    Response,
    SecurityScheme,
    resolve_pointer,
)
from mockserver.spec.overlay import apply_overlay
from mockserver.spec.schemas import SPEC_URI, CompiledSchema, escape_pointer, upgrade_30_document

SPEC_DIR_CANDIDATES = (
    Path(__file__).resolve().parents[2] / "spec",  # a source checkout or editable install
    Path(__file__).resolve().parents[1] / "_spec",  # an installed wheel
)
DEFAULT_SPEC_NAME = "requesty-openapi.yml"
DEFAULT_OVERLAY_NAME = "overlay.yml"
ERROR_SHAPE_KEY = "x-mock-error-shape"  # per operation: the shape of its error bodies
ERROR_SHAPES = ("openai", "anthropic")


def default_spec_dir() -> Path:
    for candidate in SPEC_DIR_CANDIDATES:
        if (candidate / DEFAULT_SPEC_NAME).is_file():
            return candidate
    raise SpecError("the bundled spec is missing: reinstall the package")


def default_spec_path() -> Path:
    return default_spec_dir() / DEFAULT_SPEC_NAME


def default_overlay_path() -> Path:
    return default_spec_dir() / DEFAULT_OVERLAY_NAME


def read_document(path: str | Path) -> dict[str, Any]:
    """Parse a YAML or JSON file; any problem becomes one line naming the file and place."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read: {exc}") from None
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{path}{where}: invalid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: expected a mapping at the top level")
    return data


def load_spec(
    spec_path: str | Path | None = None,
    overlays: list[str | Path] | None = None,
    *,
    base_path: str | None = None,
    validate: bool = True,
) -> LoadedSpec:
    """Load the spec the mock and the suite share.

    Without arguments: the bundled upstream spec with the bundled overlay. With
    ``spec_path`` and no ``overlays``: that file as it is.
    """
    if spec_path is None:
        spec_path = default_spec_path()
        if overlays is None:
            overlays = [default_overlay_path()]
    document = read_document(spec_path)
    for overlay in overlays or []:
        document = apply_overlay(document, read_document(overlay), source=str(overlay))
    return build_spec(document, source=str(spec_path), base_path=base_path, validate=validate)


def build_spec(
    document: dict[str, Any], *, source: str = "<spec>", base_path: str | None = None, validate: bool = True
) -> LoadedSpec:
    version = str(document.get("openapi", ""))
    if not version.startswith(("3.0", "3.1")):
        raise SpecError(f"{source}: only OpenAPI 3.0 and 3.1 are supported (found openapi: {version or 'none'})")
    if validate:
        check_document(document, source)
    # Validators and generation read JSON Schema 2020-12; `document` stays the OpenAPI as loaded.
    schemas = upgrade_30_document(copy.deepcopy(document)) if version.startswith("3.0") else document
    registry = jsonschema_rs.Registry([(SPEC_URI, schemas)])
    builder = _Builder(schemas, registry, source)
    operations = tuple(builder.operations())
    if base_path is None:
        base_path = server_base_path(document)
    return LoadedSpec(document, source, base_path, operations, registry, schemas)


def check_document(document: dict[str, Any], source: str) -> None:
    from openapi_spec_validator import validate as validate_openapi
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    try:
        validate_openapi(document)
    except OpenAPIValidationError as exc:
        where = ".".join(str(p) for p in getattr(exc, "absolute_path", []) or [])
        message = str(getattr(exc, "message", exc)).splitlines()[0]
        raise SpecError(f"{source}: invalid OpenAPI at {where or 'the document root'}: {message}") from None
    except Exception as exc:  # the validator's own errors (unresolvable $ref, ...)
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SpecError(f"{source}: invalid OpenAPI: {message}") from None


def server_base_path(document: dict[str, Any]) -> str:
    servers = document.get("servers") or []
    url = servers[0].get("url", "") if servers and isinstance(servers[0], dict) else ""
    path = urlparse(url).path if "://" in url else url
    path = "/" + path.strip("/") if path.strip("/") else ""
    return "" if "{" in path else path


class _Builder:
    def __init__(self, document: dict[str, Any], registry: jsonschema_rs.Registry, source: str):
        self.document = document
        self.registry = registry
        self.source = source
        self.schemes = self._security_schemes()

    def _ref(self, node: Any, pointer: str) -> tuple[Any, str]:
        """Follow ``$ref`` chains; return the node and its JSON pointer."""
        for _ in range(64):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node, pointer
            ref = node["$ref"]
            if not ref.startswith("#"):
                raise SpecError(f"{self.source}: only local $refs are supported (found {ref} at {pointer})")
            pointer = ref[1:]
            try:
                node = resolve_pointer(self.document, pointer)
            except (KeyError, IndexError, ValueError):
                raise SpecError(f"{self.source}: unresolvable $ref {ref}") from None
        raise SpecError(f"{self.source}: $ref cycle at {pointer}")

    def _compile(self, pointer: str) -> CompiledSchema:
        schema = resolve_pointer(self.document, pointer)
        try:
            return CompiledSchema(schema, self.registry, pointer)
        except (jsonschema_rs.ValidationError, ValueError) as exc:
            raise SpecError(f"{self.source}: invalid schema at {pointer}: {exc}") from None

    def _security_schemes(self) -> dict[str, SecurityScheme]:
        schemes = {}
        raw = (self.document.get("components") or {}).get("securitySchemes") or {}
        for name, node in raw.items():
            node, _ = self._ref(node, f"/components/securitySchemes/{escape_pointer(name)}")
            kind = node.get("type")
            if kind == "http" and str(node.get("scheme", "")).lower() == "basic":
                schemes[name] = SecurityScheme(name, "basic", "header", "authorization")
            elif kind == "apiKey":
                schemes[name] = SecurityScheme(name, "apiKey", node.get("in", "header"), node.get("name", ""))
            else:  # bearer, oauth2, openIdConnect: a bearer token in Authorization
                schemes[name] = SecurityScheme(name, "bearer", "header", "authorization")
        return schemes

    def _security(self, requirements: Any) -> tuple[tuple[SecurityScheme, ...], ...]:
        out = []
        for requirement in requirements or []:
            missing = [name for name in requirement if name not in self.schemes]
            if missing:
                raise SpecError(f"{self.source}: unknown security scheme {missing[0]!r}")
            out.append(tuple(self.schemes[name] for name in requirement))
        return tuple(out)

    def _media(self, content: Any, pointer: str) -> dict[str, MediaType]:
        media = {}
        for name, node in (content or {}).items():
            here = f"{pointer}/{escape_pointer(name)}"
            node, here = self._ref(node, here)
            has_schema = isinstance(node, dict) and "schema" in node
            examples = {}
            for ex_name, ex in (node.get("examples") or {}).items():
                ex, _ = self._ref(ex, f"{here}/examples/{escape_pointer(ex_name)}")
                if isinstance(ex, dict) and "value" in ex:
                    examples[ex_name] = ex["value"]
            media[name] = MediaType(
                name=name,
                schema=node.get("schema") if has_schema else None,
                example=node.get("example", MISSING),
                examples=examples,
                validator=self._compile(f"{here}/schema") if has_schema else None,
            )
        return media

    def _parameter(self, node: Any, pointer: str) -> Parameter:
        node, pointer = self._ref(node, pointer)
        if "schema" in node:
            schema_pointer = f"{pointer}/schema"
        elif node.get("content"):
            first = next(iter(node["content"]))
            schema_pointer = f"{pointer}/content/{escape_pointer(first)}/schema"
        else:
            schema_pointer = None
        schema, _ = self._ref(resolve_pointer(self.document, schema_pointer), schema_pointer) if schema_pointer else ({}, "")
        kind, item_kind = _kind(schema), None
        if kind == "array":
            item_kind = _kind(self._ref(schema.get("items") or {}, pointer)[0])
        validator = self._compile(schema_pointer) if schema_pointer else CompiledSchema({}, None)
        return Parameter(
            name=node["name"],
            location=node["in"],
            required=bool(node.get("required")) or node["in"] == "path",
            schema=schema,
            kind=kind,
            item_kind=item_kind,
            validator=validator,
        )

    def operations(self):
        paths = self.document.get("paths") or {}
        global_security = self.document.get("security")
        seen_ids: set[str] = set()
        for path, item in paths.items():
            item_pointer = f"/paths/{escape_pointer(path)}"
            item, item_pointer = self._ref(item, item_pointer)
            shared = [self._parameter(p, f"{item_pointer}/parameters/{i}") for i, p in enumerate(item.get("parameters") or [])]
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                op = item[method]
                pointer = f"{item_pointer}/{method}"
                own = [self._parameter(p, f"{pointer}/parameters/{i}") for i, p in enumerate(op.get("parameters") or [])]
                overridden = {(p.name, p.location) for p in own}
                parameters = tuple([p for p in shared if (p.name, p.location) not in overridden] + own)
                body = None
                if "requestBody" in op:
                    raw_body, body_pointer = self._ref(op["requestBody"], f"{pointer}/requestBody")
                    body = RequestBody(
                        required=bool(raw_body.get("required")),
                        content=self._media(raw_body.get("content"), f"{body_pointer}/content"),
                    )
                responses = {}
                for status, raw in (op.get("responses") or {}).items():
                    raw, here = self._ref(raw, f"{pointer}/responses/{escape_pointer(str(status))}")
                    responses[str(status)] = Response(
                        status=str(status),
                        description=raw.get("description", ""),
                        content=self._media(raw.get("content"), f"{here}/content"),
                        headers=raw.get("headers") or {},
                    )
                operation_id = op.get("operationId") or f"{method}_{path}"
                if operation_id in seen_ids:
                    raise SpecError(f"{self.source}: duplicate operationId {operation_id!r}")
                seen_ids.add(operation_id)
                yield Operation(
                    operation_id=operation_id,
                    method=method.upper(),
                    path=path,
                    summary=op.get("summary", ""),
                    parameters=parameters,
                    body=body,
                    responses=responses,
                    security=self._security(op["security"] if "security" in op else global_security),
                    pointer=pointer,
                    error_shape=self._error_shape(op, pointer),
                )


    def _error_shape(self, op: dict[str, Any], pointer: str) -> str:
        shape = op.get(ERROR_SHAPE_KEY, "openai")
        if shape not in ERROR_SHAPES:
            raise SpecError(f"{self.source}: {pointer}/{ERROR_SHAPE_KEY}: {shape!r} is not one of {', '.join(ERROR_SHAPES)}")
        return shape


def _kind(schema: Any) -> str | None:
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind
