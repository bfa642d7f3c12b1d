"""The routing policies a run calls (``--policy``, ``--balance-policy``) and, when the suite knows the routing file
(the one it starts the embedded mock with), the models each policy can serve."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

BUNDLED_ROUTING = Path(__file__).resolve().parents[1] / "data" / "routing.yml"
POLICY_PREFIX = "policy/"
NEEDS_POLICY = "needs a fallback policy of the target: run with --policy NAME"
NEEDS_BALANCE = "needs a load-balancing policy of the target: run with --balance-policy NAME"


@dataclass(frozen=True)
class Policies:
    fallback: str | None = None  # a fallback policy's name (without "policy/")
    balance: str | None = None  # a load-balancing policy's name
    members: Mapping[str, frozenset[str]] = field(default_factory=dict)  # policy name -> the models it can serve

    @classmethod
    def from_file(cls, path: str | Path, *, fallback: str | None = None, balance: str | None = None) -> Policies:
        """The policies of a routing file (docs/routing.md): the first fallback and first loadbalance policy unless
        named, and every policy's models through nested policies and aliases."""
        data = yaml.safe_load(Path(path).read_text()) or {}
        policies: dict[str, Any] = data.get("policies") or {}
        aliases: dict[str, Any] = data.get("aliases") or {}

        def reach(name: str, seen: frozenset[str]) -> set[str]:
            if name.startswith(POLICY_PREFIX):
                inner = name.removeprefix(POLICY_PREFIX)
                if inner in seen or inner not in policies:
                    return set()
                entries = policies[inner].get("models") or []
                return set().union(*(reach(e["model"] if isinstance(e, dict) else e, seen | {inner}) for e in entries))
            if name in aliases:
                return {aliases[name]["model"]}
            return {name}

        def first(kind: str) -> str | None:
            return next((name for name, policy in policies.items() if policy.get("type") == kind), None)

        members = {name: frozenset(reach(POLICY_PREFIX + name, frozenset())) for name in policies}
        return cls(fallback or first("fallback"), balance or first("loadbalance"), members)

    def models_of(self, name: str) -> frozenset[str] | None:
        """The models ``name`` can serve, when the routing file is known."""
        return self.members.get(name)
