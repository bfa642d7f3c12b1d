"""The routing file (``mockserver serve --config FILE``): YAML -> checked -> frozen dataclasses.

Checked against ``mockserver/data/routing.schema.yml``, then against the catalog: every model a
policy or alias names must exist (and an ``@region`` must be one the catalog lists for it), every
``policy/<name>`` must be defined, and no policy may reach itself. Every problem is one line naming
the file and the place (``routing.yml: $.policies.a.models[1].model: unknown model 'x/y' ...``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from mockserver.llm.catalog import Catalog
from mockserver.spec.errors import SpecError
from mockserver.spec.loader import read_document
from mockserver.spec.schemas import json_path

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "routing.schema.yml"
POLICY_PREFIX = "policy/"
DEFAULT_BACKOFF_MS = 500.0


class RoutingError(Exception):
    """The routing file cannot be used; the message is one line naming the file and place."""


@dataclass(frozen=True, slots=True)
class Entry:
    model: str  # a catalog id, id@region, an alias or policy/<name>
    retries: int = 0  # fallback: tries after the first, each after a backoff
    weight: float = 1.0  # loadbalance: normalised over the policy's entries


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    type: str  # fallback | loadbalance
    entries: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class Alias:
    name: str
    model: str  # a catalog id or id@region
    parameters: Mapping[str, Any] = field(default_factory=dict)  # set when the request leaves them out


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    policies: Mapping[str, Policy] = field(default_factory=dict)
    aliases: Mapping[str, Alias] = field(default_factory=dict)
    backoff_ms: float = DEFAULT_BACKOFF_MS


EMPTY = RoutingConfig()


def load_routing(path: str | Path, catalog: Catalog) -> RoutingConfig:
    try:
        data = read_document(path)
    except SpecError as exc:  # unreadable file or invalid YAML: one line, as for the other files
        raise RoutingError(str(exc)) from None
    return parse_routing(data, str(path), catalog)


def parse_routing(data: Any, source: str, catalog: Catalog) -> RoutingConfig:
    """Check ``data`` (the parsed file) and build the routing, or raise :class:`RoutingError`."""
    data = {} if data is None else data
    error = next(iter(_schema().iter_errors(data)), None)
    if error is not None:
        message = error.message.replace("\n", " ")
        if len(message) > 200:
            message = message[:200] + "..."
        raise RoutingError(f"{source}: {json_path(error.instance_path)}: {message}")
    policies = {name: _policy(name, spec, source) for name, spec in data.get("policies", {}).items()}
    aliases = {name: Alias(name, spec["model"], dict(spec.get("parameters", {})))
               for name, spec in data.get("aliases", {}).items()}
    routing = RoutingConfig(policies, aliases, float(data.get("backoff_ms", DEFAULT_BACKOFF_MS)))
    for name in aliases:
        where = f"{source}: {_at('aliases', name)}"
        if name.startswith(POLICY_PREFIX):
            raise RoutingError(f"{where}: an alias cannot start with {POLICY_PREFIX!r}, which names policies")
        if name.partition("@")[0] in catalog:
            raise RoutingError(f"{where}: the catalog already has a model named {name!r}")
        problem = _target_problem(aliases[name].model, routing, catalog, allow_routes=False)
        if problem:
            raise RoutingError(f"{where}.model: {problem}")
        model = catalog.get(aliases[name].model.partition("@")[0])
        max_tokens = aliases[name].parameters.get("max_tokens")
        if model is not None and max_tokens and model.max_output_tokens and max_tokens > model.max_output_tokens:
            raise RoutingError(f"{where}.parameters.max_tokens: {max_tokens} is more than {model.id} can write "
                               f"({model.max_output_tokens})")
    for policy in policies.values():
        for index, entry in enumerate(policy.entries):
            problem = _target_problem(entry.model, routing, catalog, allow_routes=True)
            if problem:
                raise RoutingError(f"{source}: {_at('policies', policy.name, 'models')}[{index}].model: {problem}")
    cycle = _cycle(policies)
    if cycle:
        raise RoutingError(f"{source}: {_at('policies', cycle[0])}: the policies form a cycle: "
                           + " -> ".join(POLICY_PREFIX + name for name in cycle))
    return routing


def _policy(name: str, spec: Mapping[str, Any], source: str) -> Policy:
    entries = []
    kind = spec["type"]
    for index, item in enumerate(spec["models"]):
        item = {"model": item} if isinstance(item, str) else item
        where = f"{source}: {_at('policies', name, 'models')}[{index}]"
        if kind == "loadbalance" and "weight" not in item:
            raise RoutingError(f"{where}: a loadbalance entry needs a weight, e.g. {{model: {item['model']}, weight: 1}}")
        if kind == "loadbalance" and "retries" in item:
            raise RoutingError(f"{where}: retries belong to fallback policies; a loadbalance entry has a weight")
        if kind == "fallback" and "weight" in item:
            raise RoutingError(f"{where}: weights belong to loadbalance policies; a fallback entry may have retries")
        entries.append(Entry(item["model"], int(item.get("retries", 0)), float(item.get("weight", 1.0))))
    return Policy(name, kind, tuple(entries))


def _at(*names: str) -> str:
    """The JSON path of a place in the file, as the schema's messages write it."""
    return json_path(list(names))


def _target_problem(target: str, routing: RoutingConfig, catalog: Catalog, *, allow_routes: bool) -> str | None:
    """Why ``target`` cannot be routed to, or None."""
    if target.startswith(POLICY_PREFIX):
        if not allow_routes:
            return f"an alias names a catalog model, not a policy ({target!r})"
        name = target[len(POLICY_PREFIX):]
        return None if name in routing.policies else f"no policy named {name!r} in this file"
    if target in routing.aliases:
        return None if allow_routes else f"an alias names a catalog model, not another alias ({target!r})"
    base, at, region = target.partition("@")
    model = catalog.get(base)
    if model is None:
        return f"unknown model {target!r}: not in the catalog, and not an alias or policy of this file"
    if at and region not in model.regions:
        served = ", ".join(model.regions) or "none"
        return f"{base} is not served in region {region!r} (its regions: {served})"
    return None


def _cycle(policies: Mapping[str, Policy]) -> list[str] | None:
    """A chain of policy names that comes back to its first one, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> list[str] | None:
        state[name] = 1
        for entry in policies[name].entries:
            if entry.model.startswith(POLICY_PREFIX):
                child = entry.model[len(POLICY_PREFIX):]
                if state.get(child) == 1:
                    return path[path.index(child):] + [child] if child in path else [name, child]
                if state.get(child) is None:
                    found = visit(child, [*path, child])
                    if found:
                        return found
        state[name] = 2
        return None

    for name in policies:
        if name not in state:
            found = visit(name, [name])
            if found:
                return found
    return None


@cache
def _schema() -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(yaml.safe_load(SCHEMA.read_text(encoding="utf-8")))
