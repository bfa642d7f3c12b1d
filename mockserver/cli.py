"""``mockserver``: parse options, then call plain functions. No logic lives here."""

from __future__ import annotations

import sys

import click

from mockserver.config import DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY, DEFAULT_MAX_HEADERS, ConfigError, build_config
from mockserver.llm.replies import STYLES
from mockserver.server import ServeError, serve
from mockserver.workers import WorkerError


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
@click.option("--max-headers", default=DEFAULT_MAX_HEADERS, show_default=True, type=click.IntRange(1),
              help="Largest total size of request headers in bytes; larger gets 431.")
@click.option("--body-timeout", default=DEFAULT_BODY_TIMEOUT, show_default=True, type=click.FloatRange(min=0.001),
              help="Seconds to wait for the next piece of a request body; a stalled upload gets 408.")
@click.option("--models", "models_path", type=click.Path(dir_okay=False), default=None,
              help="Model catalog YAML to serve instead of the bundled one.")
@click.option("--reply-style", type=click.Choice(STYLES), default="echo", show_default=True,
              help="Chat replies: echo the last user message, lorem ipsum, or a fixed sentence.")
@click.option("--ttft-ms", type=click.FloatRange(0), default=0, show_default=True,
              help="Streams: milliseconds before the first token.")
@click.option("--tokens-per-s", type=click.FloatRange(0), default=0, show_default=True,
              help="Streams: tokens per second after the first; 0 sends them at once.")
@click.option("--scenario", "scenario_path", type=click.Path(dir_okay=False), default=None,
              help="YAML fault scenario (docs/faults.md); checked at start.")
@click.option("--latency-ms", type=click.FloatRange(0, 600_000), default=None,
              help="Fixed extra latency on every operation (replaces the scenario's latency).")
@click.option("--error-rate", "error_rates", multiple=True, metavar="STATUS=RATE",
              help="Answer STATUS (429, 500, 502, 503, 504) to a share of requests, e.g. 503=0.05 (repeatable).")
@click.option("--rpm", type=click.IntRange(1), default=None, help="Requests per minute per key; over it, 429.")
@click.option("--state", "state_path", default=None, metavar="PATH|redis://HOST:PORT/DB",
              help="Shared state: a SQLite file (one host, kept across restarts, WAL) or a Redis URL (many hosts). "
                   "Default: in this process's memory.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Worker processes on the one port; more than 1 needs --state (docs/scaling.md).")
@click.option("--tpm", type=click.IntRange(1), default=None, help="Estimated tokens per minute per key; over it, 429.")
def serve_command(host: str, port: int, workers: int, **options: object) -> None:
    """Serve the mock until Ctrl-C."""
    try:
        if workers > 1 and not options.get("state_path"):
            raise ServeError(f"--workers {workers} needs a shared --state (a SQLite file or a redis:// URL): "
                             "the default memory state belongs to one process")
        config = build_config(**options)
        if workers > 1:
            serve(config, host, port, workers=workers)
        else:
            serve(config, host, port)
    except KeyboardInterrupt:
        click.echo("mockserver: stopped", err=True)
    except (*ConfigError, ServeError, WorkerError) as exc:
        click.echo(f"mockserver: error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
