"""What one dispatcher pass did, counted by outcome (shared by its claiming, reconciling and
sending, which may run in several threads)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class DispatchResult:
    """What one pass did, by outcome."""

    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    suppressed: int = 0
    retrying: int = 0
    failed: int = 0
    reconciled: int = 0
    unknown: int = 0
    errors: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, counter: str, n: int = 1) -> None:
        """Count an outcome (safe from the sending threads)."""
        with self._lock:
            setattr(self, counter, getattr(self, counter) + n)

    def note(self, error: str) -> None:
        with self._lock:
            self.errors.append(error)

    def as_dict(self) -> dict[str, Any]:
        return {
            "claimed": self.claimed,
            "sent": self.sent,
            "deferred": self.deferred,
            "suppressed": self.suppressed,
            "retrying": self.retrying,
            "failed": self.failed,
            "reconciled": self.reconciled,
            "unknown": self.unknown,
            "errors": list(self.errors[:20]),
        }
