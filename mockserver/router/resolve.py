"""Model resolution: the name a request asks for -> the plan of models to try, in order. Pure.

``resolve(model_name, config, catalog, trace_id, rng) -> Plan`` is the one function every inference
handler calls. A name is, in this order:

- ``policy/<name>``: a policy of the routing file. *fallback*: the candidates of each entry, in order,
  each entry's model tried ``1 + retries`` times. *loadbalance*: one entry, drawn by normalised weight:
  with a ``trace_id``, from a hash of the policy name and the trace id (so one trace always reaches
  the same model), else from ``rng`` (seeded by the caller). An entry may itself be a policy.
- an alias of the routing file (``coding/default``): its model, with its preset parameters.
- ``<model>@<region>``: a catalog model, only when the catalog lists that region for it.
- a catalog model id.

Anything else is the router's 404 ``model_not_found``; a region the model lacks is a 404
``region_not_supported`` naming the regions it has.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from mockserver.errors import MockError
from mockserver.llm.catalog import Catalog, ModelInfo
from mockserver.router.config import EMPTY, POLICY_PREFIX, Entry, Policy, RoutingConfig

_NO_PARAMETERS: Mapping[str, Any] = {}


@dataclass(frozen=True, slots=True)
class Candidate:
    """One model a plan may try."""

    name: str  # what the answer's ``model`` says when it serves: the catalog id, with ``@region`` if asked
    model: ModelInfo
    region: str | None = None
    retries: int = 0  # tries after the first
    parameters: Mapping[str, Any] = field(default_factory=dict)  # an alias's presets
    via: tuple[str, ...] = ()  # the policies and alias it was reached through, outermost first


@dataclass(frozen=True, slots=True)
class Plan:
    asked: str
    candidates: tuple[Candidate, ...]

    @property
    def routed(self) -> bool:
        """Whether the name was a policy or an alias rather than a model."""
        return bool(self.candidates[0].via)


def resolve(model_name: str, config: RoutingConfig | None, catalog: Catalog, trace_id: str | None,
            rng: random.Random, *, kind: str = "chat") -> Plan:
    """The plan for ``model_name``; raises the router's :class:`MockError` when it cannot be routed."""
    config = config or EMPTY
    if model_name in catalog and model_name not in config.aliases:  # the usual call: a plan made once per model
        return _plain_plan(model_name, catalog, kind)
    return Plan(model_name, tuple(_candidates(model_name, config, catalog, trace_id, rng, kind, ())))


@lru_cache(maxsize=1024)
def _plain_plan(model_name: str, catalog: Catalog, kind: str) -> Plan:
    return Plan(model_name, (_model(model_name, catalog, kind, _NO_PARAMETERS, ()),))


def _candidates(name: str, config: RoutingConfig, catalog: Catalog, trace_id: str | None, rng: random.Random,
                kind: str, via: tuple[str, ...]) -> list[Candidate]:
    if name.startswith(POLICY_PREFIX):
        policy = config.policies.get(name[len(POLICY_PREFIX):])
        if policy is None:
            known = ", ".join(POLICY_PREFIX + p for p in config.policies) or "none (start the mock with --config FILE)"
            raise MockError(404, f"No routing policy named '{name}'. Defined policies: {known}.",
                            code="model_not_found", param="model")
        return _policy(policy, config, catalog, trace_id, rng, kind, (*via, name))
    alias = config.aliases.get(name)
    if alias is not None:
        return [_model(alias.model, catalog, kind, alias.parameters, (*via, name))]
    return [_model(name, catalog, kind, _NO_PARAMETERS, via)]


def _policy(policy: Policy, config: RoutingConfig, catalog: Catalog, trace_id: str | None, rng: random.Random,
            kind: str, via: tuple[str, ...]) -> list[Candidate]:
    if policy.type == "loadbalance":
        u = trace_uniform(policy.name, trace_id) if trace_id else rng.random()
        entry = pick_weighted(policy.entries, u)
        return _candidates(entry.model, config, catalog, trace_id, rng, kind, via)
    out: list[Candidate] = []
    for entry in policy.entries:
        for candidate in _candidates(entry.model, config, catalog, trace_id, rng, kind, via):
            if not entry.model.startswith(POLICY_PREFIX):  # a model or alias named here: this entry's retries
                candidate = Candidate(candidate.name, candidate.model, candidate.region, entry.retries,
                                      candidate.parameters, candidate.via)
            out.append(candidate)
    return out


def _model(name: str, catalog: Catalog, kind: str, parameters: Mapping[str, Any], via: tuple[str, ...]) -> Candidate:
    base, at, region = name.partition("@")
    model = catalog.require(base, kind)
    if at:
        if region not in model.regions:
            served = ", ".join(model.regions) or "no region"
            raise MockError(404, f"The model '{base}' is not served in region '{region}'; it is served in: "
                                 f"{served}. Ask for '{base}' or one of its regions.",
                            code="region_not_supported", param="model")
        return Candidate(name, model, region, 0, parameters, via)
    return Candidate(model.id, model, None, 0, parameters, via)


def trace_uniform(policy_name: str, trace_id: str) -> float:
    """A number in [0, 1) fixed by the policy and the trace id (SHA-256): one trace, one model."""
    digest = hashlib.sha256(f"{policy_name}\0{trace_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def pick_weighted(entries: Sequence[Entry], u: float) -> Entry:
    """The entry whose slice of [0, 1) holds ``u``, the slices proportional to the weights, in order."""
    total = sum(entry.weight for entry in entries)
    edge = 0.0
    for entry in entries:
        edge += entry.weight / total
        if u < edge:
            return entry
    return entries[-1]
