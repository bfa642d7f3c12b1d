"""Whether a semantic check applies to the spec under test, and if not, why (the report says it).

A check is filed under one operation; a spec that does not document that operation (OpenAI's own
file has no ``/api-keys``) leaves nothing for the check to hold the target to. A check whose claim
rests on an addition of the overlay (``basis="overlay"``: Requesty's extensions, its reasoning
values) has nothing to rest on when the spec is run without an overlay.
"""

from __future__ import annotations

from mockserver.spec import LoadedSpec

NOT_IN_SPEC = "not documented by the spec under test"
NO_OVERLAY = "rests on an overlay addition; the spec under test is run without an overlay"


def documented(spec: LoadedSpec) -> set[str]:
    """The spec's operations as ``METHOD /path`` labels, the form checks are filed under."""
    return {f"{op.method} {op.path}" for op in spec.operations}


EVERY = "*"  # the operation of checks filed under every operation


def not_applicable(operation: str, basis: str, operations: set[str], overlaid: bool,
                   needs: tuple[str, ...] = ()) -> str | None:
    """Why a check filed under ``operation`` on ``basis`` (calling ``needs`` too) cannot hold the target to the spec
    under test (whose operations are ``operations``); None when it can."""
    for wanted in (operation, *needs):
        if wanted != EVERY and wanted not in operations:
            return f"{NOT_IN_SPEC}: {wanted}"
    if basis == "overlay" and not overlaid:
        return NO_OVERLAY
    return None
