"""The mock's settings, from the CLI, the environment or a test."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from mockserver.auth import DEFAULT_API_KEY
from mockserver.backends import StateFileError
from mockserver.faults.scenario import Scenario, ScenarioError, from_options
from mockserver.governance.config import EMPTY as EMPTY_GOVERNANCE
from mockserver.governance.config import GovernanceConfig, load_governance
from mockserver.llm.catalog import Catalog, CatalogError, default_catalog, load_catalog
from mockserver.llm.overrides import Overrides
from mockserver.router.config import EMPTY as EMPTY_ROUTING
from mockserver.router.config import RoutingConfig, RoutingError, load_routing
from mockserver.spec import LoadedSpec, SpecError, load_spec

DEFAULT_MAX_BODY = 1024 * 1024
DEFAULT_MAX_HEADERS = 32 * 1024
DEFAULT_BODY_TIMEOUT = 10.0
API_KEY_ENV = "MOCKSERVER_API_KEY"


def resolve_api_key(explicit: str | None) -> str:
    """``--api-key``, else ``$MOCKSERVER_API_KEY``, else the documented default."""
    return explicit or os.environ.get(API_KEY_ENV) or DEFAULT_API_KEY


def shown_api_key(explicit: str | None) -> str:
    """The admin key as ``mockserver serve`` prints it: in full when it is the public default or was typed
    as ``--api-key``; masked when it came from the environment, which is where real secrets are kept."""
    key = resolve_api_key(explicit)
    if explicit or not os.environ.get(API_KEY_ENV):
        return key
    return f"{key[:3]}…{key[-2:]} (from ${API_KEY_ENV})" if len(key) >= 12 else f"(from ${API_KEY_ENV})"


@dataclass
class MockConfig:
    spec: LoadedSpec = field(default_factory=load_spec)
    api_key: str = field(default_factory=lambda: resolve_api_key(None))
    seed: int = 0
    max_body: int = DEFAULT_MAX_BODY
    max_headers: int = DEFAULT_MAX_HEADERS  # all request header names and values together, in bytes
    body_timeout: float = DEFAULT_BODY_TIMEOUT  # seconds to wait for the next piece of a request body
    cors_origins: tuple[str, ...] = ("*",)
    shown_api_key: str | None = None  # how the start-up lines show the admin key (None: in full)
    catalog: Catalog = field(default_factory=default_catalog)
    reply_style: str = "echo"  # echo | lorem | fixed
    ttft_ms: float = 0.0  # stream pacing: delay before the first token
    tokens_per_s: float = 0.0  # stream pacing: 0 sends every token at once
    state_path: str | None = None  # the shared store (--state): a SQLite file or redis:// URL; None: in memory
    scenario: Scenario | None = None  # server-wide faults in force at start (and after a reset)
    routing: RoutingConfig = EMPTY_ROUTING  # policies and aliases (--config FILE, docs/routing.md)
    governance: GovernanceConfig = EMPTY_GOVERNANCE  # access lists, alerts, guardrails (--config FILE, docs/governance.md)
    # The server-wide reply and pacing settings, which X-Mock-* headers override per request (made once).
    overrides: Overrides = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.overrides = Overrides(style=self.reply_style, ttft_ms=self.ttft_ms, tokens_per_s=self.tokens_per_s)


ConfigError = (SpecError, CatalogError, ScenarioError, StateFileError, RoutingError)
"""The errors a bad option or file gives at start: each a one-line message."""


def build_config(
    *,
    spec_path: str | None = None,
    overlays: tuple[str, ...] = (),
    api_key: str | None = None,
    seed: int = 0,
    max_body: int = DEFAULT_MAX_BODY,
    max_headers: int = DEFAULT_MAX_HEADERS,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
    models_path: str | None = None,
    reply_style: str = "echo",
    ttft_ms: float = 0.0,
    tokens_per_s: float = 0.0,
    scenario_path: str | None = None,
    latency_ms: float | None = None,
    error_rates: tuple[str, ...] = (),
    rpm: int | None = None,
    tpm: int | None = None,
    state_path: str | None = None,
    routing_path: str | None = None,
    strict: bool = False,
    cache: bool = True,
) -> MockConfig:
    """The configuration ``mockserver serve`` runs with: every file read and checked here, once."""
    catalog = load_catalog(models_path) if models_path else default_catalog()
    return MockConfig(
        spec=load_spec(spec_path, list(overlays) if overlays else None, strict=strict, cache=cache),
        api_key=resolve_api_key(api_key),
        shown_api_key=shown_api_key(api_key),
        seed=seed,
        max_body=max_body,
        max_headers=max_headers,
        body_timeout=body_timeout,
        catalog=catalog,
        routing=load_routing(routing_path, catalog) if routing_path else EMPTY_ROUTING,
        governance=load_governance(routing_path, catalog) if routing_path else EMPTY_GOVERNANCE,
        reply_style=reply_style,
        ttft_ms=ttft_ms,
        tokens_per_s=tokens_per_s,
        scenario=from_options(scenario_path, latency_ms=latency_ms, error_rates=error_rates, rpm=rpm, tpm=tpm),
        state_path=state_path,
    )
