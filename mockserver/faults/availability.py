"""Is model M available for this request? The one rule, for the fault step and for routed handlers.

A model is unavailable when the scenario lists it (``unavailable_models``: a 503 ``model_unavailable``)
or when an error rule for the operation (and, if the rule names models, for this model) fires on this
try. The first try of a request draws what :func:`~mockserver.faults.decide.decide` draws, so a plain
model call is decided as it always was; each later try (a retry, a fallback's next model) has its own
seeded draw. Every such error is the upstream provider's: origin ``provider``.
"""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.errors import PROVIDER, ROUTER, MockError
from mockserver.faults.decide import error_for_attempt
from mockserver.faults.scenario import Scenario

MESSAGES = {
    429: "Rate limit reached for requests (injected fault). Please try again in {retry}s.",
    500: "The server had an error while processing your request (injected fault).",
    502: "Bad gateway: the upstream provider sent an invalid response (injected fault).",
    503: "The service is temporarily unavailable (injected fault).",
    504: "The upstream provider did not answer in time (injected fault).",
}


@dataclass(frozen=True, slots=True)
class ModelFault:
    error: MockError
    label: str  # for the journal: "unavailable:MODEL", "error:503"


def retry_headers(retry_after_s: int) -> dict[str, str]:
    return {"Retry-After": str(retry_after_s), "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": f"{retry_after_s}s"}


def injected_error(status: int, message: str | None = None) -> MockError:
    """An upstream provider's failure (origin ``provider``), as a scenario or ``Prefer: code=`` injects it."""
    headers = retry_headers(1) if status == 429 else None
    text = message or MESSAGES.get(status, "Injected fault.").format(retry=1)
    return MockError(status, text, headers=headers, origin=PROVIDER if status == 429 or status >= 500 else ROUTER)


def unavailable(scenario: Scenario, model: str | None) -> bool:
    names = scenario.unavailable_models
    return model is not None and bool(names) and (model in names or model.partition("@")[0] in names)


def model_fault(scenario: Scenario, seed: int, operation_id: str, model: str | None, sequence: int,
                attempt: int = 0) -> ModelFault | None:
    """None when ``model`` answers the request's ``attempt``-th try; else the provider's error."""
    if unavailable(scenario, model):
        return ModelFault(MockError(503, f"The model '{model}' is currently unavailable (injected fault).",
                                    code="model_unavailable", origin=PROVIDER), f"unavailable:{model}")
    if not scenario.errors:
        return None
    rule = error_for_attempt(scenario, seed, sequence, operation_id, model, attempt)
    if rule is None:
        return None
    return ModelFault(injected_error(rule.status, rule.message), f"error:{rule.status}")
