"""``mockserver serve --workers 2`` on SQLite and on Redis: one state for both workers, under load and kill -9.

Redis is Debian's redis-server (apt-get on first use), on a free loopback port, with ``appendonly yes``
and ``appendfsync always``; the tests start and stop it.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from decimal import Decimal

import httpx
import openai
import pytest
from click.testing import CliRunner

from mockserver.cli import main
from tests.conftest import ADMIN

BACKENDS = pytest.mark.parametrize("state_url", ["sqlite", "redis"], indirect=True)
CHAT_MODEL = "openai/gpt-4o-mini"
IN_FLIGHT = 24  # calls in flight at once, over both workers


@contextmanager
def workers(state_url: str, count: int = 2):
    proc = subprocess.Popen([sys.executable, "-m", "mockserver", "serve", "--port", "0", "--workers", str(count),
                             "--state", state_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(4)]
        url = next(line.split("base URL:")[1].strip() for line in lines if "base URL:" in line)
        for _ in range(200):
            try:
                httpx.get(f"{url}/models", headers=ADMIN)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=20)


def journal(url: str, limit: int = 1000) -> list[dict]:
    return httpx.get(f"{url.rsplit('/v1', 1)[0]}/__mock/journal?limit={limit}", headers=ADMIN).json()["data"]


def exact(amount: float) -> Decimal:
    return Decimal(repr(amount))


@BACKENDS
def test_two_workers_serve_one_state_under_200_concurrent_sdk_calls(state_url):
    with workers(state_url) as (proc, url):
        # No kept-alive connections: each management call is a new connection, which either worker may take.
        admin = httpx.Client(base_url=url, headers=ADMIN, timeout=30, limits=httpx.Limits(max_keepalive_connections=0))
        keys = [admin.post("/api-keys", json={"name": f"k{i}"}).json() for i in range(5)]
        # One key with a limit that ~12 of its ~40 calls reach: the rest must be refused, by both workers.
        admin.patch(f"/api-keys/{keys[0]['id']}/limit", json={"limit": 0.00004})
        acknowledged: dict[str, list[dict]] = defaultdict(list)
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
            report = admin.get(f"/api-keys/{key_id}/usage").json() if not key_id.startswith("tmp") else None
            cost = sum((exact(u.get("cost") or 0) for u in seen), Decimal(0))
            tokens = sum(u["total_tokens"] for u in seen)
            total_requests, total_cost, total_tokens = total_requests + len(seen), total_cost + cost, total_tokens + tokens
            if report is not None and report.get("total_requests") is not None:
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
    acknowledged_keys: dict[str, str] = {}
    acknowledged_usage: dict[str, list[dict]] = defaultdict(list)
    errors_after_kill: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    killed = threading.Event()
    threads_n = 8

    def work(url: str, n: int) -> None:
        rng = random.Random(n)
        i = 0
        # No kept-alive connections: each request makes a new one, which either worker may accept.
        http = httpx.Client(base_url=url, timeout=10, limits=httpx.Limits(max_keepalive_connections=0))
        while not stop.is_set():
            i += 1
            try:
                if i % 4 == 1 or not acknowledged_keys:
                    key = http.post("/api-keys", json={"name": f"w{n}-{i}"}, headers=ADMIN)
                    if key.status_code == 200:
                        with lock:
                            acknowledged_keys[key.json()["id"]] = key.json()["key"]
                else:
                    with lock:
                        key_id, secret = rng.choice(list(acknowledged_keys.items()))
                    answer = http.post("/chat/completions", headers={"Authorization": f"Bearer {secret}"},
                                       json={"model": CHAT_MODEL, "max_tokens": 16,
                                             "messages": [{"role": "user", "content": f"call {n} {i}"}]})
                    if answer.status_code == 200:
                        with lock:
                            acknowledged_usage[key_id].append(answer.json()["usage"])
            except httpx.TransportError as exc:  # the killed worker's connections break; others must not
                if killed.is_set() and not stop.is_set():
                    errors_after_kill.append(type(exc).__name__)
        http.close()

    with workers(state_url) as (proc, url):
        threads = [threading.Thread(target=work, args=(url, n)) for n in range(threads_n)]
        for thread in threads:
            thread.start()
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
        killed.set()
        calls_at_kill = sum(len(v) for v in acknowledged_usage.values())
        time.sleep(2.0)
        stop.set()
        for thread in threads:
            thread.join(timeout=20)
        after = sum(len(v) for v in acknowledged_usage.values())
        assert after >= calls_at_kill + 10, (calls_at_kill, after)  # the other worker kept serving
        # Only the killed worker's connections broke (at most one per load thread).
        assert len(errors_after_kill) <= threads_n, errors_after_kill
        recent = {e["worker"] for e in journal(url) if e["time"] > killed_at}
        for _ in range(50):  # the restarted worker takes connections too (new ones, one after another)
            if len(recent) == 2:
                break
            httpx.get(f"{url}/models", headers=ADMIN)
            recent = {e["worker"] for e in journal(url) if e["time"] > killed_at}
        assert victim not in recent and len(recent) == 2, (victim, recent)  # restarted by the parent
        admin = httpx.Client(base_url=url, headers=ADMIN, timeout=10)
        listed = {k["id"] for k in admin.get("/api-keys").json()["data"]}
        assert set(acknowledged_keys) <= listed
        calls = sum(len(v) for v in acknowledged_usage.values())
        for key_id, secret in acknowledged_keys.items():
            assert httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
            report = admin.get(f"/api-keys/{key_id}/usage").json()
            seen = acknowledged_usage.get(key_id, [])
            # Every acknowledged call is there; at most the calls in flight at the kill were recorded unacknowledged.
            assert len(seen) <= report["total_requests"] <= len(seen) + threads_n
            assert exact(report["total_cost"]) >= sum((exact(u["cost"]) for u in seen), Decimal(0))
        org = admin.get("/organization/usage").json()
        assert calls <= org["total_requests"] <= calls + threads_n
        admin.close()
    assert "restarted as pid" in proc.stderr.read()


def test_workers_without_a_shared_state_is_one_line():
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--workers", "2"])
    assert result.exit_code == 2
    assert result.output.strip() == ("mockserver: error: --workers 2 needs a shared --state (a SQLite file or a "
                                     "redis:// URL): the default memory state belongs to one process")


def test_redis_killed_and_restarted_keeps_every_acknowledged_change(tmp_path):
    """appendonly yes + appendfsync always: what Redis acknowledged is on disk, even after its own kill -9."""
    import redis

    from tests.redis_server import free_port, running_redis

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


@BACKENDS
def test_a_seeded_scenario_gives_the_same_faults_on_two_workers_as_on_one_process(state_url, serve):
    one_process, _ = statuses(serve().url)
    assert set(one_process) == {200, 429, 503}
    served_by: set[int] = set()
    with workers(state_url) as (_, url):
        for _ in range(5):  # putting the scenario in force again starts the count again: each run is the same
            run, workers_seen = statuses(url)
            assert run == one_process
            served_by |= workers_seen
            if len(workers_seen) == 2:  # a busy machine may let one worker take every connection of a run
                break
    assert len(served_by) == 2, served_by
