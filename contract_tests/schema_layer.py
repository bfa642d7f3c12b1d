"""The schema layer: Schemathesis over every operation of the overlaid spec.

Its engine runs the examples, coverage, fuzzing and stateful phases with its
built-in checks; every request goes through the target's guarded client (see
:mod:`contract_tests.bridge`). Each finished scenario becomes results of the
operation x check matrix; a failure that only holds because of an overlay
addition is marked as an upstream-spec gap.
"""

from __future__ import annotations

import copy
import json
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import schemathesis
from schemathesis.engine import Status, events, from_schema

from contract_tests.bridge import schemathesis_sessions
from contract_tests.curl import EMBEDDED_ORIGIN, KEY_VARIABLE, SERVED_ORIGIN, curl_line
from contract_tests.profiles import Profile
from contract_tests.redact import MASK
from contract_tests.results import MUST, SHOULD, CheckResult, Finding, Layer, Origin, Outcome
from contract_tests.target import Target
from mockserver.spec import LoadedSpec

PREFIX = "schema:"
# Schemathesis' checks: level and reason as this suite reads them.
CHECKS: dict[str, tuple[str, str]] = {
    "not_a_server_error": (MUST, "No request, valid or not, makes the gateway fail with a 5xx."),
    "status_code_conformance": (MUST, "Every status code answered is documented for the operation."),
    "content_type_conformance": (MUST, "Every answer has a documented content type."),
    "response_headers_conformance": (SHOULD, "Documented response headers are present and valid."),
    "response_schema_conformance": (MUST, "Every body matches the documented schema (each SSE event too)."),
    "negative_data_rejection": (MUST, "Requests that break the documented schema get a 4xx."),
    "positive_data_acceptance": (MUST, "Requests that follow the documented schema are accepted."),
    "missing_required_header": (SHOULD, "A request without a required header is refused."),
    "ignored_auth": (MUST, "Operations that require a key refuse requests without or with a wrong key."),
    "use_after_free": (MUST, "A deleted resource is gone: later calls on it get 404."),
    "ensure_resource_availability": (MUST, "A created resource can be read at once."),
    "unsupported_method": (SHOULD, "A method the path does not document gets 405."),
    "allow_header_conformance": (SHOULD, "A 405 lists the allowed methods in Allow."),
}
SOURCE = "spec/requesty-openapi.yml: paths, components; spec/overlay.yml: actions (a Schemathesis 4 built-in check)"
# Per-operation settings that hold for any Requesty-compatible gateway (cross-field 400s), in Schemathesis'
# own format. They are applied to the results, not handed to Schemathesis: an [[operations]] entry there
# widens the operations a run selects, which would undo the live profile's read-only filter.
GATEWAY_RULES = tomllib.loads((Path(__file__).parent / "data" / "schemathesis.toml").read_text())


def allowed_statuses(check: str, operation_id: str) -> list[str]:
    """The extra statuses GATEWAY_RULES accept from ``check`` on ``operation_id``."""
    allowed: list[str] = []
    for entry in GATEWAY_RULES.get("operations", []):
        if operation_id in entry.get("include-operation-id", []):
            allowed += entry.get("checks", {}).get(check, {}).get("expected-statuses", [])
    return allowed


def served_document(spec: LoadedSpec) -> dict:
    """The document as the mock serves it: a 3.1/3.2 file with its schema defects mended (a ``required`` list with
    repeats, a 3.0-style ``exclusiveMinimum``, invalid examples dropped), which Schemathesis would otherwise
    refuse operation by operation; a 3.0 file as written (its mended form is JSON Schema, not OpenAPI 3.0)."""
    if spec.defects and spec.schema_document and not str(spec.document.get("openapi", "")).startswith("3.0"):
        return spec.schema_document
    return spec.document


def status_matches(status: int, patterns: list[str]) -> bool:
    code = str(status)
    return any(p == code or (p.lower().endswith("xx") and code[0] == p[0]) for p in patterns)


@dataclass
class SchemaLayer:
    target: Target
    spec: LoadedSpec
    upstream: LoadedSpec | None  # the spec without overlays: to tell upstream gaps from violations
    profile: Profile
    seed: int
    checks: list[str] | None = None  # Schemathesis check names to run (all of CHECKS when None)
    skipped: dict[str, str] = field(default_factory=dict)  # operation -> why Schemathesis generated no request

    def config(self) -> schemathesis.Config:
        phases = {name: {"enabled": name in self.profile.phases} for name in ("examples", "coverage", "fuzzing", "stateful")}
        if "stateful" in self.profile.phases:
            phases["stateful"]["max-steps"] = self.profile.stateful_steps
        return schemathesis.Config.from_dict({
            "base-url": self.target.base_url,
            "headers": self.target.auth_headers(),
            "seed": self.seed,
            "generation": {"mode": "all", "max-examples": self.profile.max_examples, "deterministic": True,
                           "database": "none"},
            "phases": phases,
            "checks": {"enabled": False, **{name: {"enabled": True} for name in (self.checks or CHECKS)}},
            "cache": {"enabled": False},
            "max-redirects": 0,
            "request-timeout": 60,
            "suppress-health-check": ["all"],
        })

    def schema(self):
        # A copy: Schemathesis keeps state on the document it is given, which would carry into the next run.
        schema = schemathesis.openapi.from_dict(copy.deepcopy(served_document(self.spec)), config=self.config())
        if self.profile.read_only:
            schema = schema.include(method="GET")
        return schema

    def run(self) -> Iterator[CheckResult]:
        stream = from_schema(self.schema()).execute()
        with schemathesis_sessions(self.target.client):
            for event in stream:
                if isinstance(event, events.ScenarioFinished):
                    yield from self.results(event)
                elif isinstance(event, events.NonFatalError) and not self.target.budget.exhausted:
                    yield self.error_result(event)
                elif isinstance(event, events.FatalError):
                    raise RuntimeError(f"Schemathesis could not run: {event.exception}") from event.exception
                if self.target.budget.exhausted:
                    stream.stop()
                    break

    def error_result(self, event: events.NonFatalError) -> CheckResult:
        """A request that got no answer at all (connection reset, timeout): the target failed to serve it."""
        level, reason = CHECKS["not_a_server_error"]
        message = self.target.redactor.text(f"no answer: {type(event.value).__name__}: {event.value}")
        return CheckResult(check=PREFIX + "not_a_server_error", operation=event.label, layer=Layer.SCHEMA, level=level,
                           outcome=Outcome.FAIL, reason=reason, source=SOURCE, findings=[Finding(message=message[:500])])

    def results(self, event: events.ScenarioFinished) -> Iterator[CheckResult]:
        recorder = event.recorder
        if event.status is Status.SKIP:
            if event.label and event.skip_reason:  # per phase: "examples: No examples in schema; ..."
                said = self.skipped.get(event.label)
                reason = f"{event.phase.value}: {event.skip_reason}"
                self.skipped[event.label] = f"{said}; {reason}" if said else reason
            return
        for case_id, nodes in recorder.checks.items():
            node = recorder.cases.get(case_id)
            if node is None:
                continue
            label = node.value.operation.label
            for check in nodes:
                level, reason = CHECKS.get(check.name, (SHOULD, "Schemathesis check."))
                result = CheckResult(check=PREFIX + check.name, operation=label, layer=Layer.SCHEMA, level=level,
                                     outcome=Outcome.PASS, reason=reason, source=SOURCE)
                if check.status is Status.FAILURE and check.failure_info is not None:
                    if self.allowed(check.name, label, check.failure_info, recorder, case_id):
                        yield result
                        continue
                    result.outcome = Outcome.FAIL
                    result.findings.append(self.finding(check.name, check.failure_info, recorder, case_id, label))
                elif check.status is not Status.SUCCESS:
                    continue
                yield result

    def allowed(self, name: str, label: str, info, recorder, case_id: str) -> bool:
        """A failure that GATEWAY_RULES accept for this operation (the status is one it may answer)."""
        method, _, path = label.partition(" ")
        operation = next((o for o in self.spec.operations if o.method == method and o.path == path), None)
        patterns = allowed_statuses(name, operation.operation_id) if operation is not None else []
        if not patterns:
            return False
        interaction = next((recorder.interactions[i] for i in (info.failure.case_id, case_id)
                            if i in recorder.interactions), None)
        response = interaction.response if interaction is not None else None
        return response is not None and status_matches(response.status_code, patterns)

    def finding(self, name: str, info, recorder, case_id: str, label: str) -> Finding:
        redact = self.target.redactor.text
        failure = info.failure
        ids = [failure.case_id, case_id, *(step.case_id for step in reversed(info.steps))]
        interaction = next((recorder.interactions[i] for i in ids if i in recorder.interactions), None)
        request = response = curl = ""
        status, content_type, body_text, request_body = None, "", "", None
        if interaction is not None:
            sent = interaction.request
            request_body = sent.body
            headers = {k: v[0] if isinstance(v, list) else v for k, v in sent.headers.items()}
            request = redact(f"{sent.method} {sent.uri}\n{_text(sent.body)}")
            curl = curl_line(sent.method, sent.uri, headers, sent.body, self.target.redactor)
            if interaction.response is not None:
                status = interaction.response.status_code
                headers = {k.lower(): v for k, v in interaction.response.headers.items()}
                content_type = (headers.get("content-type") or [""])[0]
                body_text = _text(interaction.response.content)
                response = redact(f"{status} {content_type}\n{body_text[:1000]}")
        if len(info.steps) > 1:  # a stateful failure: every request it needs, oldest first
            curl = "\n".join(_step_curl(redact(step.curl)) for step in info.steps)
        origin, note = self.classify(name, label, request_body, status, content_type, body_text)
        return Finding(message=redact(f"{failure.title}: {failure.message}".strip()), request=request,
                       response=response, curl=curl, origin=origin, origin_note=note)

    def classify(self, name: str, label: str, request_body: bytes | None, status: int | None, content_type: str,
                 body_text: str) -> tuple[Origin, str]:
        """Is the finding a violation by the target, or does it only hold because of an overlay addition
        (or, on a spec run without an overlay, because of a gap in the spec itself)?"""
        if self.upstream is None:
            return spec_gap(self.spec, name, label, status, content_type, body_text)
        method, _, path = label.partition(" ")
        try:
            operation = next(o for o in self.upstream.operations if o.method == method and o.path == path)
        except StopIteration:
            return Origin.SPEC_GAP, "the operation is not in the upstream spec"
        if name in ("response_schema_conformance", "content_type_conformance") and status is not None:
            documented = operation.responses.get(str(status))
            if documented is None or not documented.content:
                return Origin.SPEC_GAP, f"upstream documents no body for {status}; the overlay adds it"
            media = documented.content.get(content_type.split(";")[0].strip())
            if name == "response_schema_conformance" and media is not None and media.validator is not None:
                try:
                    value = json.loads(body_text)
                except ValueError:
                    return Origin.TARGET, ""
                if media.validator.is_valid(value):
                    return Origin.SPEC_GAP, "the body is valid under the upstream schema; only the overlay's addition fails"
        if name == "negative_data_rejection" and request_body and operation.body is not None:
            media = operation.body.json_media()
            try:
                value = json.loads(request_body)
            except ValueError:
                return Origin.TARGET, ""
            if media is not None and media.validator is not None and media.validator.is_valid(value):
                return Origin.SPEC_GAP, "the request is valid under the upstream schema; only the overlay forbids it"
        return Origin.TARGET, ""


def spec_gap(spec: LoadedSpec, name: str, label: str, status: int | None, content_type: str,
             body_text: str) -> tuple[Origin, str]:
    """A finding that only holds because the spec leaves something out: an error answer (a 4xx in the error
    shape) where the operation documents neither that status nor a 4XX range nor a default; or a body its own
    schema accepts that Schemathesis refuses (a ``discriminator`` whose mapping lacks the value). Anything else
    is the target's."""
    method, _, path = label.partition(" ")
    operation = next((o for o in spec.operations if o.method == method and o.path == path), None)
    if operation is None or status is None:
        return Origin.TARGET, ""
    if name == "status_code_conformance" and 400 <= status < 500 and str(status) not in operation.responses and not any(
            code.upper() == "4XX" or code == "default" for code in operation.responses):
        try:
            error = json.loads(body_text).get("error")
        except (ValueError, AttributeError):
            error = None
        if isinstance(error, dict) and error.get("message"):
            return Origin.SPEC_GAP, f"the spec documents no {status}, 4XX or default answer for {label}; the " \
                                    f"{status} is a well-formed error"
    if name == "response_schema_conformance":
        documented = operation.responses.get(str(status))
        media = documented.content.get(content_type.split(";")[0].strip()) if documented is not None else None
        if media is not None and media.validator is not None:
            try:
                valid = media.validator.is_valid(json.loads(body_text))
            except ValueError:
                return Origin.TARGET, ""
            if valid:
                return Origin.SPEC_GAP, "the body is valid under the documented schema as JSON Schema; Schemathesis " \
                                        "reads it more strictly (a discriminator whose mapping lacks the value)"
    return Origin.TARGET, ""


def _text(payload: bytes | None) -> str:
    if not payload:
        return ""
    return payload.decode("utf-8", "replace")


def _step_curl(curl: str) -> str:
    """Schemathesis' curl line for one step, with the key variable and an address that reproduces it."""
    for masked in ("'Authorization: [Filtered]'", f"'Authorization: Bearer {MASK}'"):
        curl = curl.replace(masked, f'"Authorization: Bearer {KEY_VARIABLE}"')
    return curl.replace(EMBEDDED_ORIGIN, SERVED_ORIGIN)
