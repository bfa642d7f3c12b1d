"""Run an awaitable up to its first wait, and hand back the rest only if it has to wait.

A request body has nearly always arrived before the mock reads it, so ``receive()`` finishes
at once. Started with :func:`begin`, such an await needs no deadline, no timer and no task
switch; only a read that must wait is awaited under ``asyncio.timeout`` (``reading.py``).
``asyncio.timeout`` around every read armed and cancelled a uvloop timer per request, about
4 us of the ~90 us a chat request costs the server (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Generator
from typing import Any, TypeVar

T = TypeVar("T")


def begin(awaitable: Awaitable[T]) -> tuple[bool, Any]:
    """Run ``awaitable`` up to its first wait: ``(True, result)`` when it finished without waiting,
    else ``(False, rest)``, where ``rest`` is an awaitable that carries on from there.

    ``rest`` hands each wait to the running task exactly as ``await`` would, cancellations included.
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
