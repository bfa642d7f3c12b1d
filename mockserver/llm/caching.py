"""Prompt caching: which part of a prompt a provider would read from (or write to) its cache.

The rule (documented in docs/routing.md): the cacheable prefix of a chat request is its messages
before the last user message (the system prompt and the conversation so far). It is cached when the
model supports caching and either the request asks (``requesty.auto_cache: true``) or the model
caches by itself (catalog ``auto_caching``). Its tokens (each message's, as
:func:`mockserver.llm.tokens.count_message` counts them) are:

- a cache **write** (``prompt_tokens_details.caching_tokens``, billed at ``caching_price``) the first
  time this key sends this prefix to this model;
- a cache **read** (``prompt_tokens_details.cached_tokens``, billed at ``cached_price``) every later time.

Each key's cache holds the SHA-256 of the last :data:`ENTRIES_PER_KEY` prefixes it used (least
recently used goes first), and the cache holds :data:`KEYS` keys, so it stays bounded.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import orjson

from mockserver.llm import tokens
from mockserver.llm.catalog import ModelInfo

ENTRIES_PER_KEY = 1024
KEYS = 4096


class CacheUse(NamedTuple):
    cached_tokens: int = 0  # read from the cache
    caching_tokens: int = 0  # written to the cache


NO_CACHE = CacheUse()


def prefix(messages: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    """The messages before the last user message (all of them but none when there is no user message)."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].get("role") == "user":
            return messages[:index]
    return ()


class PromptCache:
    """Per key, the prefixes seen lately; safe to use from several threads."""

    def __init__(self, entries_per_key: int = ENTRIES_PER_KEY, keys: int = KEYS):
        self.entries_per_key = entries_per_key
        self.keys = keys
        self._lock = threading.Lock()
        self._by_key: OrderedDict[str, OrderedDict[bytes, None]] = OrderedDict()

    def seen(self, key_id: str, digest: bytes) -> bool:
        """Whether ``key_id`` used ``digest`` lately (it counts as used now when it did)."""
        with self._lock:
            entries = self._by_key.get(key_id)
            if entries is None or digest not in entries:
                return False
            self._by_key.move_to_end(key_id)
            entries.move_to_end(digest)
            return True

    def remember(self, key_id: str, digest: bytes | None) -> None:
        """``key_id`` used ``digest`` (a call that was answered wrote it to the cache)."""
        if digest is None:
            return
        with self._lock:
            entries = self._by_key.get(key_id)
            if entries is None:
                entries = self._by_key[key_id] = OrderedDict()
                if len(self._by_key) > self.keys:
                    self._by_key.popitem(last=False)
            else:
                self._by_key.move_to_end(key_id)
            entries[digest] = None
            entries.move_to_end(digest)
            if len(entries) > self.entries_per_key:
                entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._by_key.clear()

    def look(self, key_id: str, model: ModelInfo, messages: Sequence[Mapping[str, Any]],
             asked: bool) -> tuple[CacheUse, bytes | None]:
        """The cache reads or writes of a request (see the module doc), and the digest to :meth:`remember`
        once the call is answered (None when nothing is cached), so a refused call caches nothing."""
        if not model.supports_caching or not (asked or model.auto_caching):
            return NO_CACHE, None
        head = prefix(messages)
        if not head:
            return NO_CACHE, None
        count = 0
        for message in head:
            count += tokens.count_message(message)
        digest = hashlib.sha256(model.id.encode() + b"\0" + orjson.dumps(head, option=orjson.OPT_SORT_KEYS)).digest()
        return (CacheUse(count, 0) if self.seen(key_id, digest) else CacheUse(0, count)), digest

    def use(self, key_id: str, model: ModelInfo, messages: Sequence[Mapping[str, Any]], asked: bool) -> CacheUse:
        """:meth:`look` and :meth:`remember` at once."""
        found, digest = self.look(key_id, model, messages, asked)
        self.remember(key_id, digest)
        return found
