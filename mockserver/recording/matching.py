"""When a request is "the same" as a recorded one: method, path, query and a normalised body.

The body, when it is JSON, is compared without the ignored fields (JSON paths such as ``$.user``)
and without regard to key order; any other body is compared byte for byte. The query's pairs are
compared sorted.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jsonpath
import orjson

from mockserver.recording.format import RecordedExchange

Key = tuple[str, str, str, bytes]
_NOT_JSON = object()


class Matcher:
    def __init__(self, ignore_paths: Iterable[str]):
        self.ignore = [jsonpath.compile(path) for path in ignore_paths]

    def key(self, method: str, path: str, query: str, body: bytes) -> Key:
        return method.upper(), path, normal_query(query), self.normal_body(body)

    def key_of(self, exchange: RecordedExchange) -> Key:
        request = exchange.request
        return self.key(request.method, request.path, request.query, request.body)

    def document(self, body: bytes) -> Any:
        """The body as JSON without the ignored fields; ``_NOT_JSON`` when it is not JSON."""
        if not body.strip():
            return None
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _NOT_JSON
        for path in self.ignore:
            for match in sorted(path.finditer(document), key=lambda m: m.parts, reverse=True):
                _delete(document, match.parts)
        return document

    def normal_body(self, body: bytes) -> bytes:
        document = self.document(body)
        if document is _NOT_JSON:
            return body
        return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def normal_query(query: str) -> str:
    return urlencode(sorted(parse_qsl(query, keep_blank_values=True))) if query else ""


def closest(matcher: Matcher, key: Key, body: bytes, recordings: list[RecordedExchange]) -> str:
    """Which recording comes nearest to a request, and how it differs: one sentence for the 404."""
    method, path, query, _ = key
    same_path = [r for r in recordings if r.request.path == path]
    same_call = [r for r in same_path if r.request.method == method]
    if same_call:
        document = matcher.document(body)
        scored = []
        for recording in same_call:
            differences = _differences(document, matcher.document(recording.request.body), "$")
            if normal_query(recording.request.query) != query:
                differences.insert(0, "the query")
            scored.append((len(differences), differences, recording))
        count, differences, best = min(scored, key=lambda item: item[0])
        where = ", ".join(differences[:3]) + (f" and {count - 3} more" if count > 3 else "")
        return f"the closest is {_name(best)}, which differs at {where or 'nothing matched (ignored fields only)'}"
    if same_path:
        return f"the closest is {_name(same_path[0])} (another method)"
    names = {f"{r.request.method} {r.request.path}": r for r in recordings}
    near = difflib.get_close_matches(f"{method} {path}", list(names), n=1, cutoff=0.0)
    return f"the closest is {_name(names[near[0]])}" if near else "the recording is empty"


def _name(recording: RecordedExchange) -> str:
    return f"{recording.source} ({recording.request.method} {recording.request.path}, id {recording.id})"


def _differences(a: Any, b: Any, where: str) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for name in sorted(set(a) | set(b)):
            if name not in a or name not in b:
                found.append(f"{where}.{name}")
            else:
                found += _differences(a[name], b[name], f"{where}.{name}")
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for index, (x, y) in enumerate(zip(a, b, strict=True)) for d in _differences(x, y, f"{where}[{index}]")]
    return [] if a == b else [where if where != "$" else "the body"]


def _delete(document: Any, parts: tuple[Any, ...]) -> None:
    if not parts:
        return
    node = document
    for part in parts[:-1]:
        node = node[part]
    del node[parts[-1]]
