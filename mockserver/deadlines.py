"""Deadlines for awaits in flight, kept by one timer per event loop instead of one timer each.

``asyncio.timeout`` arms and cancels a loop timer for every block (about 4 us under uvloop),
and nearly every request body has arrived before it is read, so the timer almost never fires.
Here a watched await costs a dictionary entry: the loop's timer stays armed for the earliest
deadline and, when it fires, cancels the tasks whose deadline has passed and re-arms for the
next one. A task is cancelled at its deadline, as ``asyncio.timeout`` would cancel it.

Use::

    deadlines = Deadlines.of_running_loop()
    with deadlines.watch(seconds) as watch:
        ... await ...
        watch.extend(seconds)      # a new deadline from now
    # raises TimeoutError when the deadline passed while awaiting

:func:`begin` runs an awaitable up to its first wait, so that a deadline need only be armed
for an await that has to wait.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Awaitable, Generator
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")

_RESOLUTION_S = 0.001  # loop timers may fire this early (libuv counts milliseconds)
_local = threading.local()


class Deadlines:
    """The deadlines of one event loop; create it with :meth:`of_running_loop`."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self._due: dict[asyncio.Task, float] = {}
        self._expired: set[asyncio.Task] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf

    @classmethod
    def of_running_loop(cls) -> Deadlines:
        """The running loop's deadlines (one object per loop, kept per thread: a thread runs one loop at a time)."""
        loop = asyncio.get_running_loop()
        deadlines = getattr(_local, "deadlines", None)
        if deadlines is None or deadlines.loop is not loop:
            deadlines = _local.deadlines = cls(loop)
        return deadlines

    def watch(self, seconds: float) -> Watch:
        """A context manager that cancels the current task ``seconds`` from now (TimeoutError on leaving)."""
        task = asyncio.current_task(self.loop)
        if task is None:
            raise RuntimeError("Deadlines.watch() needs a running task")
        return Watch(self, task, seconds)

    def pending(self) -> int:
        """How many tasks are watched now (for tests)."""
        return len(self._due)

    def _set(self, task: asyncio.Task, deadline: float) -> None:
        self._due[task] = deadline
        if deadline < self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self.loop.call_at(deadline, self._fire)
            self._timer_at = deadline

    def _release(self, task: asyncio.Task) -> bool:
        """Stop watching ``task``; True when its deadline passed (it was cancelled for it)."""
        self._due.pop(task, None)
        if task in self._expired:
            self._expired.discard(task)
            return True
        return False

    def _fire(self) -> None:
        self._timer, self._timer_at = None, math.inf
        now = self.loop.time() + _RESOLUTION_S
        for task, deadline in list(self._due.items()):
            if deadline <= now:
                del self._due[task]
                self._expired.add(task)
                task.cancel()
        if self._due:
            self._timer_at = min(self._due.values())
            self._timer = self.loop.call_at(self._timer_at, self._fire)


class Watch:
    __slots__ = ("deadlines", "task", "seconds", "cancelling")

    def __init__(self, deadlines: Deadlines, task: asyncio.Task, seconds: float):
        self.deadlines = deadlines
        self.task = task
        self.seconds = seconds
        self.cancelling = task.cancelling()  # cancellations asked for before: those still propagate

    def extend(self, seconds: float) -> None:
        self.deadlines._set(self.task, self.deadlines.loop.time() + seconds)

    def __enter__(self) -> Watch:
        self.extend(self.seconds)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.deadlines._release(self.task) and self.task.uncancel() <= self.cancelling \
                and kind is asyncio.CancelledError:
            raise TimeoutError from error


def begin(awaitable: Awaitable[T]) -> tuple[bool, Any]:
    """Run ``awaitable`` up to its first wait: ``(True, result)`` when it finished without waiting,
    else ``(False, rest)``, where ``rest`` is an awaitable that carries on from there.

    So a deadline is armed only for an await that has to wait: a request body has nearly always
    arrived before it is read, and then its read costs no deadline at all.
    """
    steps = awaitable.__await__()
    try:
        first = steps.send(None)
    except StopIteration as done:
        return True, done.value
    return False, _Rest(steps, first)


class _Rest:
    """The rest of an awaitable :func:`begin` started: it hands each wait to the task, as ``await`` would."""

    __slots__ = ("steps", "first")

    def __init__(self, steps: Generator[Any, Any, Any], first: Any):
        self.steps = steps
        self.first = first

    def __await__(self) -> Generator[Any, Any, Any]:
        steps, waiting_on = self.steps, self.first
        while True:
            try:
                sent = yield waiting_on
            except BaseException as error:  # noqa: BLE001  (a cancellation thrown in by the task goes on down)
                try:
                    waiting_on = steps.throw(error)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    waiting_on = steps.send(sent)
                except StopIteration as done:
                    return done.value
