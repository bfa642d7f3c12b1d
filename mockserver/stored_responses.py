"""Stored Responses API answers: what ``GET /v1/responses/{id}`` reads and ``previous_response_id`` continues.

Bounded: the oldest is forgotten once :data:`DEFAULT_SIZE` are kept (a mock must not grow without end).
A response is visible to the key that created it and to the admin key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from mockserver.auth import Principal

DEFAULT_SIZE = 1000


class StoredResponse(NamedTuple):
    owner: str  # the key id that created it
    body: Mapping[str, Any]  # the response object
    conversation: Sequence[Mapping[str, Any]]  # its chat messages, answer included, without instructions


class ResponseStore:
    def __init__(self, size: int = DEFAULT_SIZE):
        self.size = size
        self._items: OrderedDict[str, StoredResponse] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, principal: Principal | None, body: Mapping[str, Any],
            conversation: Sequence[Mapping[str, Any]]) -> None:
        owner = principal.key_id if principal is not None else ""
        with self._lock:
            self._items[body["id"]] = StoredResponse(owner, body, conversation)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get(self, response_id: str, principal: Principal | None) -> StoredResponse | None:
        """The stored response when ``principal`` may see it, else None."""
        stored = self._items.get(response_id)
        if stored is None or not (principal is None or principal.is_admin or principal.key_id == stored.owner):
            return None
        return stored

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
