"""Append exchanges to a recording file, one line each, flushed: a crash loses at most the exchange in flight."""

from __future__ import annotations

import os
import time
from pathlib import Path

from mockserver.recording.format import SUFFIX, Header, RecordedExchange, dump_line, exchange_json


def utc_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


class RecordingWriter:
    def __init__(self, directory: str | Path, header: Header):
        """A new file in ``directory`` (made when missing), readable by its owner only; its header written."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        self.path = folder / f"recording-{stamp}-{os.getpid()}{SUFFIX}"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        self._file = os.fdopen(fd, "ab")
        self.count = 0
        self._file.write(dump_line(header.as_dict()))
        self._file.flush()

    def write(self, exchange: RecordedExchange) -> None:
        self._file.write(dump_line(exchange_json(exchange)))
        self._file.flush()
        self.count += 1

    def close(self) -> None:
        self._file.close()
