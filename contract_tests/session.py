"""A run's session: the spec loaded, the target open and answering, the checks' context; cleaned up in one place.

:func:`open_session` is the one context manager around a run, for the CLI and
the pytest plugin alike: on the way out it deletes the keys the run created
(unless the budget is spent) and closes the target.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from contract_tests.budget import Budget, BudgetExhausted
from contract_tests.checks.context import CheckContext
from contract_tests.checks.policies import BUNDLED_ROUTING, Policies
from contract_tests.curl import EMBEDDED_ORIGIN as EMBEDDED_URL
from contract_tests.profiles import PROFILES, Profile, default_profile
from contract_tests.redact import Redactor
from contract_tests.schema_layer import SchemaLayer
from contract_tests.target import SyncASGITransport, Target, is_loopback, open_target
from mockserver.auth import DEFAULT_API_KEY
from mockserver.spec import LoadedSpec, SpecError, default_spec_path, load_spec

EMBEDDED_KEY = DEFAULT_API_KEY  # so a failure's curl line reproduces on `mockserver serve`


class UsageError(Exception):
    """The run cannot start: bad option, spec, unreachable target, refused key. One line, exit code 2."""


@dataclass
class Options:
    base_url: str | None = None
    api_key: str | None = None
    spec: str | None = None
    overlays: list[str] | None = None
    seed: int = 0
    profile: str | None = None
    max_requests: int | None = None
    max_spend: float | None = None
    allow_writes: bool = False
    insecure: bool = False  # allow plain http to a host that is not on loopback
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    strict: bool = False  # refuse a spec with defects instead of warning about each
    warn: Callable[[str], None] | None = None  # told one line per defect of the spec
    policy: str | None = None  # a fallback policy of the target, for the routing checks (policy/NAME)
    balance_policy: str | None = None  # a load-balancing policy of the target
    # For tests: answer the suite's requests with this transport (or serve this ASGI app) instead.
    transport: httpx.BaseTransport | None = None
    app: object | None = None
    on_target: Callable[[Target], None] | None = None  # told of the target once it answered (the xdist budget)


@dataclass
class Session:
    """An open target with everything a run needs."""

    target: Target
    spec: LoadedSpec
    upstream: LoadedSpec | None
    profile: Profile
    writes: bool
    seed: int
    context: CheckContext

    def schema_layer(self, checks: list[str] | None = None) -> SchemaLayer:
        return SchemaLayer(self.target, self.spec, self.upstream, self.profile, self.seed, checks)


@contextmanager
def open_session(options: Options) -> Iterator[Session]:
    """Load the spec, open the target, check it answers and takes the key (else :class:`UsageError`)."""
    spec, upstream = _load_specs(options)
    with _open(options, spec) as target:
        profile = _profile(options, target)
        _preflight(target)
        if options.on_target is not None:
            options.on_target(target)
        writes = options.allow_writes or target.local
        context = CheckContext.open(target, spec, deterministic=target.local, allow_writes=writes,
                                    max_tokens=profile.max_tokens, policies=_policies(options),
                                    overlaid=upstream is not None)
        try:
            yield Session(target, spec, upstream, profile, writes, options.seed, context)
        finally:
            if writes and not target.budget.exhausted:
                context.keys.cleanup()


def _policies(options: Options) -> Policies:
    """The policies the routing checks call: the bundled routing file's on the embedded mock the suite starts
    itself (named ones override), else only those the options name."""
    fallback, balance = (name.removeprefix("policy/") if name else None
                         for name in (options.policy, options.balance_policy))
    if options.base_url is None and options.app is None and options.transport is None:
        return Policies.from_file(BUNDLED_ROUTING, fallback=fallback, balance=balance)
    return Policies(fallback, balance)


def _load_specs(options: Options) -> tuple[LoadedSpec, LoadedSpec | None]:
    try:
        spec = load_spec(options.spec, options.overlays, strict=options.strict)
        if options.spec is None:
            upstream = load_spec(default_spec_path(), [])
        elif options.overlays:
            upstream = load_spec(options.spec, [])
        else:
            upstream = None
    except SpecError as exc:
        raise UsageError(str(exc)) from None
    if options.warn is not None:
        for defect in spec.defects:
            options.warn(f"warning: {defect.line(spec.source)}")
    return spec, upstream


def _profile(options: Options, target: Target) -> Profile:
    name = options.profile or default_profile(target.local)
    if name not in PROFILES:
        raise UsageError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}")
    return PROFILES[name]


def budget_limits(options: Options) -> tuple[int | None, float | None]:
    """The run's (max requests, max spend): the options, else the profile's defaults (the named profile's,
    or the default profile of a loopback or a remote target)."""
    profile = PROFILES.get(options.profile or "")
    local = options.base_url is None or is_loopback(options.base_url)
    defaults = profile or PROFILES[default_profile(local)]
    return (options.max_requests if options.max_requests is not None else defaults.max_requests,
            options.max_spend if options.max_spend is not None else defaults.max_spend)


@contextmanager
def _open(options: Options, spec: LoadedSpec) -> Iterator[Target]:
    budget = Budget(*budget_limits(options))
    redactor = Redactor()
    if options.base_url is None:
        from mockserver.app import create_app
        from mockserver.config import MockConfig
        from mockserver.llm.catalog import default_catalog
        from mockserver.router.config import load_routing

        key = options.api_key or EMBEDDED_KEY
        app = options.app or create_app(MockConfig(spec=spec, api_key=key, seed=options.seed,
                                                   routing=load_routing(BUNDLED_ROUTING, default_catalog())))
        inner = options.transport or SyncASGITransport(app)
        with open_target(EMBEDDED_URL + spec.base_path, key, inner=inner, budget=budget, redactor=redactor,
                         embedded=True, display_url="embedded mock") as target:
            yield target
        return
    if not options.base_url.startswith(("http://", "https://")):
        raise UsageError(f"--base-url must be an http(s) URL, got {options.base_url!r}")
    if not options.api_key:
        raise UsageError("--api-key (or $REQUESTY_API_KEY) is required with --base-url")
    if options.base_url.startswith("http://") and not is_loopback(options.base_url) and not options.insecure:
        raise UsageError(f"refusing to send the API key over plain http to {options.base_url}: "
                         "use https, or --insecure if this network is trusted")
    with open_target(options.base_url, options.api_key, inner=options.transport, budget=budget,
                     redactor=redactor) as target:
        yield target


def _preflight(target: Target) -> None:
    """One request to know the target answers and takes the key; otherwise a usage error, not a report."""
    try:
        response = target.client.get("/models", headers=target.auth_headers())
    except BudgetExhausted as exc:
        raise UsageError(str(exc)) from None
    except httpx.TransportError as exc:
        raise UsageError(f"cannot reach {target.shown_url}: {type(exc).__name__}: {target.redactor.text(str(exc))}") from None
    if response.status_code in (401, 403):
        raise UsageError(f"the target refused the API key: GET /models answered {response.status_code}")
