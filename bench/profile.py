"""Profile the mock under load with py-spy: what its hot path spends time on, in percent of samples.

``python -m bench profile [--quick]``: starts the mock (``mockserver serve`` settings), drives
``GET /v1/models`` and the non-stream chat POST with the bench's load generator, samples the
server process with ``py-spy record --format raw`` (install it with ``pip install -e '.[bench]'``),
and prints, per request kind, the functions with the most inclusive and self time.
"""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from bench import load, servers
from bench.measure import JSON, chat_body

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*)\)$")


def frame_name(frame: str) -> str:
    """``endpoint (/…/mockserver/app.py)`` -> ``mockserver/app.py:endpoint``."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match.group("file")
    for marker in ("site-packages/", "/lib/python3.11/", "/work/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    for prefix in ("issue6-bench/",):
        path = path.removeprefix(prefix)
    return f"{path}:{match.group('func')}"


def summarise(raw: str) -> tuple[int, collections.Counter, collections.Counter]:
    """Total samples, inclusive and self sample counts per function, from py-spy's collapsed stacks."""
    inclusive: collections.Counter = collections.Counter()
    own: collections.Counter = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [frame_name(f) for f in stack.split(";")]
        n = int(count)
        total += n
        for name in set(frames):
            inclusive[name] += n
        own[frames[-1]] += n
    return total, inclusive, own


def render(title: str, total: int, inclusive: collections.Counter, own: collections.Counter, top: int = 20) -> str:
    lines = [f"## {title}: {total} samples", "", "| inclusive % | self % | function |", "|---|---|---|"]
    for name, count in inclusive.most_common():
        if len(lines) >= top + 4:
            break
        if count > 0.95 * total:  # the server's outer frames: everything runs inside them
            continue
        lines.append(f"| {100 * count / total:.1f} | {100 * own[name] / total:.1f} | `{name}` |")
    lines += ["", "| inclusive % | mockserver function |", "|---|---|"]
    ours = [(name, count) for name, count in inclusive.most_common() if name.startswith("mockserver/")]
    lines += [f"| {100 * count / total:.1f} | `{name}` |" for name, count in ours[:top] if count < 0.95 * total]
    lines += ["", "| self % | function (leaf) |", "|---|---|"]
    lines += [f"| {100 * count / total:.1f} | `{name}` |" for name, count in own.most_common(top)]
    return "\n".join(lines)


def profile_load(server: servers.Server, spec: load.Load, py_spy: str, wrk: str | None) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "profile.txt"
        driver = threading.Thread(target=load.run, args=(spec, wrk), daemon=True)
        driver.start()
        done = subprocess.run([py_spy, "record", "-p", str(server.proc.pid), "-d", str(max(1, int(spec.seconds) - 2)),
                               "-r", "250", "--nolineno", "-f", "raw", "-o", str(out)],
                              capture_output=True, text=True, timeout=spec.seconds + 60)
        driver.join(timeout=spec.seconds + 60)
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"py-spy failed: {(done.stderr or done.stdout).strip()[-300:]}")
        return out.read_text()


def main(quick: bool = False) -> None:
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        sys.exit("py-spy is not installed: pip install -e '.[bench]'")
    wrk = load.ensure_wrk()
    seconds = 4 if quick else 12
    with servers.running(servers.mock_with("auto", "auto")) as server:
        for title, spec in (
            ("GET /v1/models", load.Load("GET", server.base + "/models", dict(servers.AUTH), seconds=seconds)),
            ("chat, non-stream POST", load.Load("POST", server.base + "/chat/completions", JSON, chat_body(),
                                                seconds=seconds)),
        ):
            print(render(title, *summarise(profile_load(server, spec, py_spy, wrk))) + "\n", flush=True)
