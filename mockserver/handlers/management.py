"""Key management and usage reports: the admin key's operations.

Payloads only (JSON-able values; ``handlers.admin_json`` sends them): the records and totals come
from :class:`mockserver.state.MockState`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mockserver.accounts import money
from mockserver.accounts.clock import format_datetime, parse_datetime
from mockserver.accounts.keys import ApiKeyRecord
from mockserver.accounts.ledger import UsageSummary
from mockserver.accounts.reports import Report, ReportQuery
from mockserver.call import Call
from mockserver.errors import MockError


def key_json(record: ApiKeyRecord, secret: str | None = None) -> dict[str, Any]:
    """The ``ApiKey`` answer: ``expiry`` only when the key has one, the secret only when it was just created."""
    body: dict[str, Any] = {
        "id": record.id,
        "name": record.name,
        "labels": list(record.labels),
        "limit": None if record.limit is None else money.to_usd(record.limit),
        "created_at": format_datetime(record.created_at),
    }
    if record.expiry is not None:
        body["expiry"] = format_datetime(record.expiry)
    if secret is not None:
        body["key"] = secret
    return body


def report_json(summary: UsageSummary) -> dict[str, Any]:
    """The ``UsageReport`` answer: totals, and one breakdown item per model, by model name."""
    return {
        "total_cost": money.to_usd(summary.cost),
        "total_requests": summary.requests,
        "total_tokens": summary.tokens,
        "breakdown": [
            {"model": model, "requests": t.requests, "tokens": t.tokens, "cost": money.to_usd(t.cost)}
            for model, t in summary.by_model.items()
        ],
    }


def _key_id(call: Call) -> str:
    return call.params["path"]["key_id"]


def _limit(body: dict[str, Any]) -> money.Units | None:
    value = body.get("limit")
    return None if value is None else money.from_usd(value)


def create_api_key(call: Call) -> dict[str, Any]:
    body = call.body or {}
    expiry = body.get("expiry")
    moment = None if expiry is None else parse_datetime(expiry)
    if expiry is not None and moment is None:
        raise MockError(400, f"expiry must be an RFC 3339 date-time such as 2027-01-31T00:00:00Z, not {expiry!r}.",
                        code="invalid_request", param="expiry")
    record, secret = call.state.create_key(name=body.get("name", ""), labels=body.get("labels", ()),
                                           limit=_limit(body), expiry=moment)
    return key_json(record, secret)


def list_api_keys(call: Call) -> dict[str, Any]:
    return {"data": [key_json(record) for record in call.state.list_keys()]}


def get_api_key(call: Call) -> dict[str, Any]:
    return key_json(call.state.get_key(_key_id(call)))


def delete_api_key(call: Call) -> dict[str, Any]:
    call.state.delete_key(_key_id(call))
    return {"id": _key_id(call), "deleted": True}


def update_api_key_limit(call: Call) -> dict[str, Any]:
    return key_json(call.state.set_limit(_key_id(call), _limit(call.body)))


def get_api_key_usage(call: Call) -> dict[str, Any]:
    query = report_query(call, _key_id(call))
    if query == ReportQuery(key_id=query.key_id):
        return report_json(call.state.usage_for_key(query.key_id))
    return filtered_report_json(call.state.usage_report(query))


def get_organization_usage(call: Call) -> dict[str, Any]:
    query = report_query(call, None)
    if query == ReportQuery():
        return report_json(call.state.org_usage())
    return filtered_report_json(call.state.usage_report(query))


def report_query(call: Call, key_id: str | None) -> ReportQuery:
    """The report's filters and grouping from the (schema-checked) query; 400 for a date that is not one.

    The live usage API refuses windows over 31 days; the mock reports any window (one that ends before
    it starts holds no call), since the spec documents no bound a client could know."""
    query = call.params.get("query", {})
    start, end = _date(query, "start_date"), _date(query, "end_date")
    return ReportQuery(key_id, start, end, query.get("tag"), query.get("user_id"), query.get("origin"),
                       query.get("model"), query.get("model_asked"), query.get("group_by"))


def _date(query: dict[str, Any], name: str) -> dt.date | None:
    text = query.get(name)
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else _bad_date(name, text)
    except ValueError:
        return _bad_date(name, text)


def _bad_date(name: str, text: str) -> dt.date:
    raise MockError(400, f"{name} must be a date such as 2026-11-01 (YYYY-MM-DD, UTC), not {text!r}.",
                    code="invalid_value", param=name)


def filtered_report_json(report: Report) -> dict[str, Any]:
    """A filtered or grouped ``UsageReport``: totals, breakdown by model served, and the groups."""
    body = report_json(UsageSummary(report.by_model))
    if report.groups is not None:
        body["groups"] = [{"group": group, "requests": t.requests, "tokens": t.tokens, "cost": money.to_usd(t.cost)}
                          for group, t in report.groups.items()]
    return body
