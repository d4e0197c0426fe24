"""Identifiers unique across laptops: UUID version 7 (RFC 9562).

A UUIDv7 starts with the Unix time in milliseconds, so ids sort by creation time, and carries
74 random bits, so files from many inspectors merge without collisions.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def uuid7() -> str:
    """A new UUIDv7 as a lowercase string; monotonic within this process."""
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms = _last_ms
            _counter = (_counter + 1) & 0xFFF
            if _counter == 0:  # 4096 ids in one millisecond: borrow the next millisecond
                ms += 1
        else:
            _counter = int.from_bytes(os.urandom(2), "big") & 0x7FF
        _last_ms = ms
        rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
        value = (ms << 80) | (0x7 << 76) | (_counter << 64) | (0b10 << 62) | rand
    return str(uuid.UUID(int=value))
