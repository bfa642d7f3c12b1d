"""The suite's schemathesis.toml (contract_tests/data), with a test's own settings on top."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import schemathesis

FILE = Path(__file__).resolve().parents[1] / "contract_tests" / "data" / "schemathesis.toml"


def schemathesis_config(**settings: Any) -> schemathesis.Config:
    """``settings`` (top-level keys of the config file, as dicts) replace the file's keys of the same name."""
    data = tomllib.loads(FILE.read_text())
    data.update(settings)
    return schemathesis.Config.from_dict(data)
