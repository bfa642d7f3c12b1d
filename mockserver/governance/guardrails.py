"""Guardrails over a request's prompt: find the violations, then report, mask or block them.

The prompt is every string of the request the model reads, on any inference API: ``messages[*].content``
(a string, or parts with ``text``), ``input`` (embeddings, the Responses API), ``prompt``, ``system``,
``instructions``. A violation is its kind, the JSON path of the string and the character span in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mockserver.errors import MockError
from mockserver.governance.detectors import KINDS, Finding, find, mask

ACTIONS = ("disabled", "report", "mask", "block")
PROMPT_KEYS = frozenset({"messages", "content", "input", "prompt", "system", "instructions", "text"})


def _strings(value: Any, path: str, top: bool) -> Iterable[tuple[str, str]]:
    """(path, string) for each prompt string under ``value``."""
    if isinstance(value, str):
        if not top:
            yield path, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]", False)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in PROMPT_KEYS:
                yield from _strings(item, f"{path}.{key}", False)


def scan(body: Any, kinds: Iterable[str] = KINDS) -> list[tuple[str, Finding]]:
    """The violations in ``body``'s prompt strings: (JSON path, finding), in document order."""
    kinds = tuple(kinds)
    return [(path, finding) for path, text in _strings(body, "$", True) for finding in find(text, kinds)]


def masked(body: Any, kinds: Iterable[str] = KINDS) -> Any:
    """A copy of ``body`` with every prompt string's findings masked (the rest shared, not copied)."""
    kinds = tuple(kinds)

    def walk(value: Any, top: bool) -> Any:
        if isinstance(value, str):
            return value if top else mask(value, find(value, kinds))
        if isinstance(value, list):
            return [walk(item, False) for item in value]
        if isinstance(value, dict):
            return {key: walk(item, False) if key in PROMPT_KEYS else item for key, item in value.items()}
        return value

    return walk(body, True)


def records(violations: list[tuple[str, Finding]]) -> list[dict[str, Any]]:
    """What the journal and the usage entry keep of each violation: kind and position, never the value."""
    return [{"kind": f.kind, "path": path, "start": f.start, "end": f.end} for path, f in violations]


def blocked(violations: list[tuple[str, Finding]]) -> MockError:
    kinds = ", ".join(sorted({f.kind for _, f in violations}))
    return MockError(400, f"The request was blocked by a guardrail: the prompt contains {len(violations)} "
                          f"violation(s) of kind {kinds}. Remove them, or ask for the Report or Mask action.",
                     code="guardrail_blocked", param="messages")
