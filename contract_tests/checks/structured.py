"""Structured outputs: a json_schema response_format answered with JSON valid against the schema."""

from __future__ import annotations

from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.http_calls import CHAT, REPLY
from contract_tests.checks.outcomes import expect
from contract_tests.checks.values import json_problem
from contract_tests.results import MUST


def json_schema_reply(ctx: CheckContext) -> None:
    body = ctx.http.chat_json(ctx.catalog.chat_model(), max_tokens=64,
                              response_format={"type": "json_schema", "json_schema": {**REPLY, "strict": True}})
    message = ((body.get("choices") or [{}])[0] or {}).get("message") or {}
    problem = json_problem(message.get("content"), REPLY["schema"], "reply content")
    expect(problem is None, f"response_format json_schema (strict): {problem}")


CHECKS = [
    Check("structured.json_schema_reply", json_schema_reply, CHAT, MUST,
          source="OpenAI API reference: Chat Completions (response_format json_schema); "
                 "spec/requesty-openapi.yml: response_format",
          reason="With a strict json_schema response_format the reply's content is JSON valid against the schema.",
          not_judged="it sends a json_schema response_format of its own and validates the reply against it"),
]
