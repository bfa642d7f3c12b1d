"""Where an error comes from: Requesty's ``error.origin``, ``router`` or ``provider``."""

from __future__ import annotations

import json
from dataclasses import replace

import httpx

from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.outcomes import CheckSkipped, expect
from contract_tests.results import SHOULD
from contract_tests.sse import chunks

CHAT = "POST /chat/completions"
ORIGINS = ("router", "provider")
UNKNOWN_MODEL = "contract-tests/no-such-model"
SOURCE = "spec/overlay.yml: Error origin ('router', 'provider')"
LIVE_INJECTS_NOTHING = "a live router injects no faults (Prefer: code=, X-Mock-Stream-Fault): loopback targets only"


def origin_of(text: str) -> object:
    """``error.origin`` of an error body (None when there is none)."""
    try:
        body = json.loads(text)
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("origin") if isinstance(error, dict) else None


def _router_errors(ctx: CheckContext) -> dict[str, httpx.Response]:
    """Errors only the router can answer: no key, an unknown model, a body that is not a chat request."""
    def send() -> dict[str, httpx.Response]:
        return {"401 without a key": ctx.http.request("GET", "/models", auth=False),
                "404 for an unknown model": ctx.http.request(
                    "POST", "/chat/completions", json=ctx.http.chat_body(UNKNOWN_MODEL, max_tokens=1)),
                "400 for an invalid body": ctx.http.request("POST", "/chat/completions", json={"messages": "not a list"})}

    return ctx.http.once("router-errors", send)


def on_every_error(ctx: CheckContext) -> None:
    problems = []
    for what, response in _router_errors(ctx).items():
        if response.status_code >= 400:
            origin = origin_of(response.text)
            if origin not in ORIGINS:
                problems.append(f"{what}: error.origin {origin!r}")
    expect(not problems, f"documented error.origin 'router' or 'provider' on every error, received: {'; '.join(problems)}")


def router_errors(ctx: CheckContext) -> None:
    problems = []
    for what, response in _router_errors(ctx).items():
        expected = int(what[:3])
        if what.startswith("400"):
            continue
        if response.status_code != expected:
            problems.append(f"{what}: received status {response.status_code}: {response.text[:160]}")
        elif origin_of(response.text) != "router":
            problems.append(f"{what}: error.origin {origin_of(response.text)!r}")
    expect(not problems, f"documented origin 'router' on the router's own errors, received: {'; '.join(problems)}")


def provider_errors(ctx: CheckContext) -> None:
    if not ctx.deterministic:
        raise CheckSkipped(LIVE_INJECTS_NOTHING)
    model = ctx.catalog.chat_model()
    problems = []
    for status in (503, 429):
        response = ctx.http.request("POST", "/chat/completions", json=ctx.http.chat_body(model, max_tokens=1),
                                    headers={"Prefer": f"code={status}"})
        if response.status_code != status:
            raise CheckSkipped(f"the target does not honour Prefer: code={status} (it answered {response.status_code})")
        if origin_of(response.text) != "provider":
            problems.append(f"injected {status}: error.origin {origin_of(response.text)!r}")
    expect(not problems, f"documented origin 'provider' on upstream failures, received: {'; '.join(problems)}")


def stream_error(ctx: CheckContext) -> None:
    if not ctx.deterministic:
        raise CheckSkipped(LIVE_INJECTS_NOTHING)
    body = {**ctx.http.chat_body(ctx.catalog.chat_model()), "stream": True}
    response = ctx.http.request("POST", "/chat/completions", json=body, headers={"X-Mock-Stream-Fault": "error"})
    if response.status_code != 200 or "event-stream" not in response.headers.get("content-type", ""):
        raise CheckSkipped(f"the target does not honour X-Mock-Stream-Fault (it answered {response.status_code})")
    errors = [chunk["error"] for chunk in chunks(response.text) if isinstance(chunk.get("error"), dict)]
    if not errors:
        raise CheckSkipped("the target does not honour X-Mock-Stream-Fault: error (no error event in the stream)")
    origins = [e.get("origin") for e in errors]
    expect(all(o == "router" for o in origins),
           f"an error after the stream started: documented origin 'router', received {origins}")


# Why contract-tests audit cannot judge these from traffic:
NOT_JUDGED = (
    'it provokes the errors it judges (a missing key, an unknown model, an injected fault) with requests of its own')
CHECKS = [replace(check, not_judged=NOT_JUDGED) for check in (
    Check("origin.on_every_error", on_every_error, "*", SHOULD, basis="overlay", source=SOURCE,
          reason="Every 4xx and 5xx says where it comes from: error.origin is 'router' or 'provider'."),
    Check("origin.router_errors", router_errors, "*", SHOULD, basis="overlay", source=SOURCE,
          reason="The router's own refusals (401 without a key, 404 for an unknown model) say origin 'router'."),
    Check("origin.provider_errors", provider_errors, CHAT, SHOULD, basis="overlay", source=SOURCE,
          reason="An upstream failure (an injected 503 or 429) says origin 'provider': the caller may retry or "
                 "fall back."),
    Check("origin.stream_error", stream_error, CHAT, SHOULD, basis="overlay", source=SOURCE,
          reason="An error after the stream has started is the router's: its error event says origin 'router'."),
)]
