"""Governance: access lists enforced on every inference operation, spend alerts delivered once and signed,
guardrails that report and mask without echoing what they found.

The operations are the overlay's (tag *Governance*, docs/governance.md); the alert check runs its own
webhook receiver on 127.0.0.1, which the target must be able to reach (the embedded mock, a loopback
gateway, or one on the same host: on a non-loopback target it runs only with ``--allow-writes``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from contract_tests.checks.catalog import kind, price
from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.outcomes import CheckFailed, CheckSkipped, expect
from contract_tests.results import MUST

SIGNATURE = "x-mock-signature"
ALERT_WAIT_S = 10.0
QUIET_S = 1.0  # after the first delivery, how long a second one of the same crossing is waited for

# The inference operations an access list covers, and a minimal body for each (the model is filled in).
INFERENCE: dict[tuple[str, str], Callable[[str, int], dict[str, Any]]] = {
    ("POST", "/chat/completions"): lambda m, n: {"model": m, "max_tokens": n,
                                                 "messages": [{"role": "user", "content": "ping"}]},
    ("POST", "/responses"): lambda m, n: {"model": m, "input": "ping", "max_output_tokens": n},
    ("POST", "/messages"): lambda m, n: {"model": m, "max_tokens": n, "messages": [{"role": "user", "content": "ping"}]},
}
EMBEDDINGS = ("POST", "/embeddings")


def _present(ctx: CheckContext, method: str, path: str) -> bool:
    return any(op.method == method and op.path == path for op in ctx.spec.operations)


def _new_list(ctx: CheckContext, models: list[str]) -> str:
    name = f"contract-tests-{secrets.token_hex(4)}"
    ctx.http.ok(ctx.http.request("POST", "/access-lists", json={"name": name, "models": models}), "POST /access-lists")
    return name


def access_list_enforced(ctx: CheckContext) -> None:
    chats = sorted((m for m in ctx.catalog.models() if kind(m) == "chat"), key=price)
    if len(chats) < 2:
        raise CheckSkipped("GET /models lists fewer than two chat models: nothing to leave off a list")
    allowed, forbidden = chats[0]["id"], chats[-1]["id"]
    embedding = ctx.catalog.embedding_model() if _present(ctx, *EMBEDDINGS) else None
    name = _new_list(ctx, [allowed])
    created = ctx.keys.create()
    secret = ctx.keys.secret(created)
    path = f"/api-keys/{created['id']}/access-list"
    try:
        ctx.http.ok(ctx.http.request("PUT", path, json={"access_list": name}), f"PUT {path}", resource=True)
        tries = [(method, route, body(forbidden, ctx.http.max_tokens)) for (method, route), body in INFERENCE.items()
                 if _present(ctx, method, route)]
        if embedding is not None:
            tries.append((*EMBEDDINGS, {"model": embedding, "input": "ping"}))
        for method, route, body in tries:
            response = ctx.http.request(method, route, json=body, key=secret)
            expect(response.status_code == 403, f"{method} {route} with {body['model']!r}, off the key's access list: "
                                                f"received {response.status_code}, documented 403")
            message = str(((response.json() or {}).get("error") or {}).get("message", ""))
            expect(name in message, f"{method} {route}: the 403's error.message does not name the access list "
                                    f"{name!r}: {message[:200]!r}")
        used = ctx.http.chat(allowed, key=secret)
        expect(used.status_code == 200, f"POST /chat/completions with {allowed!r}, on the list: received "
                                        f"{used.status_code}, documented 200")
        listed = {m.get("id") for m in ctx.http.ok(ctx.http.request("GET", "/models", key=secret),
                                                   "GET /models").get("data", [])}
        expect(listed == {allowed}, f"GET /models with the key: lists {sorted(listed)[:5]}, documented only the "
                                    f"access list's models ({allowed})")
    finally:
        ctx.http.request("PUT", path, json={"access_list": None})
        ctx.http.request("DELETE", f"/access-lists/{name}")


class _Receiver:
    """A webhook receiver on 127.0.0.1: every POST it gets, answered 200."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/contract-tests-alerts"

    def wait(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _valid_signature(secret: str, body: bytes, header: str) -> bool:
    try:
        parts = dict(part.split("=", 1) for part in header.split(","))
        expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    except (ValueError, KeyError):
        return False
    return hmac.compare_digest(expected, parts.get("v1", ""))


def alert_delivered_once(ctx: CheckContext) -> None:
    model = ctx.catalog.paid_chat_model()
    created = ctx.keys.create(limit=1000.0)
    key_secret = ctx.keys.secret(created)
    webhook_secret = "whsec_" + secrets.token_hex(16)
    ctx.redactor.add(webhook_secret)
    receiver = _Receiver()
    path = f"/api-keys/{created['id']}/alerts"
    try:
        ctx.http.ok(ctx.http.request("PUT", path, json={"thresholds": [{"usd": 1e-9}], "webhook_url": receiver.url,
                                                        "webhook_secret": webhook_secret}), f"PUT {path}", resource=True)
        for _ in range(3):  # the first call crosses the threshold; the next two are past it
            used = ctx.http.chat(model, key=key_secret)
            expect(used.status_code == 200, f"POST /chat/completions with the key: received {used.status_code}")
        receiver.wait(1, ALERT_WAIT_S)
        if not receiver.received:
            raise CheckFailed(f"no webhook delivery within {ALERT_WAIT_S:g} s of a call crossing the key's $1e-9 "
                              "alert threshold")
        time.sleep(QUIET_S)
        received = list(receiver.received)
    finally:
        receiver.close()
    expect(len(received) == 1, f"the webhook got {len(received)} deliveries for one threshold crossing, "
                               "documented exactly one")
    headers, body = received[0]
    expect(webhook_secret.encode() not in body and key_secret.encode() not in body,
           "the webhook event contains a secret (the signing secret or the key's)")
    expect(_valid_signature(webhook_secret, body, headers.get(SIGNATURE, "")),
           f"the delivery's {SIGNATURE} header is missing or not HMAC-SHA256 of 't.' + body with the webhook secret")
    try:
        event = json.loads(body)
    except ValueError:
        raise CheckFailed(f"the webhook body is not JSON: {body[:200]!r}") from None
    expect(event.get("key_id") == created["id"], f"the event's key_id is {event.get('key_id')!r}, "
                                                 f"documented the key's id {created['id']!r}")
    for field in ("threshold", "spend_usd", "limit_usd", "created_at"):
        expect(field in event, f"the event has no {field!r} (documented: threshold, spend, limit, time)")


PLANTED = {"email": "jane.roe@example.org", "card_number": "4111 1111 1111 1111", "secret": "sk-" + "Zq8" * 10}
PROMPT = "Contact {email}, card {card_number}, token {secret}, thanks"


def _journal(ctx: CheckContext, origin: str, limit: int = 20) -> list[dict[str, Any]] | None:
    """The mock's request journal at the target's origin (None when the target has none)."""
    response = ctx.http.request("GET", f"{origin}/__mock/journal?limit={limit}")
    if response.status_code == 404:
        return None
    return ctx.http.ok(response, "GET /__mock/journal").get("data") or []


def guardrail_report_and_mask(ctx: CheckContext) -> None:
    model = ctx.catalog.chat_model()
    created = ctx.keys.create()
    secret = ctx.keys.secret(created)
    path = f"/api-keys/{created['id']}/guardrails"
    text = PROMPT.format(**PLANTED)
    body = ctx.http.chat_body(model, messages=[{"role": "user", "content": text}], max_tokens=200)
    mark = ctx.http.mark()
    ctx.http.ok(ctx.http.request("PUT", path, json={"action": "report"}), f"PUT {path}", resource=True)
    url = httpx.URL(ctx.http.exchanges_since(mark)[-1].url)
    origin = f"{url.scheme}://{url.netloc.decode()}"
    reported = ctx.http.request("POST", "/chat/completions", json=body, key=secret)
    expect(reported.status_code == 200, f"a prompt with violations under Report: received {reported.status_code}, "
                                        "documented 200 (the call proceeds)")
    journal = _journal(ctx, origin)
    if journal is not None:
        records = [v for entry in journal for v in entry.get("violations") or []]
        expect(records, "GET /__mock/journal: no violations recorded for a Report call with an e-mail, a card and a key")
        kinds = {v.get("kind") for v in records}
        expect(set(PLANTED) <= kinds, f"the recorded violations' kinds are {sorted(map(str, kinds))}, "
                                      f"documented {sorted(PLANTED)}")
        for v in records:
            if v.get("kind") in PLANTED and isinstance(v.get("start"), int) and isinstance(v.get("end"), int):
                expect(text[v["start"]:v["end"]] == PLANTED[v["kind"]],
                       f"a {v['kind']} violation's position {v['start']}..{v['end']} is not where it is in the prompt")
        leaked = [kind_ for kind_, value in PLANTED.items() if value in json.dumps(journal)]
        expect(not leaked, f"the journal's records contain the detected value(s) of {leaked}: kind and position only")
    ctx.http.ok(ctx.http.request("PUT", path, json={"action": "mask"}), f"PUT {path}", resource=True)
    masked = ctx.http.request("POST", "/chat/completions", json=body, key=secret)
    expect(masked.status_code == 200, f"a prompt with violations under Mask: received {masked.status_code}")
    leaked = [kind_ for kind_, value in PLANTED.items() if value in masked.text]
    expect(not leaked, f"under Mask the answer contains the detected value(s) of {leaked}")
    journal = _journal(ctx, origin)
    if journal is not None:
        leaked = [kind_ for kind_, value in PLANTED.items() if value in json.dumps(journal)]
        expect(not leaked, f"the journal's records contain the detected value(s) of {leaked}")


# Why contract-tests audit cannot judge these from traffic:
NOT_JUDGED = (
    'it sets an access list, alert thresholds or a guardrail action on a key of its own and calls with it')
CHECKS = [replace(check, not_judged=NOT_JUDGED) for check in (
    Check("governance.access_list_enforced", access_list_enforced, "PUT /api-keys/{key_id}/access-list", MUST,
          writes=True, basis="overlay",
          source="spec/overlay.yml: setApiKeyAccessList, AccessList, Governance; Requesty changelog: Access Lists",
          reason="A key with an access list gets 403 naming the list for any other model, on every inference "
                 "operation the spec has, and /models lists only the list's models."),
    Check("governance.alert_delivered_once", alert_delivered_once, "PUT /api-keys/{key_id}/alerts", MUST,
          writes=True, basis="overlay", source="spec/overlay.yml: setApiKeyAlerts, AlertThreshold, webhook_secret; "
                 "Requesty changelog: alerts before budgets run out",
          reason="A spend threshold crossed is delivered to the webhook exactly once, HMAC-signed, "
                 "naming the key by id and carrying no secret."),
    Check("governance.guardrail_report_mask", guardrail_report_and_mask, "PUT /api-keys/{key_id}/guardrails", MUST,
          writes=True, basis="overlay", source="spec/overlay.yml: setApiKeyGuardrails, GuardrailAction; "
                 "Requesty changelog: guardrail actions per policy (Disabled, Report, Mask)",
          reason="Report lets the call through and records each violation by kind and position; Mask keeps the "
                 "values from the answer; no record contains a detected value."),
)]
