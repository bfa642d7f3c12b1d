"""``eager.begin``: an awaitable run up to its first wait, and the rest of it awaited as ``await`` would."""

from __future__ import annotations

import asyncio
import time

import pytest
import uvloop

from mockserver.eager import begin

LOOPS = [pytest.param(asyncio.new_event_loop, id="asyncio"), pytest.param(uvloop.new_event_loop, id="uvloop")]


def run(new_loop, coroutine):
    loop = new_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


@pytest.mark.parametrize("new_loop", LOOPS)
def test_begin_finishes_what_does_not_wait(new_loop):
    async def ready():
        return "body"

    async def scenario():
        return begin(ready())

    assert run(new_loop, scenario()) == (True, "body")


@pytest.mark.parametrize("new_loop", LOOPS)
def test_begin_hands_back_the_rest_of_what_waits(new_loop):
    steps = []

    async def slow():
        for n in range(3):
            await asyncio.sleep(0.001)
            steps.append(n)
        return "late body"

    async def scenario():
        arrived, rest = begin(slow())
        assert not arrived and steps == []
        return await rest

    assert run(new_loop, scenario()) == "late body"
    assert steps == [0, 1, 2]


@pytest.mark.parametrize("new_loop", LOOPS)
def test_begin_passes_errors_and_futures_through(new_loop):
    async def broken():
        await asyncio.sleep(0)
        raise ValueError("no body")

    async def scenario():
        with pytest.raises(ValueError, match="no body"):
            await begin(broken())[1]
        future = asyncio.get_running_loop().create_future()
        arrived, rest = begin(future)
        asyncio.get_running_loop().call_later(0.01, future.set_result, 7)
        return arrived, await rest

    assert run(new_loop, scenario()) == (False, 7)


@pytest.mark.parametrize("new_loop", LOOPS)
def test_a_begun_await_that_stalls_is_cancelled_at_its_deadline(new_loop):
    cleaned = []

    async def stalled():
        try:
            await asyncio.sleep(5)
        finally:
            cleaned.append(True)  # the cancellation reached the awaitable itself

    async def scenario():
        arrived, rest = begin(stalled())
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await rest
        return arrived, time.monotonic() - started

    arrived, waited = run(new_loop, scenario())
    assert not arrived and 0.049 <= waited < 0.3
    assert cleaned == [True]


@pytest.mark.parametrize("new_loop", LOOPS)
def test_a_cancellation_from_outside_reaches_the_begun_awaitable(new_loop):
    cleaned = []

    async def stalled():
        try:
            await asyncio.sleep(5)
        finally:
            cleaned.append(True)

    async def reader():
        arrived, rest = begin(stalled())
        assert not arrived
        await rest

    async def scenario():
        task = asyncio.ensure_future(reader())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(new_loop, scenario())
    assert cleaned == [True]
