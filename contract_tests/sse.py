"""Server-sent events, read strictly: what a chat stream is made of."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class Event:
    data: str
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def is_done(self) -> bool:
        return self.data.strip() == "[DONE]"

    def json(self) -> object:
        return json.loads(self.data)


def parse(text: str) -> tuple[list[Event], list[str]]:
    """The events of ``text`` and the grammar problems met (lines that are neither fields nor comments)."""
    events: list[Event] = []
    problems: list[str] = []
    data: list[str] = []
    fields: dict[str, str] = {}
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        if line == "":
            if data or fields:
                events.append(Event("\n".join(data), fields))
            data, fields = [], {}
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if not colon:
            problems.append(f"line {number} is not a field: {line[:80]!r}")
            continue
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        else:
            fields[name] = value
    if data or fields:
        events.append(Event("\n".join(data), fields))
    return events, problems


def chunks(text: str) -> list[dict]:
    """The JSON chunks of a stream (every data event but ``[DONE]``); invalid JSON is skipped."""
    out = []
    for event in parse(text)[0]:
        if event.is_done:
            continue
        try:
            value = event.json()
        except ValueError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


def content(text: str) -> str:
    return "".join((choice.get("delta") or {}).get("content") or ""
                   for chunk in chunks(text) for choice in chunk.get("choices") or [] if isinstance(choice, dict))


def typed(text: str) -> list[tuple[str | None, dict]]:
    """The events of a typed stream (the Responses and Messages grammars): the ``event:`` name and the JSON."""
    out: list[tuple[str | None, dict]] = []
    for event in parse(text)[0]:
        if event.is_done or not event.data:
            continue
        try:
            value = event.json()
        except ValueError:
            value = {"type": None, "unreadable": event.data[:120]}
        out.append((event.fields.get("event"), value if isinstance(value, dict) else {"type": None}))
    return out
