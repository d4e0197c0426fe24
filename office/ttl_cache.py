"""Values the office computes from the store (classifications, map JSON, case counts, settlement
summaries), kept for some seconds so that many visitors do not compute them once each.

One :class:`TtlCache` per kind of value: :mod:`.public_data` and :mod:`.maps` each have theirs.
It holds at most ``max_entries`` keys (the least recently built dropped first), because some keys
come from query strings. An expired value asked for with ``background=True`` is served while one
thread rebuilds it; otherwise it is rebuilt before it is returned. Finished public HTTP answers
(bytes, ETags, gzip) are :mod:`.public_cache`'s job, not this one's.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Hashable

log = logging.getLogger("qamtu.office")


class TtlCache:
    """``get(key, seconds, build)``: ``build()`` kept ``seconds`` under ``key``, at most ``max_entries`` keys."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._values: dict[Hashable, tuple[float, Any]] = {}     # key -> (expiry, value); insertion = build order
        self._refreshing: set[Hashable] = set()
        self._lock = threading.Lock()

    def get(self, key: Hashable, seconds: float, build: Callable[[], Any], *, background: bool = False) -> Any:
        """The value of ``key``: kept if younger than ``seconds``, else built now (with ``background``, a
        stale value is returned at once while a thread rebuilds it)."""
        now = time.monotonic()
        with self._lock:
            hit = self._values.get(key)
            if hit and now < hit[0]:
                return hit[1]
            if hit and background:
                if key not in self._refreshing:
                    self._refreshing.add(key)
                    threading.Thread(target=self._rebuild, args=(key, seconds, build), daemon=True).start()
                return hit[1]
        value = build()
        self._keep(key, seconds, value)
        return value

    def _rebuild(self, key: Hashable, seconds: float, build: Callable[[], Any]) -> None:
        try:
            self._keep(key, seconds, build())
        except Exception as exc:  # keep serving the old value; say why in the log (no data in the message)
            log.warning("office data refresh %s failed: %s", key[1] if isinstance(key, tuple) else "?",
                        type(exc).__name__)
        finally:
            with self._lock:
                self._refreshing.discard(key)

    def _keep(self, key: Hashable, seconds: float, value: Any) -> None:
        now = time.monotonic()
        with self._lock:
            self._values.pop(key, None)
            while len(self._values) >= self.max_entries:
                del self._values[next(iter(self._values))]
            self._values[key] = (now + seconds, value)

    def drop(self, which: Callable[[Hashable], bool]) -> None:
        """Forget every key for which ``which(key)`` is true."""
        with self._lock:
            for k in [k for k in self._values if which(k)]:
                del self._values[k]

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)


__all__ = ["TtlCache"]
