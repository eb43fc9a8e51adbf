"""What the readers share: the observer that counts cache use and render time, a small LRU, and
the change key of a file."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path
from typing import Any, Protocol


class ReaderObserver(Protocol):
    """What the readers report (``rasterd.app.metrics.Metrics`` implements it)."""

    def cache_lookup(self, cache: str, hit: bool) -> None: ...
    def rasterized(self, source: str, seconds: float) -> None: ...


class NoObserver:
    def cache_lookup(self, cache: str, hit: bool) -> None:
        pass

    def rasterized(self, source: str, seconds: float) -> None:
        pass


class LruCache:
    """A small thread-safe least-recently-used map."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def file_key(path: Path) -> tuple[int, int, int] | None:
    """Identity of a file's current version (inode, size, mtime), None when absent."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)
