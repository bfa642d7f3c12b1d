"""API keys: the secret shown once, authenticating at once, dead when deleted or expired, limits enforced."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.http_calls import ANTHROPIC_VERSION
from contract_tests.checks.outcomes import CheckFailed, CheckSkipped, expect
from contract_tests.results import MUST

SECRET = "spec/requesty-openapi.yml: ApiKey.key ('The API key value, returned only on creation')"
DEAD_KEY = "spec/overlay.yml: Unauthorized ('Missing, unknown, expired or deleted API key')"


def secret_only_on_create(ctx: CheckContext) -> None:
    created = ctx.keys.create()
    secret = ctx.keys.secret(created)
    for what, response in (
        (f"GET /api-keys/{created['id']}", ctx.http.request("GET", f"/api-keys/{created['id']}")),
        ("GET /api-keys", ctx.http.request("GET", "/api-keys")),
    ):
        ctx.http.ok(response, what, resource=True)
        expect(secret not in response.text, f"{what}: the answer contains the key's secret, documented only on creation")


def created_key_authenticates(ctx: CheckContext) -> None:
    secret = ctx.keys.secret(ctx.keys.create())
    response = ctx.http.request("GET", "/models", key=secret)
    expect(response.status_code == 200, f"GET /models with the new key: received {response.status_code}, documented 200")


def deleted_key_rejected(ctx: CheckContext) -> None:
    created = ctx.keys.create()
    secret = ctx.keys.secret(created)
    path = f"/api-keys/{created['id']}"
    ctx.http.ok(ctx.http.request("DELETE", path), f"DELETE {path}", resource=True)
    used = ctx.http.request("GET", "/models", key=secret)
    expect(used.status_code == 401, f"GET /models with a deleted key: received {used.status_code}, documented 401")
    read = ctx.http.request("GET", path)
    expect(read.status_code == 404, f"GET /api-keys/{{id}} of a deleted key: received {read.status_code}, documented 404")


def expired_key_rejected(ctx: CheckContext) -> None:
    expiry = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    secret = ctx.keys.secret(ctx.keys.create(expiry=expiry.isoformat().replace("+00:00", "Z")))
    if ctx.http.request("GET", "/models", key=secret).status_code != 200:
        raise CheckSkipped("a new key does not authenticate before its expiry either (see keys.created_key_authenticates)")
    time.sleep(max(0.0, (expiry - datetime.now(UTC)).total_seconds()) + 0.3)
    used = ctx.http.request("GET", "/models", key=secret)
    expect(used.status_code == 401, f"GET /models with an expired key: received {used.status_code}, documented 401")


def limit_enforced(ctx: CheckContext) -> None:
    model = ctx.catalog.paid_chat_model()
    created = ctx.keys.create()
    secret = ctx.keys.secret(created)
    tiny = 1e-9
    path = f"/api-keys/{created['id']}"
    patched = ctx.http.ok(ctx.http.request("PATCH", f"{path}/limit", json={"limit": tiny}), f"PATCH {path}/limit",
                          resource=True)
    expect(patched.get("limit") == tiny, f"PATCH limit: answer shows limit {patched.get('limit')}, sent {tiny}")
    shown = ctx.http.ok(ctx.http.request("GET", path), f"GET {path}", resource=True)
    expect(shown.get("limit") == tiny, f"GET {path}: limit {shown.get('limit')}, documented the new limit {tiny}")
    statuses = []
    for _ in range(2):
        response = ctx.http.chat(model, key=secret)
        statuses.append(response.status_code)
        if response.status_code == 402:
            code = ((response.json() or {}).get("error") or {}).get("code") if _is_json(response) else None
            expect(code == "key_limit_exceeded", f"402 error code: received {code!r}, documented 'key_limit_exceeded'")
            return
        if response.status_code != 200:
            raise CheckFailed(f"chat with a limited key: received {response.status_code}: {response.text[:200]}")
    raise CheckFailed(f"chat past a ${tiny} limit: received {statuses}, documented 402 once the limit is spent")


def admin_required(ctx: CheckContext) -> None:
    secret = ctx.keys.secret(ctx.keys.create())
    response = ctx.http.request("GET", "/api-keys", key=secret)
    expect(response.status_code == 403, f"GET /api-keys with a non-admin key: received {response.status_code}, "
                                        "documented 403")


def inference_calls(ctx: CheckContext) -> list[tuple[str, str, dict | None, dict | None]]:
    """(method, path, body, headers) of every operation a key calls, inference included, each as small as it gets."""
    model = ctx.catalog.chat_model()
    return [("GET", "/models", None, None),
            ("POST", "/chat/completions", ctx.http.chat_body(model, max_tokens=1), None),
            ("POST", "/embeddings", {"model": "any", "input": "probe"}, None),
            ("POST", "/responses", {"model": model, "input": "probe", "max_output_tokens": 1}, None),
            ("POST", "/messages", {"model": model, "max_tokens": 1, "messages": [{"role": "user", "content": "probe"}]},
             ANTHROPIC_VERSION)]


def dead_key_refused_everywhere(ctx: CheckContext) -> None:
    deleted = ctx.keys.create()
    path = f"/api-keys/{deleted['id']}"
    ctx.http.ok(ctx.http.request("DELETE", path), f"DELETE {path}", resource=True)
    expiry = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    expired = ctx.keys.secret(ctx.keys.create(expiry=expiry.isoformat().replace("+00:00", "Z")))
    time.sleep(max(0.0, (expiry - datetime.now(UTC)).total_seconds()) + 0.3)
    accepted = []
    for what, secret in (("deleted", ctx.keys.secret(deleted)), ("expired", expired)):
        for method, call_path, body, headers in inference_calls(ctx):
            response = ctx.http.request(method, call_path, key=secret, json=body, headers=headers)
            if ctx.http.lacks(response, f"{method} {call_path}"):
                continue  # not implemented on the target: said once in the run's notes
            if response.status_code != 401:
                accepted.append(f"{what} key: {method} {call_path} -> {response.status_code}")
    expect(not accepted, f"a dead key, documented 401 on every operation, received: {', '.join(accepted)}")


def _is_json(response) -> bool:
    try:
        response.json()
    except ValueError:
        return False
    return True


CHECKS = [
    Check("keys.secret_only_on_create", secret_only_on_create, "POST /api-keys", MUST, writes=True, source=SECRET,
          reason="The secret is shown once, in the creation answer; reading a key back never shows it."),
    Check("keys.created_key_authenticates", created_key_authenticates, "POST /api-keys", MUST, writes=True,
          source="spec/requesty-openapi.yml: createApiKey, ApiKey.key ('returned only on creation')",
          reason="A created key works at once: no propagation delay for the caller to guess."),
    Check("keys.deleted_key_rejected", deleted_key_rejected, "DELETE /api-keys/{key_id}", MUST, writes=True,
          source=f"spec/requesty-openapi.yml: deleteApiKey; {DEAD_KEY}",
          reason="A deleted key is dead: 401 when used, 404 when read back."),
    Check("keys.expired_key_rejected", expired_key_rejected, "POST /api-keys", MUST, writes=True,
          source=f"spec/requesty-openapi.yml: CreateApiKeyRequest.expiry; {DEAD_KEY}",
          reason="A key works until its expiry and gets 401 after it."),
    Check("keys.dead_key_refused_everywhere", dead_key_refused_everywhere, "DELETE /api-keys/{key_id}", MUST,
          writes=True, source=f"spec/requesty-openapi.yml: deleteApiKey, CreateApiKeyRequest.expiry; {DEAD_KEY}",
          reason="A deleted or expired key gets 401 on every operation it could call, inference included: chat, "
                 "embeddings, responses, messages."),
    Check("keys.limit_enforced", limit_enforced, "PATCH /api-keys/{key_id}/limit", MUST, writes=True,
          source="spec/requesty-openapi.yml: updateApiKeyLimit ('Spending limit in USD'); "
                 "spec/overlay.yml: PaymentRequired ('The calling key has reached its spending limit')",
          reason="A changed limit is visible on the key and enforced: once spent, inference gets 402 key_limit_exceeded."),
    Check("keys.admin_required", admin_required, "GET /api-keys", MUST, writes=True, basis="overlay",
          source="spec/overlay.yml: Forbidden ('management needs the admin key')",
          reason="Only the admin key manages keys: a key it created gets 403 on management operations."),
]
