"""Fewer cyclic garbage collections while records stream through the process.

Decoding one export page creates tens of thousands of dicts and lists. With CPython's default
thresholds the cyclic collector runs every 700 new containers and, every tenth time, scans the
older generation too, which holds the pages still in flight: on a page of 5,000 customers it
took about half of `orjson.loads`' time, and the simulator building the page paid the same.
The records hold no reference cycles, so reference counting frees them all the same; the
collector only looks for cycles less often for the duration. Its thresholds are process-wide,
so nested and concurrent users share one raised setting, and the last to leave restores the
one found before the first.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: New containers between two young-generation collections while streaming (default 700).
STREAMING_THRESHOLD = 100_000

_lock = threading.Lock()
_users = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def fewer_collections(threshold: int = STREAMING_THRESHOLD) -> Iterator[None]:
    """Raise the young-generation threshold of the cyclic collector to at least `threshold`
    for the duration; the older generations keep theirs."""
    global _users, _saved
    with _lock:
        if _users == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(max(threshold, _saved[0]), *_saved[1:])
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
