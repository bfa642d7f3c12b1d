"""API keys: the secret shown once, authenticating at once, dead when deleted or expired, limits enforced."""

from __future__ import annotations

from datetime import UTC, datetime

from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.http_calls import ANTHROPIC_VERSION
from contract_tests.checks.judge import KEY_PATH, History, Judge, judge_all, key_id_of
from contract_tests.checks.outcomes import CheckFailed, CheckSkipped, expect
from contract_tests.results import MUST
from contract_tests.traffic import Seen
from mockserver.handlers.table import BUILTIN

MANAGEMENT = frozenset(op_id for op_id, handler in BUILTIN.items() if handler.admin_only)

SECRET = "spec/requesty-openapi.yml: ApiKey.key ('The API key value, returned only on creation')"
DEAD_KEY = "spec/overlay.yml: Unauthorized ('Missing, unknown, expired or deleted API key')"


def is_key_read(seen: Seen) -> bool:
    op = seen.operation
    return op is not None and op.method == "GET" and op.path in ("/api-keys", KEY_PATH) and seen.status == 200


def judge_secret_only_on_create(seen: Seen, history: History) -> None:
    body = seen.response_json
    keys = body.get("data") if isinstance(body, dict) and seen.operation.path == "/api-keys" else [body]
    shown = [k.get("id") for k in keys or [] if isinstance(k, dict) and isinstance(k.get("key"), str) and k["key"]]
    expect(not shown, f"{seen.label}: the answer contains the key's secret (key {shown[0] if shown else ''}), "
                      "documented only on creation")


def _created_key(history: History, seen: Seen) -> str | None:
    return history.created_credentials.get(seen.credential or "")


def uses_created_key(seen: Seen) -> bool:
    return seen.credential is not None and seen.status is not None


def judge_created_key_authenticates(seen: Seen, history: History) -> None:
    key_id = _created_key(history, seen)
    if key_id is None or key_id in history.deleted or key_id in history.expiring:
        raise CheckSkipped("not a live key created in this traffic (deleted, or one that expires)")
    expect(seen.status != 401, f"{seen.method} {seen.path} with a key created before it: received 401, documented "
                               "that a created key works at once")


def touches_deleted_key(seen: Seen) -> bool:
    op = seen.operation
    return seen.status is not None and (seen.credential is not None
                                        or (op is not None and op.path.startswith(KEY_PATH) and key_id_of(seen)))


def judge_deleted_key_rejected(seen: Seen, history: History) -> None:
    key_id = key_id_of(seen)
    if seen.operation is not None and seen.operation.path == KEY_PATH and key_id in history.deleted \
            and seen.status not in (401, 403):  # a refused caller learns nothing about the key
        expect(seen.status == 404, f"{seen.method} /api-keys/{{id}} of a deleted key: received {seen.status}, "
                                   "documented 404")
        return
    if seen.credential is not None and seen.credential in history.deleted_credentials:
        expect(seen.status == 401, f"{seen.method} {seen.path} with a deleted key: received {seen.status}, "
                                   "documented 401")
        return
    raise CheckSkipped("no deleted key involved")


def judge_admin_required(seen: Seen, history: History) -> None:
    key_id = _created_key(history, seen)
    if key_id is None or key_id in history.deleted or key_id in history.expiring or seen.operation is None \
            or seen.operation.operation_id not in MANAGEMENT:
        raise CheckSkipped("not a management call with a key created in this traffic")
    expect(seen.status == 403, f"{seen.method} {seen.path} with a non-admin key: received {seen.status}, "
                               "documented 403")


JUDGES = {
    "keys.secret_only_on_create": Judge(is_key_read, judge_secret_only_on_create),
    "keys.created_key_authenticates": Judge(uses_created_key, judge_created_key_authenticates, needs_credentials=True),
    "keys.deleted_key_rejected": Judge(touches_deleted_key, judge_deleted_key_rejected,
                                       in_part="that a deleted key's later calls get 401 needs the calls' credentials"),
    "keys.admin_required": Judge(uses_created_key, judge_admin_required, needs_credentials=True),
}


def _create(ctx: CheckContext, **fields) -> tuple[Seen, dict]:
    """A key created for the check: its creation as the judges see it, and the answer (with the secret)."""
    mark = ctx.http.mark()
    created = ctx.keys.create(**fields)
    response = ctx.http.last_response
    assert response is not None and ctx.http.mark() > mark
    return ctx.seen(response), created


def secret_only_on_create(ctx: CheckContext) -> None:
    creation, created = _create(ctx)
    secret = ctx.keys.secret(created)
    for what, response in (
        (f"GET /api-keys/{created['id']}", ctx.http.request("GET", f"/api-keys/{created['id']}")),
        ("GET /api-keys", ctx.http.request("GET", "/api-keys")),
    ):
        ctx.http.ok(response, what, resource=True)
        expect(secret not in response.text, f"{what}: the answer contains the key's secret, documented only on creation")
        judge_all(JUDGES["keys.secret_only_on_create"], [creation, ctx.seen(response)])


def created_key_authenticates(ctx: CheckContext) -> None:
    creation, created = _create(ctx)
    response = ctx.http.request("GET", "/models", key=ctx.keys.secret(created))
    judge_all(JUDGES["keys.created_key_authenticates"], [creation, ctx.seen(response)])
    expect(response.status_code == 200, f"GET /models with the new key: received {response.status_code}, documented 200")


def deleted_key_rejected(ctx: CheckContext) -> None:
    creation, created = _create(ctx)
    secret = ctx.keys.secret(created)
    path = f"/api-keys/{created['id']}"
    deleted = ctx.http.request("DELETE", path)
    ctx.http.ok(deleted, f"DELETE {path}", resource=True)
    used = ctx.http.request("GET", "/models", key=secret)
    read = ctx.http.request("GET", path)
    judge_all(JUDGES["keys.deleted_key_rejected"], [creation] + [ctx.seen(r) for r in (deleted, used, read)])


def expired_key_rejected(ctx: CheckContext) -> None:
    secret, expiry = ctx.keys.expiring()
    if datetime.now(UTC) < expiry and ctx.http.request("GET", "/models", key=secret).status_code != 200:
        raise CheckSkipped("a new key does not authenticate before its expiry either (see keys.created_key_authenticates)")
    ctx.keys.wait_past(expiry)
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
    creation, created = _create(ctx)
    response = ctx.http.request("GET", "/api-keys", key=ctx.keys.secret(created))
    judge_all(JUDGES["keys.admin_required"], [creation, ctx.seen(response)])


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
    expired, expiry = ctx.keys.expiring()  # the run's one expiring key: waited for once
    ctx.keys.wait_past(expiry)
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
          judge=JUDGES["keys.secret_only_on_create"],
          reason="The secret is shown once, in the creation answer; reading a key back never shows it."),
    Check("keys.created_key_authenticates", created_key_authenticates, "POST /api-keys", MUST, writes=True,
          judge=JUDGES["keys.created_key_authenticates"],
          source="spec/requesty-openapi.yml: createApiKey, ApiKey.key ('returned only on creation')",
          reason="A created key works at once: no propagation delay for the caller to guess."),
    Check("keys.deleted_key_rejected", deleted_key_rejected, "DELETE /api-keys/{key_id}", MUST, writes=True,
          judge=JUDGES["keys.deleted_key_rejected"],
          source=f"spec/requesty-openapi.yml: deleteApiKey; {DEAD_KEY}",
          reason="A deleted key is dead: 401 when used, 404 when read back."),
    Check("keys.expired_key_rejected", expired_key_rejected, "POST /api-keys", MUST, writes=True,
          not_judged="it waits for a key of its own to expire and then uses it",
          source=f"spec/requesty-openapi.yml: CreateApiKeyRequest.expiry; {DEAD_KEY}",
          reason="A key works until its expiry and gets 401 after it."),
    Check("keys.dead_key_refused_everywhere", dead_key_refused_everywhere, "DELETE /api-keys/{key_id}", MUST,
          writes=True, source=f"spec/requesty-openapi.yml: deleteApiKey, CreateApiKeyRequest.expiry; {DEAD_KEY}",
          reason="A deleted or expired key gets 401 on every operation it could call, inference included: chat, "
                 "embeddings, responses, messages.",
          not_judged="it deletes and expires keys of its own and calls every inference operation with them"),
    Check("keys.limit_enforced", limit_enforced, "PATCH /api-keys/{key_id}/limit", MUST, writes=True,
          not_judged="it sets a tiny limit on a key of its own and spends past it; traffic does not show a key's "
                     "spend against its limit",
          source="spec/requesty-openapi.yml: updateApiKeyLimit ('Spending limit in USD'); "
                 "spec/overlay.yml: PaymentRequired ('The calling key has reached its spending limit')",
          reason="A changed limit is visible on the key and enforced: once spent, inference gets 402 key_limit_exceeded."),
    Check("keys.admin_required", admin_required, "GET /api-keys", MUST, writes=True, basis="overlay",
          judge=JUDGES["keys.admin_required"],
          source="spec/overlay.yml: Forbidden ('management needs the admin key')",
          reason="Only the admin key manages keys: a key it created gets 403 on management operations."),
]
