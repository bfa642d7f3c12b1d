"""Errors in the OpenAI shape, authentication on every operation, and documented operations present."""

from __future__ import annotations

import json
import re

from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.judge import History, Judge, judge_all
from contract_tests.checks.outcomes import CheckFailed, CheckSkipped, expect
from contract_tests.results import MUST
from contract_tests.traffic import Seen

PROBE_ID = "contract-tests-probe"
INFERENCE = ("/chat/completions", "/embeddings", "/responses", "/messages", "/messages/count_tokens")


def error_problem(status: int, text: str) -> str | None:
    """Why ``text`` is not an OpenAI error body, or None when it is one."""
    try:
        body = json.loads(text)
    except ValueError:
        return f"{status}: body is not JSON: {text[:80]!r}"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return f"{status}: no error object in {text[:120]!r}"
    if not isinstance(error.get("message"), str) or not isinstance(error.get("type"), str):
        return f"{status}: error lacks message or type: {str(error)[:120]}"
    return None


def is_error(seen: Seen) -> bool:
    """A 4xx or 5xx answer on a documented operation."""
    return seen.operation is not None and seen.status is not None and seen.status >= 400


def judge_error_shape(seen: Seen, history: History) -> None:
    problem = error_problem(seen.status or 0, seen.response_body)
    expect(problem is None, f"{seen.method} {seen.url}: {problem}")


def keyless(seen: Seen) -> bool:
    """A request without a key to an operation that needs one."""
    return seen.operation is not None and seen.operation.needs_auth and not seen.has_credential \
        and seen.status is not None


def judge_auth_required(seen: Seen, history: History) -> None:
    expect(seen.status == 401, f"without a key, documented 401, received: {seen.method} {seen.operation.path} -> "
                               f"{seen.status}")


def on_documented(seen: Seen) -> bool:
    return seen.operation is not None and seen.status is not None


def judge_operation_present(seen: Seen, history: History) -> None:
    templated = "{" in seen.operation.path
    if seen.status == 405:
        raise CheckFailed(f"documented operation missing on target: {seen.method} {seen.operation.path} -> 405")
    if seen.status == 404 and seen.method == "GET" and not templated:
        raise CheckFailed(f"documented operation missing on target: GET {seen.operation.path} -> 404")
    if seen.status == 404 and not _resource_404(seen.response_body):
        raise CheckFailed(f"documented operation missing on target: {seen.method} {seen.operation.path} -> 404 "
                          "(not about the resource)")


def _judging(judge: Judge, exchanges: list[Seen]) -> None:
    problems = []
    for seen in exchanges:
        try:
            judge_all(judge, [seen])
        except CheckFailed as exc:
            problems.append(str(exc))
        except CheckSkipped:  # the judge does not apply to this answer
            pass
    if problems:
        raise CheckFailed(f"{len(problems)} answer(s) fail: {problems[0]}" if len(problems) > 1 else problems[0])


def error_shape(ctx: CheckContext) -> None:
    answers = [ctx.http.request("GET", "/models", auth=False),
               ctx.http.request("GET", "/models", key="contract-tests-not-a-key"),
               ctx.http.request("POST", "/chat/completions", json={"messages": "not a list"})]
    _judging(JUDGES["errors.error_shape"], [ctx.seen(r) for r in answers])


def _probe(ctx: CheckContext, operation) -> tuple[str, str, object]:
    path = re.sub(r"{[^}]+}", PROBE_ID, operation.path)
    body: object = None
    if operation.body is not None:
        model = ctx.catalog.chat_model()
        message = {"model": model, "max_tokens": 1, "messages": [{"role": "user", "content": "probe"}]}
        body = {"/chat/completions": ctx.http.chat_body(model, max_tokens=1),
                "/embeddings": {"model": "any", "input": "probe"},
                "/responses": {"model": model, "input": "probe", "max_output_tokens": 1},
                "/messages": message, "/messages/count_tokens": message}.get(operation.path, {})
    return operation.method, path, body


def auth_required(ctx: CheckContext) -> None:
    accepted = []
    for operation in ctx.spec.operations:
        if not operation.needs_auth or (operation.method != "GET" and not ctx.allow_writes
                                        and operation.path not in ("/chat/completions", "/embeddings")):
            continue
        method, path, body = _probe(ctx, operation)
        seen = ctx.seen(ctx.http.request(method, path, auth=False, json=body))
        try:
            judge_all(JUDGES["errors.auth_required"], [seen])
        except CheckFailed:
            accepted.append(f"{method} {operation.path} -> {seen.status}")
    expect(not accepted, f"without a key, documented 401, received: {', '.join(accepted)}")


WRONG_KEY = "contract-tests-wrong-key-0000"


def wrong_key_401(ctx: CheckContext) -> None:
    refused, told_400 = [], []
    for operation in ctx.spec.operations:
        if not operation.needs_auth or (operation.method != "GET" and not ctx.allow_writes
                                        and operation.path not in INFERENCE):
            continue
        method, path, body = _probe(ctx, operation)
        response = ctx.http.request(method, path, key=WRONG_KEY, json=body)
        if ctx.http.lacks(response, f"{method} {operation.path}"):
            continue  # not implemented on the target: said once in the run's notes
        status = response.status_code
        if status == 400:
            told_400.append(f"{method} {operation.path}")
        elif status != 401:
            refused.append(f"{method} {operation.path} -> {status}")
    expect(not told_400, f"a wrong key is answered 400 (a request error), documented 401: {', '.join(told_400)}")
    expect(not refused, f"with a wrong key, documented 401, received: {', '.join(refused)}")


def operations_present(ctx: CheckContext) -> None:
    answers = []
    for operation in ctx.spec.operations:
        if operation.method == "GET":
            answers.append(ctx.seen(ctx.http.request("GET", re.sub(r"{[^}]+}", PROBE_ID, operation.path))))
    missing = []
    for seen in answers:
        try:
            judge_all(JUDGES["spec.operations_present"], [seen])
        except CheckFailed as exc:
            missing.append(str(exc).removeprefix("documented operation missing on target: "))
    if missing:
        raise CheckFailed("documented operation missing on target: " + ", ".join(missing))


def _resource_404(text: str) -> bool:
    """A 404 for an unknown resource says so in the error shape; an unknown path usually does not."""
    return error_problem(404, text) is None and "unknown_path" not in text


JUDGES = {
    "errors.error_shape": Judge(is_error, judge_error_shape),
    "errors.auth_required": Judge(keyless, judge_auth_required),
    "spec.operations_present": Judge(on_documented, judge_operation_present),
}

CHECKS = [
    Check("errors.error_shape", error_shape, "*", MUST, basis="overlay", judge=JUDGES["errors.error_shape"],
          source="spec/overlay.yml: components.schemas.Error; OpenAI API reference: Error codes",
          reason="Every 4xx and 5xx is {'error': {'message', 'type', 'param', 'code'}}: the SDKs raise typed errors "
                 "from it."),
    Check("errors.auth_required", auth_required, "*", MUST, source="spec/requesty-openapi.yml: security bearerAuth",
          judge=JUDGES["errors.auth_required"],
          reason="Every operation refuses a request without a key with 401."),
    Check("errors.wrong_key_401", wrong_key_401, "*", MUST, basis="overlay",
          source="spec/requesty-openapi.yml: security bearerAuth; "
                 "spec/overlay.yml: Unauthorized ('Missing, unknown, expired or deleted API key')",
          reason="Every operation refuses a wrong key (not only a missing one) with 401; a 400 is named as such.",
          not_judged="it sends a wrong key of its own to every operation"),
    Check("spec.operations_present", operations_present, "*", MUST, source="spec/requesty-openapi.yml: paths",
          judge=JUDGES["spec.operations_present"],
          reason="Every documented read operation exists on the target; a 404 or 405 there is drift from the spec."),
]
