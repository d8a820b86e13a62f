"""Run a pure function over two halves of a list on two cores: a forked child takes the first
half while this process does the second.

Only for work that is large (thousands of cards) and pure: the child shares nothing back but
its pickled result. Without ``os.fork``, with one core, with ``EXAMDECK_JOBS=1``, or when the
child fails, ``map_halves`` returns None and the caller does the work itself: the result is
the same either way, only slower.
"""

from __future__ import annotations

import atexit
import os
import pickle
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["available_cores", "map_halves"]

T = TypeVar("T")
R = TypeVar("R")


def available_cores() -> int:
    """Cores this process may use; EXAMDECK_JOBS caps it (1 turns parallel work off)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    jobs = os.environ.get("EXAMDECK_JOBS", "").strip()
    if jobs.isdigit() and int(jobs) > 0:
        cores = min(cores, int(jobs))
    return cores


def map_halves(
    func: Callable[..., list[R]],
    items: list[T],
    *args: Any,
    pack: Callable[[list[R]], Any] | None = None,
    unpack: Callable[[Any], list[R]] | None = None,
) -> list[R] | None:
    """``func(items[:h], *args) + func(items[h:], *args)`` with the first half in a child process.

    `pack` and `unpack` (inverses) carry the child's result as plain data: lists and strings
    pickle several times faster than objects, which pickle calls back into Python for."""
    if not hasattr(os, "fork") or available_cores() < 2 or len(items) < 2:
        return None
    _reap_finished()
    half = len(items) // 2
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the child: compute, send, and leave without running any cleanup of the parent
        status = 1
        try:
            os.close(read_end)
            result = func(items[:half], *args)
            with os.fdopen(write_end, "wb") as pipe:
                # Streamed: the parent unpickles while this process is still pickling.
                pickle.dump(pack(result) if pack else result, pipe, protocol=pickle.HIGHEST_PROTOCOL)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    try:
        second = func(items[half:], *args)
    except BaseException:
        os.close(read_end)
        os.waitpid(pid, 0)
        raise
    with os.fdopen(read_end, "rb") as pipe:
        try:
            # From our own child, never from disk. A pickle ends with its own STOP code: a child
            # that failed midway leaves a truncated stream, which does not load.
            payload = pickle.load(pipe)
        except Exception:  # noqa: BLE001 - a broken child means: do the work here
            os.waitpid(pid, 0)
            return None
    # Not waited for now: the child's exit (unmapping its copy of this process's memory) takes
    # about 10 ms, and its result is complete already.
    _unreaped.append(pid)
    first = unpack(payload) if unpack else payload
    return first + second


# Children whose results are in but that may not have exited yet: reaped by the next
# map_halves and at exit, so that none is left as a zombie for long.
_unreaped: list[int] = []


def _reap_finished() -> None:
    while _unreaped:
        try:
            os.waitpid(_unreaped.pop(), 0)
        except ChildProcessError:  # already reaped (e.g. by a SIGCHLD handler of the application)
            pass


atexit.register(_reap_finished)
