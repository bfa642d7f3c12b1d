"""System programs the tests need, installed from Debian's packages with apt-get on first use (CI runs as root
on a fresh machine). One file lock for every install: two test workers never run apt-get at once (dpkg holds
one lock for the whole system)."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

LOCK = Path(tempfile.gettempdir()) / "llm-gateway-contracts-apt.lock"


def installed(programs: Sequence[str], package: str, *, recommends: bool = False) -> str:
    """The path of the first of ``programs`` on PATH, installing ``package`` first when none is; a RuntimeError
    with apt-get's last words when that fails."""
    if found := _which(programs):
        return found
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if found := _which(programs):  # another worker installed it while this one waited
            return found
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", *([] if recommends else ["--no-install-recommends"]), package]
        for command in (["apt-get", "update", "-q"], install):
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    if found := _which(programs):
        return found
    raise RuntimeError(f"apt-get installed {package}, but none of {', '.join(programs)} is on PATH")


def _which(programs: Sequence[str]) -> str | None:
    return next((found for name in programs if (found := shutil.which(name))), None)
