"""Interpreter settings for streaming records through a process: pages of API records, decoded,
checked and COPYed by three threads at once (the sync engine) or built and served (the
simulator).

- Fewer cyclic garbage collections. Decoding one export page creates tens of thousands of dicts
  and lists; with CPython's default thresholds the collector runs every 700 new containers and,
  every tenth time, scans the older generation, which holds the pages still in flight: a large
  part of decoding a page, and of the simulator building one, went into those scans. The
  records hold no reference cycles, so reference counting frees them all the same; the
  collector only looks for cycles less often.
- A shorter GIL switch interval. The thread reading the next page off the socket needs the GIL
  back after every read of 64 KiB; while the thread checking the previous page holds it, each
  read waited up to the default 5 ms, so the API sat idle between pages. A tenth of that hands
  the GIL back before the socket runs dry (figures in docs/benchmarks.md, `bench_st_sync.py`).

Both settings are process-wide: nested and concurrent users share them, and the last to leave
restores what the first found.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: New containers between two young-generation collections while streaming (default 700).
GC_THRESHOLD = 100_000
#: Seconds a thread may hold the GIL while another waits for it (default 0.005).
SWITCH_INTERVAL = 0.0005

_lock = threading.Lock()
_users = 0
_saved: tuple[tuple[int, int, int], float] | None = None


@contextmanager
def streaming() -> Iterator[None]:
    """For the duration: a young-generation collection threshold of at least `GC_THRESHOLD`
    (older generations unchanged) and a switch interval of at most `SWITCH_INTERVAL`."""
    global _users, _saved
    with _lock:
        if _users == 0:
            thresholds, interval = gc.get_threshold(), sys.getswitchinterval()
            _saved = (thresholds, interval)
            gc.set_threshold(max(GC_THRESHOLD, thresholds[0]), *thresholds[1:])
            if interval > SWITCH_INTERVAL:
                sys.setswitchinterval(SWITCH_INTERVAL)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _saved is not None:
                gc.set_threshold(*_saved[0])
                if _saved[1] > SWITCH_INTERVAL:
                    sys.setswitchinterval(_saved[1])
                _saved = None
