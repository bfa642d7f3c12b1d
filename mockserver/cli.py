"""``mockserver``: parse options, then call plain functions. No logic lives here."""

from __future__ import annotations

import sys

import click

from mockserver.config import DEFAULT_MAX_BODY, MockConfig, resolve_api_key
from mockserver.faults.scenario import ScenarioError, from_options
from mockserver.server import ServeError, serve
from mockserver.spec import SpecError, load_spec


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="llm-gateway-contracts", prog_name="mockserver")
def main() -> None:
    """A spec-driven mock of the Requesty Router (OpenAI-compatible LLM gateway)."""


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to bind; 0 picks a free one.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed for generated data.")
@click.option("--spec", "spec_path", type=click.Path(dir_okay=False), default=None,
              help="OpenAPI file to serve instead of the bundled Requesty spec.")
@click.option("--overlay", "overlays", multiple=True, type=click.Path(dir_okay=False),
              help="Overlay to apply (repeatable). Default: the bundled overlay with the bundled spec, none with --spec.")
@click.option("--api-key", default=None, help="Admin key. Default: $MOCKSERVER_API_KEY, else rq-mock-admin-key.")
@click.option("--max-body", default=DEFAULT_MAX_BODY, show_default=True, type=click.IntRange(1),
              help="Largest request body in bytes; larger ones get 413.")
@click.option("--scenario", "scenario_path", type=click.Path(dir_okay=False), default=None,
              help="YAML fault scenario (docs/faults.md); checked at start.")
@click.option("--latency-ms", type=click.FloatRange(0, 600_000), default=None,
              help="Fixed extra latency on every operation (replaces the scenario's latency).")
@click.option("--error-rate", "error_rates", multiple=True, metavar="STATUS=RATE",
              help="Answer STATUS (429, 500, 502, 503, 504) to a share of requests, e.g. 503=0.05 (repeatable).")
@click.option("--rpm", type=click.IntRange(1), default=None, help="Requests per minute per key; over it, 429.")
@click.option("--tpm", type=click.IntRange(1), default=None, help="Estimated tokens per minute per key; over it, 429.")
def serve_command(host: str, port: int, seed: int, spec_path: str | None, overlays: tuple[str, ...],
                  api_key: str | None, max_body: int, scenario_path: str | None, latency_ms: float | None,
                  error_rates: tuple[str, ...], rpm: int | None, tpm: int | None) -> None:
    """Serve the mock until Ctrl-C."""
    try:
        spec = load_spec(spec_path, list(overlays) if overlays else None)
        scenario = from_options(scenario_path, latency_ms=latency_ms, error_rates=error_rates, rpm=rpm, tpm=tpm)
        config = MockConfig(spec=spec, api_key=resolve_api_key(api_key), seed=seed, max_body=max_body, scenario=scenario)
        serve(config, host, port)
    except KeyboardInterrupt:
        click.echo("mockserver: stopped", err=True)
    except (SpecError, ServeError, ScenarioError) as exc:
        click.echo(f"mockserver: error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
