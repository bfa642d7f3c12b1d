"""The official JavaScript SDKs, installed by npm from tests/e2e/js/package.json on first use (into
tests/e2e/js/node_modules, under a file lock so parallel workers install once), and a runner for the
scripts beside it, each of which prints what it saw as one JSON line."""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

JS = Path(__file__).parent / "js"
PACKAGES = ("openai", "@anthropic-ai/sdk")


def install(directory: Path = JS, packages: Sequence[str] = PACKAGES) -> Path:
    """``directory`` (tests/e2e/js by default) with ``packages`` in its node_modules, from its package.json."""
    assert shutil.which("node") and shutil.which("npm"), "node and npm are needed to install JavaScript packages"
    with (directory / ".npm-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all((directory / "node_modules" / name).is_dir() for name in packages):
            subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=directory,
                           check=True, capture_output=True, timeout=300)
    return directory


def run_script(script: str, *args: str, timeout: float = 120) -> dict[str, Any]:
    """Run ``node tests/e2e/js/<script> args...``; its one JSON line, parsed (the test fails on a non-zero exit)."""
    run = subprocess.run(["node", str(JS / script), *args], capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)
