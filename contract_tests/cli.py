"""``contract-tests``: the conformance suite's command line, thin over :func:`contract_tests.runner.run`."""

from __future__ import annotations

import click

from contract_tests.profiles import PROFILES
from contract_tests.reporting import DEFAULT_REPORT_DIR, report_files
from contract_tests.reporting.markdown import summary_lines
from contract_tests.runner import run
from contract_tests.session import Options, UsageError


def _patterns(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(p.strip() for value in values for p in value.split(",") if p.strip())


def _options(*decorators):
    """The click options several commands share, as one decorator (listed in this order in ``--help``)."""
    def apply(command):
        for decorator in reversed(decorators):
            command = decorator(command)
        return command
    return apply


spec_options = _options(
    click.option("--spec", "spec", type=click.Path(dir_okay=False), help="Another OpenAPI file (default: bundled)."),
    click.option("--overlay", "overlays", multiple=True, type=click.Path(dir_okay=False),
                 help="Overlay to apply (repeatable; default: the bundled overlay with the bundled spec)."))
report_options = _options(
    click.option("--report-dir", default=DEFAULT_REPORT_DIR, show_default=True,
                 help="Where to write report.json/.md/.html, junit.xml and run.log."),
    click.option("--junit", type=click.Path(dir_okay=False), help="Also write JUnit XML here."))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Conformance tests for Requesty-compatible LLM gateways."""


@main.command("run")
@click.option("--base-url", help="The gateway's base URL, e.g. https://router.requesty.ai/v1. "
              "Default: the embedded mock, in-process.")
@click.option("--api-key", envvar="REQUESTY_API_KEY", help="The admin API key [env: REQUESTY_API_KEY].")
@spec_options
@click.option("--strict", is_flag=True, help="Refuse a spec with defects (exit 2) instead of warning about each.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for generated requests.")
@click.option("--profile", type=click.Choice(sorted(PROFILES)),
              help="quick (default on loopback), full, or live (default elsewhere).")
@report_options
@click.option("--max-requests", type=click.IntRange(min=1), help="Stop after this many requests.")
@click.option("--max-spend", type=click.FloatRange(min=0), help="Stop once the target reports this much USD spent.")
@click.option("--allow-writes", is_flag=True, help="Create and delete API keys on a non-loopback target.")
@click.option("--insecure", is_flag=True, help="Allow plain http to a non-loopback host (the key travels unencrypted).")
@click.option("--include", multiple=True, help="Only checks matching these names or globs (comma-separated).")
@click.option("--exclude", multiple=True, help="Leave out checks matching these names or globs (comma-separated).")
@click.option("--policy", metavar="NAME", help="A fallback policy of the target (model policy/NAME), for the routing "
              "checks. Default on the embedded mock: the bundled routing file's.")
@click.option("--balance-policy", metavar="NAME", help="A load-balancing policy of the target, for the routing checks. "
              "Default on the embedded mock: the bundled routing file's.")
def run_command(base_url, api_key, spec, overlays, strict, seed, profile, report_dir, junit, max_requests, max_spend,
                allow_writes, insecure, include, exclude, policy, balance_policy) -> None:
    """Run the suite against a gateway (or the embedded mock) and write the reports."""
    from contract_tests.progress import Progress

    progress = Progress() if Progress.wanted() else None
    options = Options(base_url=base_url, api_key=api_key, spec=spec, overlays=list(overlays) or None, seed=seed,
                      profile=profile, max_requests=max_requests, max_spend=max_spend, allow_writes=allow_writes,
                      insecure=insecure, include=_patterns(include), exclude=_patterns(exclude), strict=strict,
                      warn=lambda line: click.echo(f"contract-tests: {line}", err=True),
                      policy=policy, balance_policy=balance_policy)
    consumers = ([progress] if progress is not None else []) + report_files(report_dir, junit=junit)
    try:
        result = run(options, *consumers)
    except UsageError as exc:
        click.echo(f"contract-tests: error: {exc}", err=True)
        raise SystemExit(2) from None
    finally:
        if progress is not None:
            progress.close()
    _finish(result, report_dir)


def _finish(result, report_dir: str | None) -> None:
    for line in summary_lines(result):
        click.echo(line)
    for item in result.failed:
        first = item.findings[0].message.splitlines()[0] if item.findings else ""
        click.echo(f"  {item.level:6} {item.check} on {item.operation}: {first[:160]}")
    if report_dir:
        click.echo(f"Reports in {report_dir}/")
    raise SystemExit(result.exit_code)


@main.command("audit")
@click.argument("source", type=click.Path())
@spec_options
@report_options
def audit_command(source, spec, overlays, report_dir, junit) -> None:
    """Judge recorded traffic (a recording directory, a .jsonl file or a .har file) and write the reports.

    Nothing is sent: the schema layer's response checks and every semantic check that can judge recorded
    exchanges run on them; the others are listed as not judged, with the reason (docs/audit.md).
    """
    from contract_tests.audit.offline import AuditOptions, audit

    options = AuditOptions(source=source, spec=spec, overlays=list(overlays) or None)
    try:
        result = audit(options, *report_files(report_dir, junit=junit))
    except UsageError as exc:
        click.echo(f"contract-tests: error: {exc}", err=True)
        raise SystemExit(2) from None
    _finish(result, report_dir)


@main.command("proxy")
@click.option("--upstream", required=True, help="The gateway to pass traffic on to, e.g. https://router.requesty.ai/v1.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8082, show_default=True,
              help="Port to listen on (0: a free one).")
@spec_options
@report_options
@click.option("--every", type=click.IntRange(min=1), default=20, show_default=True,
              help="Rewrite the reports after this many exchanges...")
@click.option("--interval", type=click.FloatRange(min=0.1), default=5.0, show_default=True,
              help="...or after this many seconds, whichever comes first.")
def proxy_command(upstream, host, port, spec, overlays, report_dir, junit, every, interval) -> None:
    """Audit live traffic: a reverse proxy to UPSTREAM that judges every exchange passing through.

    It never sends a request of its own. Ctrl-C writes the final reports and exits 0, or 1 on a MUST failure.
    """
    from contract_tests.audit.auditor import Auditor
    from contract_tests.audit.offline import load
    from contract_tests.audit.proxy import serve
    from mockserver.server import ServeError

    try:
        auditor = Auditor(load(spec, list(overlays) or None), credentials_known=True)
        result = serve(upstream, host, port, auditor, report_files(report_dir, junit=junit), every=every,
                       interval=interval, announce=lambda line: click.echo(line))
    except (UsageError, ServeError, ValueError) as exc:
        click.echo(f"contract-tests: error: {exc}", err=True)
        raise SystemExit(2) from None
    _finish(result, report_dir)
