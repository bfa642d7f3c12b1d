"""Spend alerts: which thresholds a call's cost made a key cross, and the signed webhook event for each.

A threshold is crossed when the key's month-to-date spend goes from below it to at or above it. Each
crossing (key, month, threshold) makes one event, whatever the number of calls racing past it: the
crossing's id is the event's identity, kept by the outbox (:mod:`~mockserver.governance.delivery`).

The event is signed like Stripe's webhooks: ``X-Mock-Signature: t=<unix seconds>,v1=<hex>`` where the
hex is HMAC-SHA256 with the configured secret over ``"<t>." + body``. The secret is never in the event,
the journal or any log.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Iterable
from typing import Any

import orjson

from mockserver.accounts import money
from mockserver.accounts.clock import format_datetime
from mockserver.governance.config import Threshold

SIGNATURE_HEADER = "X-Mock-Signature"
EVENT_TYPE = "spend_alert.threshold_crossed"


def crossed(thresholds: Iterable[Threshold], limit: money.Units | None, before: money.Units,
            after: money.Units) -> list[tuple[Threshold, money.Units]]:
    """The thresholds (with their amounts) that ``before -> after`` crosses."""
    out = []
    for threshold in thresholds:
        amount = threshold.amount(limit)
        if amount is not None and before < amount <= after:
            out.append((threshold, amount))
    return out


def crossing_id(key_id: str, month: str, threshold: Threshold) -> str:
    return f"{key_id}:{month}:{threshold.label}"


def event(key_id: str, key_name: str, month: str, threshold: Threshold, amount: money.Units,
          spend: money.Units, limit: money.Units | None, at: Any) -> dict[str, Any]:
    """The JSON event: the key by id and name (never its secret), the threshold, the spend and the limit."""
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": EVENT_TYPE,
        "created_at": format_datetime(at),
        "key_id": key_id,
        "key_name": key_name,
        "month": month,
        "threshold": {**threshold.as_json(), "amount_usd": money.to_usd(amount)},
        "spend_usd": money.to_usd(spend),
        "limit_usd": None if limit is None else money.to_usd(limit),
    }


def encode(payload: dict[str, Any]) -> bytes:
    return orjson.dumps(payload)


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header's value for ``body`` sent at ``timestamp`` (now when omitted)."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify(secret: str, body: bytes, header: str, tolerance_s: float | None = 300) -> bool:
    """Whether ``header`` is a valid signature of ``body`` (what a receiver runs)."""
    try:
        parts = dict(part.split("=", 1) for part in header.split(","))
        t = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if tolerance_s is not None and abs(time.time() - t) > tolerance_s:
        return False
    expected = sign(secret, body, t).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
