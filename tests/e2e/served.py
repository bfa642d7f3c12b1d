"""OpenAI's published spec served by ``mockserver serve --spec``, with its parsed copy cached in a folder of the test's."""

from __future__ import annotations

import os
from pathlib import Path

from tests import mock_process

ROOT = mock_process.ROOT
OPENAI = ROOT / "tests" / "data" / "openai-openapi.yaml"


def served(spec: Path, cache: Path):
    """:func:`tests.mock_process.served` with ``--spec spec`` and ``MOCKSERVER_CACHE_DIR=cache``."""
    return mock_process.served("--spec", str(spec), env={**os.environ, "MOCKSERVER_CACHE_DIR": str(cache)})
