"""The shared deadline timer: each watched await times out at its own deadline, and only then."""

from __future__ import annotations

import asyncio
import time

import pytest
import uvloop

from mockserver.deadlines import Deadlines, begin

LOOPS = [pytest.param(asyncio.new_event_loop, id="asyncio"), pytest.param(uvloop.new_event_loop, id="uvloop")]


def run(new_loop, coroutine):
    loop = new_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


async def stall(seconds: float, deadline: float) -> float:
    """How long the watched sleep ran before its TimeoutError; -1 when it finished."""
    started = time.monotonic()
    try:
        with Deadlines.of_running_loop().watch(deadline):
            await asyncio.sleep(seconds)
    except TimeoutError:
        return time.monotonic() - started
    return -1


@pytest.mark.parametrize("new_loop", LOOPS)
def test_an_await_that_ends_in_time_is_left_alone(new_loop):
    async def scenario():
        assert await stall(0.01, 0.2) == -1
        await asyncio.sleep(0.3)  # past the deadline: no late cancellation reaches the task
        return Deadlines.of_running_loop().pending()

    assert run(new_loop, scenario()) == 0


@pytest.mark.parametrize("new_loop", LOOPS)
def test_a_stalled_await_times_out_at_its_deadline(new_loop):
    waited = run(new_loop, stall(5, 0.15))
    assert 0.149 <= waited < 0.3


@pytest.mark.parametrize("new_loop", LOOPS)
def test_each_of_many_awaits_keeps_its_own_deadline(new_loop):
    async def scenario():
        # Finished reads leave the timer armed at their (earlier) deadlines: the stalled ones must
        # still time out at theirs, not at the first one's and not later.
        quick = [stall(0.0, 0.05) for _ in range(20)]
        stalled = [stall(5, 0.1 + 0.05 * i) for i in range(4)]
        return await asyncio.gather(*quick, *stalled)

    results = run(new_loop, scenario())
    assert results[:20] == [-1] * 20
    for i, waited in enumerate(results[20:]):
        assert 0.1 + 0.05 * i - 0.002 <= waited < 0.1 + 0.05 * i + 0.1, (i, waited)


@pytest.mark.parametrize("new_loop", LOOPS)
def test_extend_moves_the_deadline(new_loop):
    async def scenario():
        started = time.monotonic()
        try:
            with Deadlines.of_running_loop().watch(0.1) as watch:
                await asyncio.sleep(0.07)
                watch.extend(0.1)  # now due at ~0.17 s
                await asyncio.sleep(5)
        except TimeoutError:
            return time.monotonic() - started
        return -1

    assert 0.165 <= run(new_loop, scenario()) < 0.35


@pytest.mark.parametrize("new_loop", LOOPS)
def test_a_cancellation_from_outside_is_not_a_timeout(new_loop):
    async def scenario():
        task = asyncio.ensure_future(stall(5, 10))
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return Deadlines.of_running_loop().pending()

    assert run(new_loop, scenario()) == 0


def test_each_loop_has_its_own_timer():
    # One thread, loops one after another (as test clients make them): the second loop's
    # deadline is kept by a timer on the second loop.
    assert run(asyncio.new_event_loop, stall(0.0, 0.05)) == -1
    assert 0.049 <= run(uvloop.new_event_loop, stall(5, 0.05)) < 0.2
    assert 0.049 <= run(asyncio.new_event_loop, stall(5, 0.05)) < 0.2


def test_watch_outside_a_task_is_refused():
    loop = asyncio.new_event_loop()
    try:
        async def no_task_check():
            return Deadlines.of_running_loop()

        deadlines = loop.run_until_complete(no_task_check())
        with pytest.raises(RuntimeError, match="running task"):
            deadlines.watch(1)
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
            with Deadlines.of_running_loop().watch(0.05):
                await rest
        return arrived, time.monotonic() - started

    arrived, waited = run(new_loop, scenario())
    assert not arrived and 0.049 <= waited < 0.3
    assert cleaned == [True]
