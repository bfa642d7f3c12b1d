"""Governance management: access lists, a key's access list, alert thresholds and guardrail action.

Payloads only (``handlers.admin_json`` sends them; the admin key only). The settings live in
:class:`mockserver.governance.store.Governance`; ``docs/governance.md`` documents each operation.
"""

from __future__ import annotations

from typing import Any

from mockserver.accounts import money
from mockserver.call import Call
from mockserver.errors import MockError
from mockserver.governance.config import AccessList, model_problem, threshold
from mockserver.governance.store import KeyAlerts, thresholds_json


def access_list_json(access: AccessList) -> dict[str, Any]:
    return {"name": access.name, "description": access.description, "models": list(access.models),
            "labels": list(access.labels), "source": access.source}


def create_access_list(call: Call) -> dict[str, Any]:
    body = call.body
    models = tuple(dict.fromkeys(body["models"]))
    for index, entry in enumerate(models):
        problem = model_problem(entry, call.config.catalog)
        if problem:
            raise MockError(404, f"models[{index}]: {problem}. GET /v1/models lists the catalog.",
                            code="model_not_found", param=f"models[{index}]")
    return access_list_json(call.state.governance.create_list(body["name"], models, body.get("description", "")))


def list_access_lists(call: Call) -> dict[str, Any]:
    return {"data": [access_list_json(a) for a in call.state.governance.all_lists()]}


def get_access_list(call: Call) -> dict[str, Any]:
    return access_list_json(call.state.governance.get_list(call.params["path"]["name"]))


def delete_access_list(call: Call) -> dict[str, Any]:
    name = call.params["path"]["name"]
    call.state.governance.delete_list(name)
    return {"name": name, "deleted": True}


def _key(call: Call):
    return call.state.get_key(call.params["path"]["key_id"])


def set_api_key_access_list(call: Call) -> dict[str, Any]:
    record = _key(call)
    call.state.governance.attach_list(record.id, call.body.get("access_list"))
    access = call.state.governance.list_for(record)
    return {"key_id": record.id, "access_list": None if access is None else access.name}


def alerts_json(call: Call, key_id: str) -> dict[str, Any]:
    record = call.state.get_key(key_id)
    settings = call.state.governance.alerts_for(key_id)
    return {"key_id": key_id, "thresholds": thresholds_json(settings.thresholds), "webhook_url": settings.url,
            "webhook_secret_set": bool(settings.secret or call.state.governance.config.alerts.secret),
            "limit": None if record.limit is None else money.to_usd(record.limit)}


def get_api_key_alerts(call: Call) -> dict[str, Any]:
    return alerts_json(call, _key(call).id)


def set_api_key_alerts(call: Call) -> dict[str, Any]:
    record = _key(call)
    body = call.body
    settings = KeyAlerts(tuple(threshold(t) for t in body.get("thresholds", ())), body.get("webhook_url"),
                         body.get("webhook_secret"))
    call.state.governance.set_alerts(record.id, settings)
    return alerts_json(call, record.id)


def set_api_key_guardrails(call: Call) -> dict[str, Any]:
    record = _key(call)
    call.state.governance.set_guardrail(record.id, call.body.get("action"))
    return {"key_id": record.id, "action": call.state.governance.guardrail_for(record, None)}
