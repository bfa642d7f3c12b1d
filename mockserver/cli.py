"""``mockserver``: parse options, then call plain functions. No logic lives here."""

from __future__ import annotations

import sys

import click

from mockserver.config import DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY, DEFAULT_MAX_HEADERS, ConfigError, build_config
from mockserver.llm.replies import STYLES
from mockserver.recording.format import RecordingError, read_exchanges
from mockserver.recording.har import write_har
from mockserver.recording.record import record
from mockserver.recording.replay import load_replay
from mockserver.recording.serve import serve_replay
from mockserver.recording.settings import SettingsError
from mockserver.server import ServeError, check_workers, serve
from mockserver.spec import LoadedSpec
from mockserver.workers import WorkerError


def warn_defects(spec: LoadedSpec, program: str) -> None:
    """One warning line per defect of the spec, on stderr, before serving."""
    for defect in spec.defects:
        click.echo(f"{program}: warning: {defect.line(spec.source)}", err=True)


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
@click.option("--strict", is_flag=True,
              help="Refuse a spec with defects (exit 2) instead of serving it with one warning line per defect.")
@click.option("--no-cache", "cache", flag_value=False, default=True,
              help="Parse the spec file afresh instead of using the parsed copy cached by its hash "
                   "(also $MOCKSERVER_NO_CACHE=1; cache dir: $MOCKSERVER_CACHE_DIR, else ~/.cache/mockserver).")
@click.option("--api-key", default=None, help="Admin key. Default: $MOCKSERVER_API_KEY, else rq-mock-admin-key.")
@click.option("--max-body", default=DEFAULT_MAX_BODY, show_default=True, type=click.IntRange(1),
              help="Largest request body in bytes; larger ones get 413.")
@click.option("--max-headers", default=DEFAULT_MAX_HEADERS, show_default=True, type=click.IntRange(1),
              help="Largest total size of request headers in bytes; larger gets 431.")
@click.option("--body-timeout", default=DEFAULT_BODY_TIMEOUT, show_default=True, type=click.FloatRange(min=0.001),
              help="Seconds to wait for the next piece of a request body; a stalled upload gets 408.")
@click.option("--config", "routing_path", type=click.Path(dir_okay=False), default=None,
              help="Routing file: policies (policy/NAME) and aliases (docs/routing.md); checked at start.")
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
@click.option("--replay", "replay_source", type=click.Path(), default=None, metavar="DIR|FILE",
              help="Answer recorded exchanges (a `mockserver record` directory or .jsonl file, or a .har file).")
@click.option("--replay-strict", is_flag=True, help="With --replay: an unmatched request gets 404 naming the closest "
                                                     "recording, not a generated answer.")
@click.option("--replay-timing", is_flag=True, help="With --replay: send recorded stream chunks at their recorded times.")
@click.option("--replay-require-all", is_flag=True, help="With --replay: exit 1 at shutdown when a recording went unused.")
@click.option("--replay-config", type=click.Path(dir_okay=False), default=None,
              help="With --replay: YAML settings adding fields to ignore when matching (docs/recording.md).")
def serve_command(host: str, port: int, workers: int, replay_source: str | None, replay_strict: bool,
                  replay_timing: bool, replay_require_all: bool, replay_config: str | None, **options: object) -> None:
    """Serve the mock until Ctrl-C."""
    if replay_source is None and (replay_strict or replay_timing or replay_require_all or replay_config):
        click.echo("mockserver: error: --replay-strict, --replay-timing, --replay-require-all and --replay-config "
                   "need --replay DIR|FILE", err=True)
        sys.exit(2)
    try:
        check_workers(workers, options.get("state_path"))  # before the spec loads: the mistake is said at once
        if workers > 1 and replay_source is not None:
            raise ServeError(f"--replay serves from one process: drop --workers {workers}")
        config = build_config(**options)
        warn_defects(config.spec, "mockserver")
        if replay_source is not None:
            replay = load_replay(replay_source, config_path=replay_config, strict=replay_strict, timing=replay_timing)
            sys.exit(serve_replay(config, host, port, replay, require_all=replay_require_all))
        serve(config, host, port, workers=workers)
    except KeyboardInterrupt:
        click.echo("mockserver: stopped", err=True)
    except (*ConfigError, ServeError, RecordingError, SettingsError, WorkerError) as exc:
        click.echo(f"mockserver: error: {exc}", err=True)
        sys.exit(2)


@main.command("record")
@click.option("--upstream", required=True, help="Base URL to record, e.g. https://router.requesty.ai/v1.")
@click.option("--out", "out", default="recordings", show_default=True, type=click.Path(file_okay=False),
              help="Directory for the recording (a new .jsonl file per session).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8081, show_default=True, type=click.IntRange(0, 65535),
              help="Port to bind; 0 picks a free one.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="YAML settings: more headers and JSON paths to redact, fields to ignore when matching.")
def record_command(upstream: str, out: str, host: str, port: int, config_path: str | None) -> None:
    """Record real traffic: a reverse proxy to --upstream writing each exchange, secrets redacted."""
    try:
        record(upstream, out, host, port, config_path)
    except KeyboardInterrupt:
        click.echo("mockserver: stopped", err=True)
    except (ServeError, SettingsError, ValueError) as exc:
        click.echo(f"mockserver: error: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"mockserver: error: cannot write the recording in {out}: {exc.strerror or exc}", err=True)
        sys.exit(2)


@main.command("export-har")
@click.argument("source", type=click.Path())
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False), help="HAR file to write.")
@click.option("--origin", default="http://recorded", show_default=True, help="Scheme and host for the entries' URLs.")
def export_har_command(source: str, out: str, origin: str) -> None:
    """Write a recording (directory or .jsonl file) as HAR 1.2, stream chunks kept in `_chunks`."""
    try:
        count = write_har(read_exchanges(source), out, origin)
    except RecordingError as exc:
        click.echo(f"mockserver: error: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"mockserver: error: cannot write {out}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    click.echo(f"mockserver: {count} exchanges written to {out}", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
