"""A small pool of store connections: each request borrows one for its whole duration (one
thread at a time per connection), so requests never share a transaction. Writes are the store's
short BEGIN IMMEDIATE transactions; WAL lets readers go on while one writer commits."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from jirei.store import Store


class StorePool:
    def __init__(self, path: str | Path, size: int = 8):
        self.path = Path(path)
        self._idle: queue.LifoQueue[Store] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._all: list[Store] = []
        self._lock = threading.Lock()

    @contextmanager
    def store(self) -> Iterator[Store]:
        self._slots.acquire()
        try:
            try:
                store = self._idle.get_nowait()
            except queue.Empty:
                store = Store(self.path, create=False)
                store.tune_for_reads()
                with self._lock:
                    self._all.append(store)
            try:
                yield store
            finally:
                if store.conn.in_transaction:  # never hand on a connection inside a transaction
                    store.conn.execute("ROLLBACK")
                self._idle.put(store)
        finally:
            self._slots.release()

    def close(self) -> None:
        with self._lock:
            for store in self._all:
                store.close()
            self._all.clear()
