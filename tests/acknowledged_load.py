"""Load that remembers what the mock acknowledged: keys created and chat calls answered, from several threads.

For the ``kill -9`` tests (one process with ``--state``, one of ``--workers 2``): start the load, kill,
stop it, then :meth:`AcknowledgedLoad.check` that every acknowledged key and call is in the state.
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from decimal import Decimal

import httpx

from tests.conftest import ADMIN

CHAT = {"model": "openai/gpt-4o-mini", "max_tokens": 16}


class AcknowledgedLoad:
    def __init__(self, url: str, threads: int = 8, *, keep_alive: bool = True):
        """``keep_alive=False``: a new connection for each request (which any worker may accept)."""
        self.url, self.count = url, threads
        self.keys: dict[str, str] = {}
        self.usage: dict[str, list[dict]] = defaultdict(list)
        self.errors_after_kill: list[str] = []
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.killed = threading.Event()
        self.limits = httpx.Limits() if keep_alive else httpx.Limits(max_keepalive_connections=0)
        self.threads = [threading.Thread(target=self._work, args=(n,)) for n in range(threads)]
        for thread in self.threads:
            thread.start()

    @property
    def calls(self) -> int:
        return sum(len(v) for v in self.usage.values())

    def _work(self, n: int) -> None:
        rng = random.Random(n)
        i = 0
        with httpx.Client(base_url=self.url, timeout=10, limits=self.limits) as http:
            while not self.stopped.is_set():
                i += 1
                try:
                    if i % 4 == 1 or not self.keys:
                        key = http.post("/api-keys", json={"name": f"w{n}-{i}"}, headers=ADMIN)
                        if key.status_code == 200:
                            with self.lock:
                                self.keys[key.json()["id"]] = key.json()["key"]
                    else:
                        with self.lock:
                            key_id, secret = rng.choice(list(self.keys.items()))
                        answer = http.post("/chat/completions", headers={"Authorization": f"Bearer {secret}"},
                                           json={**CHAT, "messages": [{"role": "user", "content": f"call {n} {i}"}]})
                        if answer.status_code == 200:
                            with self.lock:
                                self.usage[key_id].append(answer.json()["usage"])
                except httpx.TransportError as exc:  # the killed process's connections break
                    if self.killed.is_set() and not self.stopped.is_set():
                        self.errors_after_kill.append(type(exc).__name__)

    def stop(self) -> None:
        self.stopped.set()
        for thread in self.threads:
            thread.join(timeout=20)

    def check(self, url: str) -> None:
        """Every acknowledged key exists and authenticates; every acknowledged call is counted (and at most
        the calls in flight at the kill, one per thread, are counted without their answer)."""
        with httpx.Client(base_url=url, headers=ADMIN, timeout=10) as admin:
            listed = {k["id"] for k in admin.get("/api-keys").json()["data"]}
            assert set(self.keys) <= listed
            for key_id, secret in self.keys.items():
                assert admin.get("/models", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
                report = admin.get(f"/api-keys/{key_id}/usage").json()
                seen = self.usage.get(key_id, [])
                assert len(seen) <= report["total_requests"] <= len(seen) + self.count
                assert exact(report["total_cost"]) >= sum((exact(u["cost"]) for u in seen), Decimal(0))
            org = admin.get("/organization/usage").json()
            assert self.calls <= org["total_requests"] <= self.calls + self.count


def exact(amount: float) -> Decimal:
    return Decimal(repr(amount))
