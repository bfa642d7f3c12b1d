"""Identifiers of answers (``chatcmpl-…``, ``resp_…``, ``msg_…``): unique, cheap, not secret.

Drawn from one generator seeded from the OS at import and again in every forked child (so two
workers never share a sequence): no system call per answer, where ``os.urandom`` made one.
"""

from __future__ import annotations

import os
import random

_rng = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _rng.seed(os.urandom(32)))


def new_id(prefix: str, nbytes: int) -> str:
    """``prefix`` and ``nbytes`` random bytes in lower-case hex (``2 * nbytes`` digits)."""
    return prefix + _rng.getrandbits(8 * nbytes).to_bytes(nbytes).hex()
