"""``mockserver``: parse options, then call plain functions. No logic lives here."""

from __future__ import annotations

import sys

import click

from mockserver.config import (
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_MAX_BODY,
    DEFAULT_MAX_HEADERS,
    MockConfig,
    resolve_api_key,
)
from mockserver.llm.catalog import CatalogError, default_catalog, load_catalog
from mockserver.llm.replies import STYLES
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
def serve_command(host: str, port: int, seed: int, spec_path: str | None, overlays: tuple[str, ...],
                  api_key: str | None, max_body: int, max_headers: int, body_timeout: float,
                  models_path: str | None, reply_style: str, ttft_ms: float, tokens_per_s: float) -> None:
    """Serve the mock until Ctrl-C."""
    try:
        spec = load_spec(spec_path, list(overlays) if overlays else None)
        catalog = load_catalog(models_path) if models_path else default_catalog()
        config = MockConfig(spec=spec, api_key=resolve_api_key(api_key), seed=seed, max_body=max_body,
                            max_headers=max_headers, body_timeout=body_timeout, catalog=catalog,
                            reply_style=reply_style, ttft_ms=ttft_ms, tokens_per_s=tokens_per_s)
        serve(config, host, port)
    except KeyboardInterrupt:
        click.echo("mockserver: stopped", err=True)
    except (SpecError, ServeError, CatalogError) as exc:
        click.echo(f"mockserver: error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
