"""N worker processes on one listening socket, kept alive by the parent (``mockserver serve --workers N``).

The parent loads the spec and binds the socket once, then forks the workers: each inherits the
socket and the loaded spec (copy-on-write, so a worker is serving within milliseconds), opens its
own connection to the shared store, builds its app and runs uvicorn on the socket. The kernel hands
each new connection to one of the workers waiting in ``accept``. When a worker dies (a crash, a
``kill -9``), the parent forks a new one from its own clean state; Ctrl-C or SIGTERM stops them all.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

STOP_GRACE_S = 10.0
CRASH_WINDOW_S = 1.0  # a worker that dies this soon after its start ...
MAX_QUICK_DEATHS = 5  # ... this many times in a row means it cannot start: give up


class _Stop(Exception):
    """SIGTERM reached the parent."""


class WorkerError(Exception):
    """The workers cannot be kept running; one line."""


class Supervisor:
    def __init__(self, target: Callable[[int], None], count: int, say: Callable[[str], None]):
        """``target(number)`` runs one worker until it is told to stop (in the forked child)."""
        self.target = target
        self.count = count
        self.say = say
        self.children: dict[int, tuple[int, float]] = {}  # pid -> (worker number, start time)

    def run(self) -> None:
        previous = signal.signal(signal.SIGTERM, _raise_stop)
        quick_deaths = 0
        try:
            for number in range(self.count):
                self._spawn(number)
            while self.children:
                pid, status = os.wait()
                number, started = self.children.pop(pid, (None, 0.0))
                if number is None:
                    continue
                quick_deaths = quick_deaths + 1 if time.monotonic() - started < CRASH_WINDOW_S else 0
                if quick_deaths >= MAX_QUICK_DEATHS:
                    raise WorkerError(f"worker {number} died {quick_deaths} times right after starting "
                                      f"({_describe(status)}); giving up")
                new = self._spawn(number)
                self.say(f"mockserver: worker {number} (pid {pid}) {_describe(status)}; restarted as pid {new}")
        except (KeyboardInterrupt, _Stop):
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            self._stop_all()

    def _spawn(self, number: int) -> int:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                self.target(number)
            except KeyboardInterrupt:
                pass
            except BaseException as exc:  # noqa: BLE001  (one line on stderr, then the parent restarts it)
                os.write(2, f"mockserver: worker {number}: {type(exc).__name__}: {exc}\n".encode())
                code = 1
            finally:
                os._exit(code)
        self.children[pid] = (number, time.monotonic())
        return pid

    def _stop_all(self) -> None:
        for pid in list(self.children):
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while self.children and time.monotonic() < deadline:
            for pid in list(self.children):
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done:
                    self.children.pop(pid)
            time.sleep(0.02)
        for pid in list(self.children):
            _signal(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            self.children.pop(pid)


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop()


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with code {os.waitstatus_to_exitcode(status)}"
