"""Recording real traffic and replaying it: ``mockserver record`` and ``mockserver serve --replay``.

- :mod:`~mockserver.recording.format`: the on-disk format (JSON lines) and its reader,
  :func:`read_exchanges`, a plain function any consumer can use (the replayer, an offline audit);
- :mod:`~mockserver.recording.har`: HAR 1.2 export, and HAR input for replay;
- :mod:`~mockserver.recording.settings`: what to redact and what to ignore when matching;
- :mod:`~mockserver.recording.redaction`: secrets out before anything touches disk;
- :mod:`~mockserver.recording.proxy`: the recording reverse proxy;
- :mod:`~mockserver.recording.matching` and :mod:`~mockserver.recording.replay`: answering recorded exchanges.

``docs/recording.md`` describes the format field by field.
"""

from mockserver.recording.format import (
    Chunk,
    RecordedExchange,
    RecordedRequest,
    RecordedResponse,
    RecordingError,
    read_exchanges,
)

__all__ = ["Chunk", "RecordedExchange", "RecordedRequest", "RecordedResponse", "RecordingError", "read_exchanges"]
