"""JSON, for machines: the result model as it is, under the report format's version."""

from __future__ import annotations

import json

from contract_tests.results import RunResult

# 2: layers named "schema" and "semantic" (1: the numbers 1 and 2), and this field.
FORMAT_VERSION = 2


def render(result: RunResult) -> str:
    return json.dumps({"format_version": FORMAT_VERSION, **result.as_dict()}, indent=2, sort_keys=False,
                      default=str) + "\n"
