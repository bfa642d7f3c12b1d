"""Per-request fault directives, read from request headers.

- ``Prefer: code=429`` / ``example=NAME`` / ``dynamic=true`` (Prism's syntax, comma-separated)
- ``X-Mock-Latency-Ms: 250`` extra latency before the answer
- ``X-Mock-Stream-Fault: KIND[; after=N][; seconds=S]`` a stream fault after N events

A bad value is a :class:`~mockserver.errors.MockError` 400 whose ``param`` names the header.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mockserver.errors import MockError
from mockserver.faults.scenario import DEFAULT_AFTER, DEFAULT_STALL_S, STREAM_FAULTS, StreamFault

if TYPE_CHECKING:
    from mockserver.spec.model import Operation

PREFER = b"prefer"
LATENCY = b"x-mock-latency-ms"
STREAM_FAULT = b"x-mock-stream-fault"
NAMES = frozenset({PREFER, LATENCY, STREAM_FAULT})
DIRECTIVE_NAMES = frozenset(name.decode() for name in NAMES)
MAX_LATENCY_MS = 600_000
MAX_STALL_S = 3600.0


@dataclass(frozen=True, slots=True)
class Directives:
    code: int | None = None
    example: str | None = None
    dynamic: bool = False
    latency_ms: float | None = None
    stream_fault: StreamFault | None = None


def read_directives(raw_headers: list[tuple[bytes, bytes]]) -> Directives | None:
    """The directives among ASGI ``raw_headers``, None when there are none (the common case).

    Repeated headers are joined, as RFC 9110 allows; a bad value is a 400 naming the header.
    """
    found: dict[bytes, str] = {}
    for name, value in raw_headers:
        if name in NAMES:
            text = value.decode("latin-1").strip()
            found[name] = f"{found[name]}, {text}" if name in found else text
    if not found:
        return None
    code = example = None
    dynamic = False
    if PREFER in found:
        code, example, dynamic = _prefer(found[PREFER])
    latency = _number(found[LATENCY], "X-Mock-Latency-Ms", 0, MAX_LATENCY_MS) if LATENCY in found else None
    fault = _stream_fault(found[STREAM_FAULT]) if STREAM_FAULT in found else None
    if code is None and example is None and not dynamic and latency is None and fault is None:
        return None
    return Directives(code, example, dynamic, latency, fault)


def documented_status(responses: Mapping[str, object], code: int) -> str | None:
    """The one rule for ``Prefer: code=N``: the response documented as ``N``, else as its range (``4XX``)."""
    exact = str(code)
    if exact in responses:
        return exact
    family = f"{exact[0]}XX"
    return family if family in responses else None


def check_code(operation: Operation, directives: Directives) -> None:
    """A 400 when the directives ask for a status the operation does not document."""
    if directives.code is not None and documented_status(operation.responses, directives.code) is None:
        raise _bad("Prefer", f"code={directives.code} is not a documented response of {operation.operation_id} "
                             f"(documented: {', '.join(sorted(operation.responses))}).")


def _bad(header: str, message: str) -> MockError:
    return MockError(400, f"Invalid {header} header: {message}", code="invalid_mock_header", param=header)


def _prefer(value: str) -> tuple[int | None, str | None, bool]:
    code = example = None
    dynamic = False
    for part in filter(None, (p.strip() for p in value.replace(";", ",").split(","))):
        key, eq, arg = (s.strip() for s in part.partition("="))
        arg = arg.strip('"')
        key = key.lower()
        if key == "code":
            if not (eq and arg.isdigit() and 100 <= int(arg) <= 599):
                raise _bad("Prefer", f"code={arg!r} is not an HTTP status (100-599).")
            code = int(arg)
        elif key == "example":
            if not arg:
                raise _bad("Prefer", "example= needs the name of a documented example.")
            example = arg
        elif key == "dynamic":
            if arg.lower() not in ("true", "false"):
                raise _bad("Prefer", f"dynamic={arg!r} must be true or false.")
            dynamic = arg.lower() == "true"
        # other preferences (return=minimal, respond-async, wait=...) are not ours: RFC 7240 says ignore them
    return code, example, dynamic


def _number(text: str, header: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _bad(header, f"{text!r} is not a number.") from None
    if not low <= value <= high:  # also refuses NaN
        raise _bad(header, f"{text} is outside {low:g}..{high:g}.")
    return value


def _stream_fault(value: str) -> StreamFault:
    header = "X-Mock-Stream-Fault"
    kind, *params = (p.strip() for p in value.split(";"))
    kind = kind.lower()
    if kind not in STREAM_FAULTS:
        raise _bad(header, f"{kind!r} is not one of {', '.join(STREAM_FAULTS)}.")
    after, seconds = DEFAULT_AFTER, DEFAULT_STALL_S
    for param in filter(None, params):
        key, _, arg = (s.strip() for s in param.partition("="))
        if key == "after":
            if not arg.isdigit():
                raise _bad(header, f"after={arg!r} must be a whole number of events.")
            after = int(arg)
        elif key == "seconds" and kind == "stall":
            seconds = _number(arg, header, 0.001, MAX_STALL_S)
        else:
            allowed = "after=N, seconds=S" if kind == "stall" else "after=N"
            raise _bad(header, f"unknown parameter {key!r} for {kind}; use {allowed}.")
    return StreamFault(kind, after=after, seconds=seconds)
