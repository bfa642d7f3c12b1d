"""The loaded spec, shared by the mock and the conformance suite.

spec file -> overlays applied -> checked with openapi-spec-validator -> a table
of operations with validators compiled once.
"""

from mockserver.spec.errors import SpecError
from mockserver.spec.loader import (
    build_spec,
    default_overlay_path,
    default_spec_path,
    load_spec,
    read_document,
)
from mockserver.spec.model import LoadedSpec, MediaType, Operation, Parameter, RequestBody, Response, is_json
from mockserver.spec.overlay import apply_overlay
from mockserver.spec.schemas import CompiledSchema, Violation

__all__ = [
    "CompiledSchema",
    "LoadedSpec",
    "MediaType",
    "Operation",
    "Parameter",
    "RequestBody",
    "Response",
    "SpecError",
    "Violation",
    "apply_overlay",
    "build_spec",
    "default_overlay_path",
    "default_spec_path",
    "is_json",
    "load_spec",
    "read_document",
]
