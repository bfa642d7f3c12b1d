"""API keys: the secret shown once, authenticating at once, dead when deleted or expired, limits enforced."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from contract_tests.checks.context import CheckContext
from contract_tests.checks.registry import MUST, CheckFailed, CheckSkipped, check, expect

SOURCE = "upstream spec ApiKey.key ('returned only on creation'); Requesty API keys docs"


@check("keys.secret_only_on_create", operation="POST /api-keys", level=MUST, writes=True, source=SOURCE,
       reason="The secret is shown once, in the creation answer; reading a key back never shows it.")
def secret_only_on_create(ctx: CheckContext) -> None:
    created = ctx.create_key()
    secret = ctx.secret(created)
    for what, response in (
        (f"GET /api-keys/{created['id']}", ctx.request("GET", f"/api-keys/{created['id']}")),
        ("GET /api-keys", ctx.request("GET", "/api-keys")),
    ):
        ctx.ok(response, what, resource=True)
        expect(secret not in response.text, f"{what}: the answer contains the key's secret, documented only on creation")


@check("keys.created_key_authenticates", operation="POST /api-keys", level=MUST, writes=True, source=SOURCE,
       reason="A created key works at once: no propagation delay for the caller to guess.")
def created_key_authenticates(ctx: CheckContext) -> None:
    secret = ctx.secret(ctx.create_key())
    response = ctx.request("GET", "/models", key=secret)
    expect(response.status_code == 200, f"GET /models with the new key: received {response.status_code}, documented 200")


@check("keys.deleted_key_rejected", operation="DELETE /api-keys/{key_id}", level=MUST, writes=True, source=SOURCE,
       reason="A deleted key is dead: 401 when used, 404 when read back.")
def deleted_key_rejected(ctx: CheckContext) -> None:
    created = ctx.create_key()
    secret = ctx.secret(created)
    ctx.ok(ctx.request("DELETE", f"/api-keys/{created['id']}"), f"DELETE /api-keys/{created['id']}", resource=True)
    used = ctx.request("GET", "/models", key=secret)
    expect(used.status_code == 401, f"GET /models with a deleted key: received {used.status_code}, documented 401")
    read = ctx.request("GET", f"/api-keys/{created['id']}")
    expect(read.status_code == 404, f"GET /api-keys/{{id}} of a deleted key: received {read.status_code}, documented 404")


@check("keys.expired_key_rejected", operation="POST /api-keys", level=MUST, writes=True, source=SOURCE,
       reason="A key works until its expiry and gets 401 after it.")
def expired_key_rejected(ctx: CheckContext) -> None:
    expiry = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    secret = ctx.secret(ctx.create_key(expiry=expiry.isoformat().replace("+00:00", "Z")))
    if ctx.request("GET", "/models", key=secret).status_code != 200:
        raise CheckSkipped("a new key does not authenticate before its expiry either (see keys.created_key_authenticates)")
    time.sleep(max(0.0, (expiry - datetime.now(UTC)).total_seconds()) + 0.3)
    used = ctx.request("GET", "/models", key=secret)
    expect(used.status_code == 401, f"GET /models with an expired key: received {used.status_code}, documented 401")


@check("keys.limit_enforced", operation="PATCH /api-keys/{key_id}/limit", level=MUST, writes=True,
       source="Requesty docs: spend limits per key; overlay: 402 PaymentRequired",
       reason="A changed limit is visible on the key and enforced: once spent, inference gets 402 key_limit_exceeded.")
def limit_enforced(ctx: CheckContext) -> None:
    model = ctx.paid_chat_model()
    created = ctx.create_key()
    secret = ctx.secret(created)
    tiny = 1e-9
    path = f"/api-keys/{created['id']}"
    patched = ctx.ok(ctx.request("PATCH", f"{path}/limit", json={"limit": tiny}), f"PATCH {path}/limit", resource=True)
    expect(patched.get("limit") == tiny, f"PATCH limit: answer shows limit {patched.get('limit')}, sent {tiny}")
    shown = ctx.ok(ctx.request("GET", path), f"GET {path}", resource=True)
    expect(shown.get("limit") == tiny, f"GET {path}: limit {shown.get('limit')}, documented the new limit {tiny}")
    statuses = []
    for _ in range(2):
        response = ctx.chat(key=secret, model=model)
        statuses.append(response.status_code)
        if response.status_code == 402:
            code = ((response.json() or {}).get("error") or {}).get("code") if _is_json(response) else None
            expect(code == "key_limit_exceeded", f"402 error code: received {code!r}, documented 'key_limit_exceeded'")
            return
        if response.status_code != 200:
            raise CheckFailed(f"chat with a limited key: received {response.status_code}: {response.text[:200]}")
    raise CheckFailed(f"chat past a ${tiny} limit: received {statuses}, documented 402 once the limit is spent")


@check("keys.admin_required", operation="GET /api-keys", level=MUST, writes=True,
       source="overlay: 403 Forbidden on management operations", basis="overlay",
       reason="Only the admin key manages keys: a key it created gets 403 on management operations.")
def admin_required(ctx: CheckContext) -> None:
    secret = ctx.secret(ctx.create_key())
    response = ctx.request("GET", "/api-keys", key=secret)
    expect(response.status_code == 403, f"GET /api-keys with a non-admin key: received {response.status_code}, "
                                        "documented 403")


def _is_json(response) -> bool:
    try:
        response.json()
    except ValueError:
        return False
    return True
