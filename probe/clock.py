"""Clocks for the capture loop: the system clock in the field, a scaled clock for simulations.

The loop asks its clock for the current UTC time (sample timestamps) and sleeps on it, so a
simulated one-hour drive at 60x runs in a minute with timestamps spanning the hour.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    """What the capture loop needs of a clock."""

    speed: float

    def utc(self) -> datetime:
        """The current time, timezone-aware UTC."""

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""


class SystemClock:
    """The laptop's clock (speed 1)."""

    speed = 1.0

    def utc(self) -> datetime:
        return datetime.now(timezone.utc)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ScaledClock:
    """Wraps any object with ``utc()`` and ``speed`` (e.g. the device simulator's SimClock)."""

    def __init__(self, source) -> None:
        self.source = source
        self.speed = float(source.speed)

    def utc(self) -> datetime:
        return self.source.utc()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.speed)
