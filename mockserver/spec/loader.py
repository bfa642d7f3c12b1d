"""Read a spec file, apply overlays, check the result, and build the operation table."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jsonschema_rs
import yaml

from mockserver.spec import cache as spec_cache
from mockserver.spec.defects import Defect, Defects, refuse
from mockserver.spec.errors import SpecError
from mockserver.spec.examples import drop_invalid_examples
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
    is_json,
    resolve_pointer,
)
from mockserver.spec.nullable import read_nullable
from mockserver.spec.overlay import apply_overlay
from mockserver.spec.repair import repair_schemas
from mockserver.spec.schemas import SPEC_URI, CompiledSchema, escape_pointer, upgrade_30_document
from mockserver.spec.structure import check_structure

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


class JSONLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML as JSON sees it (libyaml's C parser when available): timestamps stay strings."""


JSONLoader.add_constructor("tag:yaml.org,2002:timestamp", JSONLoader.construct_yaml_str)


def read_document(path: str | Path, *, cache: bool = False) -> dict[str, Any]:
    """Parse a YAML or JSON file; any problem becomes one line naming the file and place.

    With ``cache`` (and the cache not switched off), the parsed form is kept by the file's hash
    (:mod:`mockserver.spec.cache`).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read: {exc}") from None
    if cache and spec_cache.enabled():
        data = spec_cache.cached(raw, lambda: _parse(path, text))
    else:
        data = _parse(path, text)
    if not isinstance(data, dict):
        raise SpecError(f"{path}: expected a mapping at the top level")
    return data


def _parse(path: Path, text: str) -> Any:
    try:
        return yaml.load(text, Loader=JSONLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{path}{where}: invalid YAML: {problem}") from None


def load_spec(
    spec_path: str | Path | None = None,
    overlays: list[str | Path] | None = None,
    *,
    base_path: str | None = None,
    validate: bool = True,
    strict: bool = False,
    cache: bool = False,
) -> LoadedSpec:
    """Load the spec the mock and the suite share.

    Without arguments: the bundled upstream spec with the bundled overlay. With
    ``spec_path`` and no ``overlays``: that file as it is. Defects that still let the document be
    served are collected in ``LoadedSpec.defects``; ``strict`` refuses them instead.
    """
    if spec_path is None:
        spec_path = default_spec_path()
        if overlays is None:
            overlays = [default_overlay_path()]
    document = read_document(spec_path, cache=cache)
    for overlay in overlays or []:
        document = apply_overlay(document, read_document(overlay), source=str(overlay))
    return build_spec(document, source=str(spec_path), base_path=base_path, validate=validate, strict=strict)


def build_spec(
    document: dict[str, Any], *, source: str = "<spec>", base_path: str | None = None, validate: bool = True,
    strict: bool = False,
) -> LoadedSpec:
    version = str(document.get("openapi", ""))
    if not version.startswith(("3.0", "3.1", "3.2")):
        raise SpecError(f"{source}: only OpenAPI 3.0, 3.1 and 3.2 are supported (found openapi: {version or 'none'})")
    if not isinstance(document.get("paths"), dict) or not document["paths"]:
        raise SpecError(f"{source}: no paths: the document describes no operation to serve")
    defects = Defects()
    if validate:
        check_structure(document, version[:3], defects)
    # Validators and generation read JSON Schema 2020-12; `document` stays the OpenAPI as loaded.
    schemas = upgrade_30_document(copy.deepcopy(document)) if version.startswith("3.0") else document
    schemas = repair_schemas(schemas, defects)
    if not version.startswith("3.0"):
        schemas = read_nullable(schemas, defects)  # the 3.0 keyword in a 3.1 file (a 3.0 file was upgraded above)
    try:
        registry = jsonschema_rs.Registry([(SPEC_URI, schemas)])
    except (ValueError, jsonschema_rs.ReferencingError) as exc:
        raise SpecError(f"{source}: cannot read the schemas: {str(exc).splitlines()[0]}") from None
    schemas = drop_invalid_examples(schemas, registry, defects)  # examples are no validation keywords: same registry
    builder = _Builder(schemas, registry, source, defects)
    operations = tuple(builder.operations())
    if not operations:
        raise SpecError(f"{source}: no operation can be served (every path item is broken)")
    if base_path is None:
        base_path = server_base_path(document)
    found: tuple[Defect, ...] = tuple(defects.items)
    if strict:
        refuse(found, source)
    return LoadedSpec(document, source, base_path, operations, registry, schemas, found)


def server_base_path(document: dict[str, Any]) -> str:
    servers = document.get("servers") or []
    url = servers[0].get("url", "") if servers and isinstance(servers[0], dict) else ""
    path = urlparse(url).path if "://" in url else url
    path = "/" + path.strip("/") if path.strip("/") else ""
    return "" if "{" in path else path


_UNRESOLVED = ("does not exist", "Unresolvable", "not present in", "Invalid reference")


class _Builder:
    """Operations from the (repaired) document: what cannot be served is skipped with a defect;
    a ``$ref`` that an operation needs and that leads nowhere stops the load."""

    def __init__(self, document: dict[str, Any], registry: jsonschema_rs.Registry, source: str, defects: Defects):
        self.document = document
        self.registry = registry
        self.source = source
        self.defects = defects
        self.schemes = self._security_schemes()

    def _ref(self, node: Any, pointer: str) -> tuple[Any, str]:
        """Follow ``$ref`` chains; return the node and its JSON pointer."""
        for _ in range(64):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node, pointer
            ref = node["$ref"]
            if not ref.startswith("#"):
                raise SpecError(f"{self.source}#{pointer}: only local $refs are supported (found {ref})")
            try:
                node = resolve_pointer(self.document, ref[1:])
            except (KeyError, IndexError, ValueError, TypeError):
                raise SpecError(f"{self.source}#{pointer}: unresolvable $ref {ref}") from None
            pointer = ref[1:]
        raise SpecError(f"{self.source}#{pointer}: $ref cycle")

    def _compile(self, pointer: str) -> CompiledSchema:
        schema = resolve_pointer(self.document, pointer)
        try:
            return CompiledSchema(schema, self.registry, pointer)
        except jsonschema_rs.ReferencingError as exc:
            raise SpecError(f"{self.source}#{pointer}: unresolvable $ref: {str(exc).splitlines()[0]}") from None
        except (jsonschema_rs.ValidationError, ValueError) as exc:
            first = str(exc).splitlines()[0]
            if any(sign in first for sign in _UNRESOLVED):
                raise SpecError(f"{self.source}#{pointer}: unresolvable $ref: {first}") from None
            self.defects.add(pointer, f"schema cannot be compiled ({str(exc).splitlines()[0]}); "
                                      "this part is not validated")
            return CompiledSchema({}, None)

    def _security_schemes(self) -> dict[str, SecurityScheme]:
        schemes = {}
        raw = (self.document.get("components") or {}).get("securitySchemes") or {}
        for name, node in raw.items():
            node, _ = self._ref(node, f"/components/securitySchemes/{escape_pointer(name)}")
            if not isinstance(node, dict):
                continue
            kind = node.get("type")
            if kind == "http" and str(node.get("scheme", "")).lower() == "basic":
                schemes[name] = SecurityScheme(name, "basic", "header", "authorization")
            elif kind == "apiKey":
                schemes[name] = SecurityScheme(name, "apiKey", node.get("in", "header"), node.get("name", ""))
            else:  # bearer, oauth2, openIdConnect: a bearer token in Authorization
                schemes[name] = SecurityScheme(name, "bearer", "header", "authorization")
        return schemes

    def _security(self, requirements: Any, pointer: str) -> tuple[tuple[SecurityScheme, ...], ...]:
        out = []
        for index, requirement in enumerate(requirements if isinstance(requirements, list) else []):
            if not isinstance(requirement, dict):
                continue
            chosen = []
            for name in requirement:
                if name in self.schemes:
                    chosen.append(self.schemes[name])
                else:
                    self.defects.add(f"{pointer}/{index}/{escape_pointer(name)}",
                                     f"unknown security scheme {name!r}; read as a bearer token")
                    chosen.append(SecurityScheme(name, "bearer", "header", "authorization"))
            out.append(tuple(chosen))
        return tuple(out)

    def _media(self, content: Any, pointer: str) -> dict[str, MediaType]:
        media = {}
        for name, node in (content.items() if isinstance(content, dict) else ()):
            here = f"{pointer}/{escape_pointer(name)}"
            node, here = self._ref(node, here)
            if not isinstance(node, dict):
                self.defects.add(here, "a media type object must be a mapping; read as one without a schema")
                node = {}
            key = "schema" if "schema" in node else "itemSchema" if "itemSchema" in node else None
            examples = {}
            for ex_name, ex in (node.get("examples") or {}).items() if isinstance(node.get("examples"), dict) else ():
                ex, _ = self._ref(ex, f"{here}/examples/{escape_pointer(ex_name)}")
                if isinstance(ex, dict) and "value" in ex:
                    examples[ex_name] = ex["value"]
            encoding = node.get("encoding") if isinstance(node.get("encoding"), dict) else {}
            validator = self._compile(f"{here}/{key}") if key else None
            example = node.get("example", MISSING)
            if validator is not None and is_json(name) and key == "schema":
                example, examples = self._valid_examples(validator, here, example, examples)
            media[name] = MediaType(
                name=name,
                schema=node.get(key) if key else None,
                example=example,
                examples=examples,
                validator=validator,
                encoding=encoding,
                item_schema=key == "itemSchema",
            )
        return media

    def _valid_examples(self, validator: CompiledSchema, here: str, example: Any, examples: dict[str, Any]
                        ) -> tuple[Any, dict[str, Any]]:
        """The examples that match their schema; each one that does not is a defect and is not served."""
        if example is not MISSING and not validator.is_valid(example):
            first = validator.violations(example)[0]
            self.defects.add(f"{here}/example", f"example does not match its schema ({first.path}: "
                                                f"{first.message[:120]}); a generated value is served instead")
            example = MISSING
        kept = {}
        for ex_name, value in examples.items():
            if validator.is_valid(value):
                kept[ex_name] = value
            else:
                first = validator.violations(value)[0]
                self.defects.add(f"{here}/examples/{escape_pointer(ex_name)}",
                                 f"example does not match its schema ({first.path}: {first.message[:120]}); not served")
        return example, kept

    def _parameter(self, node: Any, pointer: str) -> Parameter | None:
        node, pointer = self._ref(node, pointer)
        if not isinstance(node, dict) or not isinstance(node.get("name"), str) or \
                node.get("in") not in ("path", "query", "header", "cookie"):
            self.defects.add(pointer, "a parameter needs a string 'name' and 'in' of path, query, header or cookie; "
                                      "parameter ignored")
            return None
        if "schema" in node:
            schema_pointer = f"{pointer}/schema"
        elif isinstance(node.get("content"), dict) and node["content"]:
            first = next(iter(node["content"]))
            schema_pointer = f"{pointer}/content/{escape_pointer(first)}/schema"
        else:
            schema_pointer = None
        try:
            raw_schema = resolve_pointer(self.document, schema_pointer) if schema_pointer else {}
        except (KeyError, IndexError, ValueError, TypeError):
            raw_schema, schema_pointer = {}, None
        schema, _ = self._ref(raw_schema, schema_pointer or pointer)
        if not isinstance(schema, dict):
            schema = {}
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

    def _parameters(self, items: Any, pointer: str) -> list[Parameter]:
        if items is None:
            return []
        if not isinstance(items, list):
            self.defects.add(pointer, "parameters must be a list; ignored")
            return []
        found = [self._parameter(p, f"{pointer}/{i}") for i, p in enumerate(items)]
        return [p for p in found if p is not None]

    def operations(self):
        paths = self.document.get("paths") or {}
        global_security = self.document.get("security")
        seen_ids: set[str] = set()
        for path, item in paths.items():
            item_pointer = f"/paths/{escape_pointer(path)}"
            item, item_pointer = self._ref(item, item_pointer)
            if not isinstance(path, str) or not path.startswith("/") or not isinstance(item, dict):
                self.defects.add(item_pointer, "a path must start with '/' and hold a mapping; path not served")
                continue
            shared = self._parameters(item.get("parameters"), f"{item_pointer}/parameters")
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                op = item[method]
                pointer = f"{item_pointer}/{method}"
                if not isinstance(op, dict):
                    self.defects.add(pointer, "an operation must be a mapping; not served")
                    continue
                own = self._parameters(op.get("parameters"), f"{pointer}/parameters")
                overridden = {(p.name, p.location) for p in own}
                parameters = tuple([p for p in shared if (p.name, p.location) not in overridden] + own)
                body = None
                if "requestBody" in op:
                    raw_body, body_pointer = self._ref(op["requestBody"], f"{pointer}/requestBody")
                    if isinstance(raw_body, dict):
                        body = RequestBody(
                            required=bool(raw_body.get("required")),
                            content=self._media(raw_body.get("content"), f"{body_pointer}/content"),
                        )
                    else:
                        self.defects.add(body_pointer, "a request body must be a mapping; any body accepted")
                responses = {}
                raw_responses = op.get("responses")
                if not isinstance(raw_responses, dict) or not raw_responses:
                    self.defects.add(f"{pointer}/responses", "no responses documented; answered with 204")
                    raw_responses = {}
                for status, raw in raw_responses.items():
                    raw, here = self._ref(raw, f"{pointer}/responses/{escape_pointer(str(status))}")
                    if not isinstance(raw, dict):
                        self.defects.add(here, "a response must be a mapping; read as one without content")
                        raw = {}
                    responses[str(status)] = Response(
                        status=str(status),
                        description=raw.get("description", ""),
                        content=self._media(raw.get("content"), f"{here}/content"),
                        headers=raw.get("headers") if isinstance(raw.get("headers"), dict) else {},
                    )
                operation_id = op.get("operationId") if isinstance(op.get("operationId"), str) else f"{method}_{path}"
                if operation_id in seen_ids:
                    renamed = f"{operation_id}_{method}_{path}"
                    self.defects.add(f"{pointer}/operationId",
                                     f"duplicate operationId {operation_id!r}; this one is called {renamed!r}")
                    operation_id = renamed
                seen_ids.add(operation_id)
                yield Operation(
                    operation_id=operation_id,
                    method=method.upper(),
                    path=path,
                    summary=op.get("summary", "") if isinstance(op.get("summary"), str) else "",
                    parameters=parameters,
                    body=body,
                    responses=responses,
                    security=self._security(op["security"] if "security" in op else global_security,
                                            f"{pointer}/security" if "security" in op else "/security"),
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
