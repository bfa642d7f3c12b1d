"""JSON, for machines: the result model as it is."""

from __future__ import annotations

import json

from contract_tests.results import RunResult


def render(result: RunResult) -> str:
    return json.dumps(result.as_dict(), indent=2, sort_keys=False, default=str) + "\n"
