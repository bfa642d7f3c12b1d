"""``mockserver serve --workers 2`` on SQLite and on Redis: one state for both workers, under load and kill -9.

Redis is Debian's redis-server (apt-get on first use), on a free loopback port, with ``appendonly yes``
and ``appendfsync always``; the tests start and stop it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import threading
import time
from collections import defaultdict
from decimal import Decimal

import httpx
import openai
import pytest
from click.testing import CliRunner

from mockserver.cli import main
from tests import mock_process
from tests.acknowledged_load import AcknowledgedLoad, exact
from tests.conftest import ADMIN

BACKENDS = pytest.mark.parametrize("state_url", ["sqlite", "redis"], indirect=True)
CHAT_MODEL = "openai/gpt-4o-mini"
IN_FLIGHT = 24  # calls in flight at once, over both workers


def workers(state_url: str, count: int = 2):
    return mock_process.served("--workers", str(count), "--state", state_url, stop_timeout=20)


def journal(url: str, limit: int = 1000) -> list[dict]:
    return httpx.get(f"{url.rsplit('/v1', 1)[0]}/__mock/journal?limit={limit}", headers=ADMIN).json()["data"]


@BACKENDS
def test_two_workers_serve_one_state_under_200_concurrent_sdk_calls(state_url):
    with workers(state_url) as (proc, url):
        # No kept-alive connections: each management call is a new connection, which either worker may take.
        admin = httpx.Client(base_url=url, headers=ADMIN, timeout=30, limits=httpx.Limits(max_keepalive_connections=0))
        keys = [admin.post("/api-keys", json={"name": f"k{i}"}).json() for i in range(5)]
        # One key with a limit that ~12 of its ~40 calls reach: the rest must be refused, by both workers.
        admin.patch(f"/api-keys/{keys[0]['id']}/limit", json={"limit": 0.00004})
        acknowledged: dict[str, list[dict]] = defaultdict(list)
        temporary: set[str] = set()  # the ids of the keys made for one call and deleted
        refused: dict[str, int] = defaultdict(int)
        max_cost = Decimal(0)

        async def call(i: int, gate: asyncio.Semaphore) -> None:
            nonlocal max_cost
            key = keys[i % 5]
            client = openai.AsyncOpenAI(base_url=url, api_key=key["key"], max_retries=0)
            async with gate:
                try:
                    kind = i % 4
                    if kind == 0:
                        answer = await client.chat.completions.create(
                            model=CHAT_MODEL, messages=[{"role": "user", "content": f"call {i} " * (i % 7 + 1)}],
                            max_tokens=16)
                        got = answer.usage.model_dump()
                    elif kind == 1:
                        stream = await client.chat.completions.create(
                            model=CHAT_MODEL, messages=[{"role": "user", "content": f"stream {i}"}], max_tokens=16,
                            stream=True, stream_options={"include_usage": True})
                        got = None
                        async for chunk in stream:
                            if chunk.usage is not None:
                                got = chunk.usage.model_dump()
                        assert got is not None
                    elif kind == 2:
                        answer = await client.embeddings.create(model="openai/text-embedding-3-small", input=f"text {i}")
                        got = answer.usage.model_dump()
                    else:  # a key made for this call, used once, deleted: whichever workers serve each step
                        made = await asyncio.to_thread(admin.post, "/api-keys", json={"name": f"tmp{i}"})
                        tmp = made.json()
                        own = openai.AsyncOpenAI(base_url=url, api_key=tmp["key"], max_retries=0)
                        answer = await own.chat.completions.create(
                            model=CHAT_MODEL, messages=[{"role": "user", "content": "once"}], max_tokens=8)
                        temporary.add(tmp["id"])
                        acknowledged[tmp["id"]].append(answer.usage.model_dump())
                        assert (await asyncio.to_thread(admin.delete, f"/api-keys/{tmp['id']}")).status_code == 200
                        for _ in range(3):  # refused at once, by every worker
                            with pytest.raises(openai.AuthenticationError):
                                await own.models.list()
                        await own.close()
                        got = None
                    if got is not None:
                        acknowledged[key["id"]].append(got)
                        max_cost = max(max_cost, exact(got.get("cost") or 0))
                except openai.APIStatusError as exc:
                    assert exc.status_code == 402 and key is keys[0], (exc.status_code, exc.message)
                    refused[key["id"]] += 1
                finally:
                    await client.close()

        async def load() -> None:
            gate = asyncio.Semaphore(IN_FLIGHT)
            await asyncio.gather(*(call(i, gate) for i in range(200)))

        asyncio.run(load())
        served_by = {e["worker"] for e in journal(url)}
        assert len(served_by) == 2, served_by
        by_kind = defaultdict(set)
        for entry in journal(url):
            by_kind[entry["operation"]].add(entry["worker"])
        assert all(len(by_kind[op]) == 2 for op in ("createChatCompletion", "createApiKey", "deleteApiKey")), by_kind

        total_requests, total_cost, total_tokens = 0, Decimal(0), 0
        for key_id, seen in acknowledged.items():
            report = admin.get(f"/api-keys/{key_id}/usage").json() if key_id not in temporary else None  # deleted
            cost = sum((exact(u.get("cost") or 0) for u in seen), Decimal(0))
            tokens = sum(u["total_tokens"] for u in seen)
            total_requests, total_cost, total_tokens = total_requests + len(seen), total_cost + cost, total_tokens + tokens
            if report is not None:
                assert (report["total_requests"], exact(report["total_cost"]), report["total_tokens"]) == \
                    (len(seen), cost, tokens), key_id
        org = admin.get("/organization/usage").json()
        assert (org["total_requests"], exact(org["total_cost"]), org["total_tokens"]) == \
            (total_requests, total_cost, total_tokens)
        # The limit: reached and enforced across both workers; overshot by at most the calls in flight.
        limited = admin.get(f"/api-keys/{keys[0]['id']}/usage").json()
        assert refused[keys[0]["id"]] > 0
        assert exact(limited["total_cost"]) <= Decimal("0.00004") + IN_FLIGHT * max_cost
        admin.close()


@BACKENDS
def test_kill_9_of_one_worker_loses_nothing_and_the_parent_restarts_it(state_url):
    with workers(state_url) as running:
        proc, url = running
        load = AcknowledgedLoad(url, keep_alive=False)  # new connections: either worker may accept each
        time.sleep(1.5)
        pids = {e["worker"] for e in journal(url)}
        for _ in range(20):  # on a busy machine one worker may take the first connections
            if len(pids) == 2:
                break
            time.sleep(0.5)
            pids = {e["worker"] for e in journal(url)}
        assert len(pids) == 2, pids
        victim = min(pids)
        killed_at = time.time()
        os.kill(victim, signal.SIGKILL)  # in the middle of the load
        load.killed.set()
        calls_at_kill = load.calls
        time.sleep(2.0)
        load.stop()
        assert load.calls >= calls_at_kill + 10, (calls_at_kill, load.calls)  # the other worker kept serving
        # Only the killed worker's connections broke (at most one per load thread).
        assert len(load.errors_after_kill) <= load.count, load.errors_after_kill
        recent = {e["worker"] for e in journal(url) if e["time"] > killed_at}
        for _ in range(50):  # the restarted worker takes connections too (new ones, one after another)
            if len(recent) == 2:
                break
            httpx.get(f"{url}/models", headers=ADMIN)
            recent = {e["worker"] for e in journal(url) if e["time"] > killed_at}
        assert victim not in recent and len(recent) == 2, (victim, recent)  # restarted by the parent
        load.check(url)
    assert any("restarted as pid" in line for line in running.stderr)


def test_workers_without_a_shared_state_is_one_line():
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--workers", "2"])
    assert result.exit_code == 2
    assert result.output.strip() == ("mockserver: error: --workers 2 needs a shared --state (a SQLite file or a "
                                     "redis:// URL): the default memory state belongs to one process")
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--workers", "2", "--state", "x.db", "--replay", "rec"])
    assert (result.exit_code, result.output) == (2, "mockserver: error: --replay serves from one process: "
                                                    "drop --workers 2\n")


def test_redis_killed_and_restarted_keeps_every_acknowledged_change(tmp_path):
    """appendonly yes + appendfsync always: what Redis acknowledged is on disk, even after its own kill -9."""
    import redis

    from bench.servers import free_port
    from tests.redis_server import running_redis

    port = free_port()
    data = tmp_path / "redis"
    data.mkdir()
    with running_redis(str(data), port) as url:
        with workers(url) as (_, base):
            admin = httpx.Client(base_url=base, headers=ADMIN, timeout=10)
            made = [admin.post("/api-keys", json={"name": f"k{i}"}).json() for i in range(5)]
            costs = []
            for key in made:
                answer = httpx.post(f"{base}/chat/completions", headers={"Authorization": f"Bearer {key['key']}"},
                                    json={"model": CHAT_MODEL, "messages": [{"role": "user", "content": "hi"}]})
                costs.append(exact(answer.json()["usage"]["cost"]))
            pid = int(redis.Redis.from_url(url).info("server")["process_id"])
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
            with running_redis(str(data), port):  # the same files, the same port: the workers reconnect
                for key in made:
                    assert httpx.get(f"{base}/models", headers={"Authorization": f"Bearer {key['key']}"}).status_code == 200
                org = admin.get("/organization/usage").json()
                assert (org["total_requests"], exact(org["total_cost"])) == (5, sum(costs, Decimal(0)))
            admin.close()


SCENARIO = {"seed": 11, "errors": [{"status": 503, "rate": 0.3}, {"status": 429, "rate": 0.1}]}


def statuses(url: str, count: int = 40) -> tuple[list[int], set[int]]:
    """``count`` chat calls one after another, each on a new connection (either worker may take it)."""
    origin = url.rsplit("/v1", 1)[0]
    assert httpx.put(f"{origin}/__mock/scenario", json=SCENARIO, headers=ADMIN).status_code == 200
    seen = []
    with httpx.Client(base_url=url, headers=ADMIN, timeout=10, limits=httpx.Limits(max_keepalive_connections=0)) as http:
        for i in range(count):
            seen.append(http.post("/chat/completions", json={"model": CHAT_MODEL, "max_tokens": 4,
                                                             "messages": [{"role": "user", "content": str(i)}]}).status_code)
    return seen, {e["worker"] for e in journal(url, count)}


class Watch:
    """The inspector's live feed (``/__mock/inspector/feed``) read in a thread, as the page reads it (one
    connection, so one worker; a raw socket, so the reader can look up between events and stop)."""

    def __init__(self, url: str):
        origin = httpx.URL(url)
        self.sock = socket.create_connection((origin.host, origin.port), timeout=10)
        self.sock.sendall(f"GET /__mock/inspector/feed HTTP/1.1\r\nHost: {origin.host}\r\n"
                          f"Authorization: {ADMIN['Authorization']}\r\n\r\n".encode())
        self.sock.settimeout(0.1)
        self.data = b""
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while b"event: snapshot" not in self.data and time.monotonic() < deadline:  # captured from now on
            time.sleep(0.01)

    def _read(self) -> None:
        while not self.done.is_set():
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                return
            self.data += chunk

    def stop(self) -> list[dict]:
        time.sleep(0.3)  # the last entries on their way
        self.done.set()
        self.thread.join(5)
        self.sock.close()
        events = self.data.decode().split("event: ")[1:]  # each event is one chunk of the chunked body
        return [json.loads(e.split("data: ", 1)[1].split("\n", 1)[0]) for e in events if e.startswith("entry\n")]


@BACKENDS
def test_a_seeded_scenario_gives_the_same_faults_on_two_workers_as_on_one_process(state_url, serve):
    one_process, _ = statuses(serve().url)
    assert set(one_process) == {200, 429, 503}
    served_by: set[int] = set()
    with workers(state_url) as (_, url):
        for attempt in range(5):  # putting the scenario in force again starts the count again: each run is the same
            watching = Watch(url) if attempt == 0 else None
            run, workers_seen = statuses(url)
            assert run == one_process
            if watching is not None:  # the inspector page shows the exchanges of the worker holding its feed
                shown = watching.stop()
                assert len({e["worker"] for e in shown}) <= 1
                assert shown or len(workers_seen) < 2, "both workers served, yet the feed's worker showed nothing"
                if shown:
                    served = [e for e in journal(url, len(run)) if e["worker"] == shown[0]["worker"]]
                    assert sorted(e["sequence"] for e in shown) == sorted(e["sequence"] for e in served)
            served_by |= workers_seen
            if len(workers_seen) == 2:  # a busy machine may let one worker take every connection of a run
                break
    assert len(served_by) == 2, served_by
