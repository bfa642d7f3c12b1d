"""``mockserver record``: the recording proxy under uvicorn, until Ctrl-C."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import uvicorn

from mockserver.handlers.table import BUILTIN
from mockserver.recording.format import Header
from mockserver.recording.operations import Operations
from mockserver.recording.proxy import Recorder, Upstream
from mockserver.recording.redaction import Redactor
from mockserver.recording.settings import load_settings
from mockserver.recording.writer import RecordingWriter, utc_now
from mockserver.server import bind, origin, proxy_config
from mockserver.spec import load_spec


def build_recorder(upstream_url: str, out: str | Path, config_path: str | None = None) -> Recorder:
    """The proxy for ``upstream_url``, writing a new recording file in ``out``.

    Raises ValueError (a bad URL), SettingsError (a bad --config), OSError (``out`` not writable).
    """
    upstream = Upstream.parse(upstream_url)
    settings = load_settings(config_path)
    writer = RecordingWriter(out, Header(upstream_url, utc_now(), settings.redaction_json(), settings.match_json()))
    operations = Operations(load_spec(), BUILTIN, settings.management_path_prefixes)
    return Recorder(upstream, writer, Redactor(settings), operations)


def record(upstream_url: str, out: str | Path, host: str, port: int, config_path: str | None = None,
           announce: Callable[[str], None] | None = None) -> Recorder:
    """Serve the proxy until interrupted (the socket bound first: a busy port is one clear line). Returns the recorder."""
    say = announce or (lambda line: print(line, file=sys.stdout, flush=True))
    sock = bind(host, port)
    try:
        recorder = build_recorder(upstream_url, out, config_path)
    except BaseException:
        sock.close()
        raise
    say(f"mockserver: recording {upstream_url}")
    say(f"  base URL:  {origin(host, sock.getsockname()[1])}{recorder.upstream.base_path}")
    say(f"  writing:   {recorder.writer.path}")
    say("  Ctrl-C to stop")
    server = uvicorn.Server(proxy_config(recorder))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        recorder.writer.close()
        print(f"mockserver: {recorder.writer.count} exchanges written to {recorder.writer.path}", file=sys.stderr,
              flush=True)
    return recorder
