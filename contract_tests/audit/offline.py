"""``contract-tests audit``: a conformance report on recorded traffic, with nothing sent.

The recording (a directory, a ``.jsonl`` file of ``mockserver record``, or a HAR file) is read
through :func:`mockserver.recording.read_exchanges`; each exchange goes to the :class:`Auditor`,
then the audit's events go to the same consumers as a run's (the report files).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from contract_tests.audit.auditor import Auditor
from contract_tests.events import Consumer, Event, deliver
from contract_tests.results import RunResult
from contract_tests.session import UsageError
from contract_tests.traffic import Operations, from_recorded
from mockserver.recording import RecordingError, read_exchanges
from mockserver.recording.format import read_header
from mockserver.spec import LoadedSpec, SpecError, load_spec

UNKNOWN_ORIGIN = "http://recorded.invalid"


@dataclass
class AuditOptions:
    source: str
    spec: str | None = None
    overlays: list[str] | None = None


def load(spec: str | None, overlays: list[str] | None) -> LoadedSpec:
    try:
        return load_spec(spec, overlays)
    except SpecError as exc:
        raise UsageError(str(exc)) from None


def audit(options: AuditOptions, *consumers: Consumer) -> RunResult:
    """Audit a recording, hand every event to each consumer, return the result (:class:`UsageError` if unreadable)."""
    return deliver(audit_events(options), consumers)


def audit_events(options: AuditOptions) -> Iterator[Event]:
    started = time.monotonic()
    spec = load(options.spec, options.overlays)
    auditor = Auditor(spec, credentials_known=False)
    operations = Operations(spec)
    origins: dict[str, str] = {}
    count = 0
    try:
        for recorded in read_exchanges(options.source):
            origin = _origin(recorded, origins)
            seen = from_recorded(recorded, origin, auditor.redactor, operations)
            total = recorded.response.total_ms if recorded.response is not None else None
            auditor.feed(seen, complete=recorded.complete, elapsed=(total or 0.0) / 1000)
            count += 1
    except RecordingError as exc:
        raise UsageError(str(exc)) from None
    notes = [f"audit of recorded traffic: {count} exchanges read from {options.source}; nothing was sent, "
             "so the requests counted are the recorded ones and the spend is none"]
    if auditor.unjudged:
        notes.append(f"{auditor.unjudged} exchanges had no answer or were cut short: not judged")
    notes.append("credentials are redacted in recordings: checks that tie calls to keys are not judged")
    yield from auditor.events(f"recording {options.source}", notes, time.monotonic() - started)


def _origin(recorded, origins: dict[str, str]) -> str:
    """Where the recorded requests went: the recording's upstream (its header), else the request's Host."""
    file = recorded.source.rsplit(":", 1)[0] if ".jsonl:" in recorded.source else ""
    if file:
        if file not in origins:
            try:
                upstream = read_header(file).upstream
                origins[file] = upstream.split("://", 1)[0] + "://" + upstream.split("://", 1)[1].split("/", 1)[0]
            except (RecordingError, OSError, IndexError):
                origins[file] = ""
        if origins[file]:
            return origins[file]
    host = next((v for k, v in recorded.request.headers if k == "host"), None)
    if host:
        return f"http://{host}"
    url = recorded.extra.get("url") if isinstance(recorded.extra, dict) else None
    return str(url) if url else UNKNOWN_ORIGIN


__all__ = ["AuditOptions", "audit", "audit_events"]
