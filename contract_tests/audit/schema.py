"""The schema layer's response checks, on an answer the audit did not ask for: status documented, content type
documented, body valid against the overlaid spec's schema (each SSE event too), and no 5xx.

They read the loaded spec's compiled validators (:mod:`mockserver.spec`), the ones the mock itself validates with.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import yaml

from contract_tests import sse
from contract_tests.schema_layer import CHECKS as LEVELS
from contract_tests.schema_layer import PREFIX
from contract_tests.traffic import Seen
from mockserver.spec import LoadedSpec
from mockserver.spec.model import Response
from mockserver.spec.schemas import CompiledSchema

TABLE = yaml.safe_load((Path(__file__).resolve().parents[1] / "data" / "audit.yml").read_text(encoding="utf-8"))
JUDGED: tuple[str, ...] = tuple(TABLE["schema_judged"])
NOT_JUDGED: dict[str, str] = dict(TABLE["schema_not_judged"])
STREAM_PAYLOADS = ("/components/schemas/ChatCompletionChunk", "/components/schemas/Error")


def documented(seen: Seen) -> Response | None:
    """The spec's response for the answer's status: exact, then its range (``4XX``), then ``default``."""
    responses = seen.operation.responses if seen.operation else {}
    code = str(seen.status)
    return responses.get(code) or responses.get(f"{code[0]}XX") or responses.get(f"{code[0]}xx") \
        or responses.get("default")


class ResponseChecks:
    """The judged schema checks for one loaded spec (its stream payload validators compiled once)."""

    def __init__(self, spec: LoadedSpec):
        self.spec = spec
        self.payloads = tuple(CompiledSchema(None, spec.registry, pointer) for pointer in STREAM_PAYLOADS
                              if _exists(spec.document, pointer))

    def judge(self, seen: Seen) -> Iterator[tuple[str, str | None]]:
        """Each judged check on one answer: ``(check, None)`` when it holds, ``(check, message)`` when not."""
        if seen.operation is None or seen.status is None:
            return
        yield "not_a_server_error", (f"Server error: {seen.label} answered {seen.status}"
                                     if seen.status >= 500 else None)
        response = documented(seen)
        if response is None:
            listed = ", ".join(sorted(seen.operation.responses))
            yield "status_code_conformance", (f"Undocumented HTTP status code: received {seen.status}, "
                                              f"documented {listed}")
            return
        yield "status_code_conformance", None
        if not response.content:
            return
        media_type = seen.content_type.split(";")[0].strip().lower()
        media = response.content.get(media_type)
        if media is None:
            if seen.response_body:
                yield "content_type_conformance", (f"Undocumented Content-Type: received {media_type or 'none'!r}, "
                                                   f"documented {', '.join(response.content)}")
            return
        yield "content_type_conformance", None
        if media.validator is not None:
            yield "response_schema_conformance", self._problem(seen, media_type, media.validator)

    def _problem(self, seen: Seen, media_type: str, validator: CompiledSchema) -> str | None:
        if media_type == "text/event-stream":
            return self._stream_problem(seen, validator)
        if media_type.startswith("text/"):
            value: object = seen.response_body  # a transcript as text, srt or vtt: the text is the value
        elif media_type != "application/json" and not media_type.endswith("+json"):
            return None  # a binary body (audio, an image): a format-binary string schema says nothing of its bytes
        else:
            try:
                value = json.loads(seen.response_body)
            except ValueError:
                return f"JSON deserialization error: the {media_type} body is not JSON: {seen.response_body[:80]!r}"
        problems = validator.violations(value)
        return f"Response violates schema: at {problems[0].path}: {problems[0].message}"[:500] if problems else None

    def _stream_problem(self, seen: Seen, validator: CompiledSchema) -> str | None:
        events, _ = sse.parse(seen.response_body)
        for position, event in enumerate(events, 1):
            problems = validator.violations({**event.fields, "data": event.data})
            if problems:
                return f"Response violates schema: event {position} at {problems[0].path}: {problems[0].message}"
            if event.is_done or not self.payloads or seen.label != "POST /chat/completions":
                continue  # the chunk schema is chat's: other streams (responses, messages) have their own grammars
            try:
                payload = json.loads(event.data)
            except ValueError:
                return f"Response violates schema: event {position}: data is not JSON"
            if not any(v.is_valid(payload) for v in self.payloads):
                first = self.payloads[0].violations(payload)
                where = f" at {first[0].path}: {first[0].message}" if first else ""
                return f"Response violates schema: event {position} is neither a chunk nor an error{where}"[:500]
        return None


def _exists(document: dict, pointer: str) -> bool:
    node = document
    for part in pointer.strip("/").split("/"):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def level(check: str) -> tuple[str, str]:
    return LEVELS[check]


__all__ = ["JUDGED", "NOT_JUDGED", "PREFIX", "ResponseChecks", "level"]
