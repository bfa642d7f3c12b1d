"""Options of the conformance suite when run as ``pytest contract_tests [--base-url URL --api-key KEY ...]``."""

from __future__ import annotations

import os

OPTIONS = (
    ("--base-url", {"help": "gateway base URL (default: the embedded mock, in-process)"}),
    ("--api-key", {"default": os.environ.get("REQUESTY_API_KEY"), "help": "admin API key [env: REQUESTY_API_KEY]"}),
    ("--spec", {"help": "another OpenAPI file"}),
    ("--overlay", {"action": "append", "help": "overlay to apply (repeatable)"}),
    ("--seed", {"type": int, "default": 0, "help": "seed for generated requests"}),
    ("--profile", {"choices": ["quick", "full", "live"], "help": "quick (loopback default), full, live"}),
    ("--max-requests", {"type": int, "help": "stop after this many requests"}),
    ("--max-spend", {"type": float, "help": "stop once this much USD is reported spent"}),
    ("--allow-writes", {"action": "store_true", "help": "create and delete API keys on a non-loopback target"}),
    ("--insecure", {"action": "store_true", "help": "allow plain http to a host that is not on loopback"}),
    ("--policy", {"help": "a fallback policy of the target (policy/NAME), for the routing checks"}),
    ("--balance-policy", {"help": "a load-balancing policy of the target, for the routing checks"}),
)


def pytest_addoption(parser) -> None:
    group = parser.getgroup("contract-tests", "conformance suite (pytest contract_tests)")
    for name, kwargs in OPTIONS:
        group.addoption(name, dest="ct_" + name.lstrip("-").replace("-", "_"), **kwargs)
