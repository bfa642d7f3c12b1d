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
"""

from __future__ import annotations

import asyncio
import math
import threading
from types import TracebackType

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
