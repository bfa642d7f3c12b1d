"""``run(options) -> RunResult``: the whole suite as one plain function (the CLI and pytest call it)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase

import httpx

from contract_tests.budget import Budget, BudgetExhausted
from contract_tests.checks import Check, CheckFailed, CheckSkipped, all_checks
from contract_tests.checks.context import CheckContext
from contract_tests.curl import EMBEDDED_ORIGIN as EMBEDDED_URL
from contract_tests.curl import curl_line
from contract_tests.profiles import PROFILES, Profile, default_profile
from contract_tests.redact import Redactor
from contract_tests.results import CheckResult, Finding, Origin, Outcome, RunResult
from contract_tests.schema_layer import CHECKS as SCHEMA_CHECKS
from contract_tests.schema_layer import PREFIX, SchemaLayer
from contract_tests.target import Exchange, SyncASGITransport, Target, is_loopback, open_target
from mockserver.auth import DEFAULT_API_KEY
from mockserver.spec import LoadedSpec, SpecError, default_spec_path, load_spec

DEFAULT_REPORT_DIR = "contract-test-reports"
LAYER2_SHARE = 0.5  # of a request budget, kept for the semantic checks while Schemathesis runs
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
    report_dir: str | None = DEFAULT_REPORT_DIR
    junit: str | None = None
    max_requests: int | None = None
    max_spend: float | None = None
    allow_writes: bool = False
    insecure: bool = False  # allow plain http to a host that is not on loopback
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    progress: Callable[[str], None] | None = None
    strict: bool = False  # refuse a spec with defects instead of warning about each
    warn: Callable[[str], None] | None = None  # told one line per defect of the spec
    # For tests: answer the suite's requests with this transport (or serve this ASGI app) instead.
    transport: httpx.BaseTransport | None = None
    app: object | None = None


def selected(name: str, options: Options) -> bool:
    def matches(patterns: tuple[str, ...]) -> bool:
        return any(fnmatchcase(name, p) or fnmatchcase(name.removeprefix(PREFIX), p) for p in patterns)

    return (not options.include or matches(options.include)) and not matches(options.exclude)


@dataclass
class Session:
    """An open target with everything a run needs: the CLI's :func:`run` and the pytest plugin share it."""

    target: Target
    spec: LoadedSpec
    upstream: LoadedSpec | None
    profile: Profile
    writes: bool
    seed: int

    def context(self) -> CheckContext:
        return CheckContext(self.target, self.spec, deterministic=self.target.local, allow_writes=self.writes,
                            max_tokens=self.profile.max_tokens)

    def schema_layer(self, checks: list[str] | None = None) -> SchemaLayer:
        return SchemaLayer(self.target, self.spec, self.upstream, self.profile, self.seed, checks)


@contextmanager
def open_session(options: Options) -> Iterator[Session]:
    """Load the spec, open the target, check it answers and takes the key (else :class:`UsageError`)."""
    spec, upstream = _load_specs(options)
    with _open(options, spec) as target:
        profile = _profile(options, target)
        _preflight(target)
        yield Session(target, spec, upstream, profile, options.allow_writes or target.local, options.seed)


def run(options: Options) -> RunResult:
    started = time.monotonic()
    with open_session(options) as session:
        target = session.target
        result = RunResult(target=target.shown_url, profile=session.profile.name, seed=options.seed,
                           started=datetime.now(UTC).isoformat(timespec="seconds"))
        if target.embedded:
            result.notes.append("target: the embedded mock, in-process; curl lines reproduce on `mockserver serve` "
                                "with REQUESTY_API_KEY set to its admin key")
        if not session.writes:
            result.notes.append("writes disabled (not a loopback target): key checks skipped; use --allow-writes")
        say = options.progress or (lambda line: None)
        schema_checks = [name for name in SCHEMA_CHECKS if selected(PREFIX + name, options)]
        if schema_checks:
            layer = session.schema_layer(schema_checks)
            with target.budget.holding_back(LAYER2_SHARE):
                for item in layer.run(on_event=lambda line: say(f"layer 1: {line} ({target.budget.requests} requests)")):
                    result.add(item)
                if target.budget.stopped:
                    result.notes.append(f"Layer 1 stopped at its part of the request budget ({target.budget.requests} "
                                        "requests); the rest was kept for Layer 2")
        ctx = session.context()
        try:
            for check in all_checks():
                if selected(check.name, options):
                    say(f"layer 2: {check.name} ({target.budget.requests} requests)")
                    result.add(run_check(check, ctx))
        finally:
            if session.writes and not target.budget.exhausted:
                ctx.cleanup()
        result.requests = target.budget.requests
        result.spend = target.budget.spend
        result.stopped = target.budget.stopped or ""
        result.duration = time.monotonic() - started
        if options.report_dir or options.junit:
            from contract_tests.reporting import write_reports

            write_reports(result, options.report_dir, junit=options.junit, log=target.transport.log)
    return result


def run_check(check: Check, ctx: CheckContext) -> CheckResult:
    """One Layer-2 check as one result: pass, fail (with what was received and documented) or skip."""
    result = CheckResult(check=check.name, operation=check.operation, layer=2,
                         level=check.level_for(ctx.deterministic), outcome=Outcome.PASS, reason=check.reason,
                         source=check.source)
    log = ctx.target.transport.log
    mark = len(log)
    if check.writes and not ctx.allow_writes:
        return _skip(result, "creates or deletes API keys: run with --allow-writes")
    if ctx.target.budget.exhausted:
        return _skip(result, ctx.target.budget.stopped or "budget reached")
    try:
        check.func(ctx)
    except CheckFailed as exc:
        result.outcome = Outcome.FAIL
        result.findings.append(_finding(str(exc), check, ctx, log[mark:]))
    except CheckSkipped as exc:
        return _skip(result, str(exc))
    except BudgetExhausted as exc:
        return _skip(result, str(exc))
    except httpx.TransportError as exc:
        result.outcome = Outcome.FAIL
        result.findings.append(_finding(f"the request failed: {exc}", check, ctx, log[mark:]))
    except Exception as exc:  # noqa: BLE001  (a surprising answer fails the check; it never ends the run)
        result.outcome = Outcome.FAIL
        result.findings.append(_finding(f"the answer could not be read ({type(exc).__name__}: {exc})", check, ctx,
                                        log[mark:]))
    return result


def _skip(result: CheckResult, reason: str) -> CheckResult:
    result.outcome = Outcome.SKIP
    result.skip_reason = reason
    return result


def _finding(message: str, check: Check, ctx: CheckContext, exchanges: list[Exchange]) -> Finding:
    redactor = ctx.target.redactor
    finding = Finding(message=redactor.text(message))
    if check.basis == "overlay":
        finding.origin = Origin.SPEC_GAP
        finding.origin_note = "rests on an addition of the overlay, not on the upstream spec"
    if exchanges:
        last = next((e for e in reversed(exchanges) if e.status is None or e.status >= 400), exchanges[-1])
        finding.request = f"{last.method} {last.url}\n{last.request_body}".strip()
        finding.response = f"{last.status} {last.response_headers.get('content-type', '')}\n{last.response_body[:1000]}"
        finding.curl = curl_line(last.method, last.url, last.request_headers, last.request_body, redactor)
    return finding


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


@contextmanager
def _open(options: Options, spec: LoadedSpec) -> Iterator[Target]:
    profile = PROFILES.get(options.profile or "")
    local = options.base_url is None or is_loopback(options.base_url)
    defaults = profile or PROFILES[default_profile(local)]
    budget = Budget(max_requests=options.max_requests if options.max_requests is not None else defaults.max_requests,
                    max_spend=options.max_spend if options.max_spend is not None else defaults.max_spend)
    redactor = Redactor()
    if options.base_url is None:
        from mockserver.app import create_app
        from mockserver.config import MockConfig

        key = options.api_key or EMBEDDED_KEY
        app = options.app or create_app(MockConfig(spec=spec, api_key=key, seed=options.seed))
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
