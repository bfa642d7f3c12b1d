"""The governance step of every inference call: the key's access list, then the guardrail.

:func:`admit` is called with the plan :func:`~mockserver.router.resolve.resolve` made (by
:func:`~mockserver.router.dispatch.route_call`, which every routing inference handler calls) and
:func:`admit_model` by a handler that serves one model without routing (embeddings). The access list
filters the plan's candidates, so a policy or alias never reaches a model the key may not use; none
left is a 403 ``model_not_allowed`` naming the list. The guardrail then finds violations in the
prompt: *report* notes them, *mask* also replaces the call's body with the masked one (what the model
"sees"), *block* refuses the call (400 ``guardrail_blocked``). Violations are noted on the request's
exchange (journal) by kind and position, and the handler records them with the usage entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockserver.errors import MockError
from mockserver.governance import guardrails
from mockserver.governance.config import AccessList
from mockserver.governance.detectors import KINDS
from mockserver.router.config import POLICY_PREFIX

if TYPE_CHECKING:
    from mockserver.call import Call
    from mockserver.router.resolve import Plan


def admit(call: Call, plan: Plan) -> Plan:
    """``plan`` with only the candidates the key may use; the guardrail applied to ``call``."""
    governance = call.state.governance
    record = call.state.record_of(call.principal)
    access = governance.list_for(record)
    if access is not None:
        allowed = tuple(c for c in plan.candidates if access.allows(c.model.id))
        if not allowed:
            raise not_allowed(access, plan.asked)
        if len(allowed) != len(plan.candidates):
            plan = type(plan)(plan.asked, allowed)
    _guard(call, record, plan.asked)
    return plan


def admit_model(call: Call, model_id: str) -> None:
    """The access list and the guardrail for a call that serves ``model_id`` without routing."""
    record = call.state.record_of(call.principal)
    access = call.state.governance.list_for(record)
    if access is not None and not access.allows(model_id):
        raise not_allowed(access, model_id)
    _guard(call, record, model_id)


def not_allowed(access: AccessList, asked: str) -> MockError:
    return MockError(403, f"This API key may not use {asked!r}: it is not on the key's access list "
                          f"'{access.name}' ({', '.join(access.models)}). GET /v1/models lists what the key may use.",
                     code="model_not_allowed", param="model")


def visible(call: Call, listing: dict[str, Any]) -> dict[str, Any]:
    """The ``GET /models`` listing, only the models the calling key may use."""
    access = call.state.governance.list_for(call.state.record_of(call.principal))
    if access is None:
        return listing
    return {**listing, "data": [m for m in listing["data"] if access.allows(m["id"])]}


def _guard(call: Call, record: Any, asked: str) -> None:
    governance = call.state.governance
    policy = asked[len(POLICY_PREFIX):] if asked.startswith(POLICY_PREFIX) else None
    action = governance.guardrail_for(record, policy)
    if action == "disabled":
        return
    kinds = governance.config.guardrails.detectors or KINDS
    violations = guardrails.scan(call.body, kinds)
    if not violations:
        return
    if call.exchange is not None:
        call.exchange.violations = guardrails.records(violations)
        call.exchange.guardrail = action
    if action == "block":
        raise guardrails.blocked(violations)
    if action == "mask":
        call.body = guardrails.masked(call.body, kinds)
