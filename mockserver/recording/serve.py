"""``mockserver serve --replay``: the mock with the replay in front of its handlers, and the coverage at exit."""

from __future__ import annotations

import sys
from collections.abc import Callable

from mockserver.app import MockApp, create_app
from mockserver.config import MockConfig
from mockserver.edge import RESERVED_PREFIX
from mockserver.handlers import Handlers
from mockserver.handlers.table import BUILTIN
from mockserver.recording.replay import Replay, coverage_lines, replay_routes, replaying
from mockserver.server import serve
from mockserver.state import MockState


def replay_app(config: MockConfig, replay: Replay, handlers: Handlers = BUILTIN) -> MockApp:
    """The mock answering from ``replay`` first, ``handlers`` otherwise; ``GET /__mock/replay`` gives the coverage."""
    state = MockState(config)
    return create_app(config, state, replaying(handlers, replay, config.spec),
                      own_routes=replay_routes(RESERVED_PREFIX, replay, state))


def serve_replay(config: MockConfig, host: str, port: int, replay: Replay, *, require_all: bool = False,
                 announce: Callable[[str], None] | None = None) -> int:
    """Serve until Ctrl-C, then print the coverage; the exit code is 1 when ``require_all`` and a recording went unused."""
    say = announce or (lambda line: print(line, file=sys.stdout, flush=True))
    replaying_line = (f"  replaying: {len(replay.recordings)} recorded exchanges from {replay.source}"
                      f"{' (strict)' if replay.strict else ''}{' with their timing' if replay.timing else ''}"
                      f"; coverage: GET {RESERVED_PREFIX}/replay")

    def lines(line: str) -> None:  # the replay's line among the start-up lines, before "Ctrl-C to stop"
        if line.strip().startswith("Ctrl-C"):
            say(replaying_line)
        say(line)

    try:
        serve(config, host, port, announce=lines, app=replay_app(config, replay))
    except KeyboardInterrupt:
        pass
    coverage = replay.coverage()
    for line in coverage_lines(coverage):
        print(line, file=sys.stderr, flush=True)
    if require_all and coverage["unused"]:
        print(f"mockserver: error: {len(coverage['unused'])} recordings were never used (--replay-require-all)",
              file=sys.stderr, flush=True)
        return 1
    return 0
