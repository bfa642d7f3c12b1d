"""The mock's settings, from the CLI, the environment or a test."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from mockserver.auth import DEFAULT_API_KEY
from mockserver.faults.scenario import Scenario
from mockserver.spec import LoadedSpec, load_spec

DEFAULT_MAX_BODY = 1024 * 1024
API_KEY_ENV = "MOCKSERVER_API_KEY"


def resolve_api_key(explicit: str | None) -> str:
    """``--api-key``, else ``$MOCKSERVER_API_KEY``, else the documented default."""
    return explicit or os.environ.get(API_KEY_ENV) or DEFAULT_API_KEY


@dataclass
class MockConfig:
    spec: LoadedSpec = field(default_factory=load_spec)
    api_key: str = field(default_factory=lambda: resolve_api_key(None))
    seed: int = 0
    max_body: int = DEFAULT_MAX_BODY
    cors_origins: tuple[str, ...] = ("*",)
    scenario: Scenario | None = None  # server-wide faults in force at start (and after a reset)
