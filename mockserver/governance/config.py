"""The governance sections of the ``--config`` file: ``access_lists``, ``alerts``, ``guardrails``.

The same file as the routing (``mockserver/data/routing.schema.yml`` checks all its sections); this
module reads the three governance sections into frozen settings and checks what the schema cannot:
every model of an access list is in the catalog (or a ``provider/*`` pattern matching one), every
policy a guardrail names is defined, a webhook secret named by ``secret_env`` is set. Every problem is
one line naming the file and the place.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.accounts import money
from mockserver.llm.catalog import Catalog
from mockserver.router.config import RoutingError, _schema
from mockserver.spec.errors import SpecError
from mockserver.spec.loader import read_document
from mockserver.spec.schemas import json_path

DEFAULT_RETRIES = 5
DEFAULT_BACKOFF_MS = 1000.0
DEFAULT_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class AccessList:
    name: str
    models: tuple[str, ...]  # catalog ids, or provider/* patterns
    labels: tuple[str, ...] = ()  # keys with one of these labels use this list (a group)
    description: str = ""
    source: str = "api"  # config | api

    def allows(self, model_id: str) -> bool:
        base = model_id.partition("@")[0]
        return any(base == entry or fnmatch.fnmatchcase(base, entry) for entry in self.models)


@dataclass(frozen=True, slots=True)
class Threshold:
    usd: money.Units | None = None  # a dollar amount of month-to-date spend
    percent: float | None = None  # a share of the key's limit

    def amount(self, limit: money.Units | None) -> money.Units | None:
        """The spend at which it fires, or None (a percentage on a key without a limit)."""
        if self.usd is not None:
            return self.usd
        if limit is None or self.percent is None:
            return None
        return limit * round(self.percent * 1000) // 100_000

    @property
    def label(self) -> str:
        return f"usd:{self.usd}" if self.usd is not None else f"percent:{self.percent:g}"

    def as_json(self) -> dict[str, Any]:
        return {"usd": money.to_usd(self.usd)} if self.usd is not None else {"percent": self.percent}


@dataclass(frozen=True, slots=True)
class AlertsConfig:
    url: str | None = None  # the default webhook
    secret: str | None = field(default=None, repr=False)  # signs every delivery; never logged
    thresholds: tuple[Threshold, ...] = ()  # for every key without its own
    retries: int = DEFAULT_RETRIES  # tries after the first
    backoff_ms: float = DEFAULT_BACKOFF_MS  # the first retry's delay; doubled for each further one
    timeout_s: float = DEFAULT_TIMEOUT_S


@dataclass(frozen=True, slots=True)
class GuardrailsConfig:
    default: str = "disabled"  # disabled | report | mask | block
    detectors: tuple[str, ...] = ()  # empty: all
    policies: Mapping[str, str] = field(default_factory=dict)  # policy name -> action
    labels: Mapping[str, str] = field(default_factory=dict)  # key label -> action


@dataclass(frozen=True, slots=True)
class GovernanceConfig:
    access_lists: Mapping[str, AccessList] = field(default_factory=dict)
    alerts: AlertsConfig = AlertsConfig()
    guardrails: GuardrailsConfig = GuardrailsConfig()


EMPTY = GovernanceConfig()


def load_governance(path: str | Path, catalog: Catalog) -> GovernanceConfig:
    try:
        data = read_document(path)
    except SpecError as exc:
        raise RoutingError(str(exc)) from None
    return parse_governance(data, str(path), catalog)


def parse_governance(data: Any, source: str, catalog: Catalog) -> GovernanceConfig:
    """The governance settings of the (parsed) file; raises :class:`RoutingError` with one line."""
    data = {} if data is None else data
    error = next(iter(_schema().iter_errors(data)), None)
    if error is not None:
        raise RoutingError(f"{source}: {json_path(error.instance_path)}: {error.message.replace(chr(10), ' ')[:200]}")
    lists = {}
    for name, spec in data.get("access_lists", {}).items():
        for index, entry in enumerate(spec["models"]):
            problem = model_problem(entry, catalog)
            if problem:
                raise RoutingError(f"{source}: {json_path(['access_lists', name, 'models'])}[{index}]: {problem}")
        lists[name] = AccessList(name, tuple(spec["models"]), tuple(spec.get("labels", ())),
                                 spec.get("description", ""), "config")
    alerts = _alerts(data.get("alerts") or {}, source)
    guard = data.get("guardrails") or {}
    policies = set(data.get("policies") or {})
    for name in guard.get("policies", {}):
        if name not in policies:
            raise RoutingError(f"{source}: {json_path(['guardrails', 'policies', name])}: no policy named "
                               f"{name!r} in this file")
    guardrails = GuardrailsConfig(guard.get("default", "disabled"), tuple(guard.get("detectors", ())),
                                  dict(guard.get("policies", {})), dict(guard.get("labels", {})))
    return GovernanceConfig(lists, alerts, guardrails)


def model_problem(entry: str, catalog: Catalog) -> str | None:
    """Why an access list entry names no model of the catalog, or None."""
    if "*" in entry or "?" in entry:
        if any(fnmatch.fnmatchcase(model.id, entry) for model in catalog.models):
            return None
        return f"the pattern {entry!r} matches no model of the catalog"
    return None if entry in catalog else f"unknown model {entry!r}: not in the catalog"


def _alerts(spec: Mapping[str, Any], source: str) -> AlertsConfig:
    webhook = spec.get("webhook") or {}
    secret = webhook.get("secret")
    if "secret_env" in webhook:
        secret = os.environ.get(webhook["secret_env"])
        if not secret:
            raise RoutingError(f"{source}: {json_path(['alerts', 'webhook', 'secret_env'])}: the environment "
                               f"variable {webhook['secret_env']} is not set")
    thresholds = tuple(threshold(item) for item in spec.get("thresholds", ()))
    return AlertsConfig(webhook.get("url"), secret, thresholds, int(spec.get("retries", DEFAULT_RETRIES)),
                        float(spec.get("backoff_ms", DEFAULT_BACKOFF_MS)),
                        float(spec.get("timeout_s", DEFAULT_TIMEOUT_S)))


def threshold(item: Mapping[str, Any]) -> Threshold:
    if item.get("usd") is not None:
        return Threshold(usd=max(1, money.from_usd(item["usd"])))  # a positive amount stays positive
    return Threshold(percent=float(item["percent"]))
