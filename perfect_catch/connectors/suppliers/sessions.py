"""Where a supplier's login session and bot-check back-off live between runs.

Logging in on every run would be both slow and conspicuous (the goal is at most one login per
supplier per twelve hours), so the session cookies a client got are kept and offered again on
the next run; the site's redirect to its login form says when they have expired. A bot check's
back-off is kept the same way, so the next scheduled run does not knock again too soon. The
file holds live session cookies: it is written readable by its owner only.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Any


class SessionStore:
    """Cookies and back-off per supplier, in memory; `FileSessionStore` persists them."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def _load(self) -> dict[str, dict[str, Any]]:
        return self._data

    def _save(self, data: dict[str, dict[str, Any]]) -> None:
        self._data = data

    def _entry(self, supplier: str) -> dict[str, Any]:
        return dict(self._load().get(supplier, {}))

    def _put(self, supplier: str, **values: Any) -> None:
        with self._lock:
            data = self._load()
            data[supplier] = {**data.get(supplier, {}), **values}
            self._save(data)

    def cookies(self, supplier: str) -> list[dict[str, str]]:
        return list(self._entry(supplier).get("cookies", []))

    def set_cookies(self, supplier: str, cookies: list[dict[str, str]]) -> None:
        self._put(supplier, cookies=cookies)

    def backoff_until(self, supplier: str) -> datetime | None:
        value = self._entry(supplier).get("backoff_until")
        return datetime.fromisoformat(value) if value else None

    def set_backoff(self, supplier: str, until: datetime | None) -> None:
        self._put(supplier, backoff_until=until.isoformat() if until else None)


class FileSessionStore(SessionStore):
    """A `SessionStore` in one JSON file per supplier (mode 0600) under `folder`: runs of
    different suppliers in different processes never overwrite each other's entries."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def _path(self, supplier: str) -> Path:
        slug = "".join(ch for ch in supplier.lower() if ch.isalnum())
        return self.folder / f"{slug}.json"

    def _entry(self, supplier: str) -> dict[str, Any]:
        try:
            data = json.loads(self._path(supplier).read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _put(self, supplier: str, **values: Any) -> None:
        with self._lock:
            data = {**self._entry(supplier), **values}
            path = self._path(supplier)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump(data, out)
            os.replace(tmp, path)
