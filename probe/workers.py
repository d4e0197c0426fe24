"""Background workers of the capture loop: one per modem, one for the GNSS source.

A :class:`ModemWorker` owns its AT port: it opens the modem, reads it every interval and puts
each reading (or the reason it got none) on the recorder's queue. When the modem goes away it
reports "modem lost" every interval, keeps trying to reopen the port, and also looks for the same
IMEI on other ports (a modem re-enumerated under a new name after a USB reset). Nothing here writes
to the store: the recorder, on the main thread, is the only writer.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Optional, Protocol

from ..device.errors import DeviceError
from ..device.models import GnssFix, ModemInfo, ModemReading
from .clock import Clock
from .errors import ProbeError
from .samples import ModemIdentity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RadioItem:
    """A worker's output for one tick: a reading, or why there is none."""

    port: str
    time_utc: datetime
    identity: ModemIdentity
    reading: Optional[ModemReading]
    error: Optional[str]


@dataclass(frozen=True)
class ModemEvent:
    """A change of a modem's state: ``attached``, ``lost``, ``back``, ``moved`` (new port, same IMEI)."""

    port: str
    time_utc: datetime
    type: str
    message: str
    identity: ModemIdentity


def default_candidates() -> list[str]:
    """Where a re-enumerated modem may reappear: serial ports present now (pyserial's list), simulated
    devices' links (``qamtu simulate``), and ModemManager's modems (``modemmanager:<index>``)."""
    from serial.tools import list_ports

    from ..device.modemmanager import mm_candidates
    from ..device.simulator import simulated_ports

    return sorted(p.device for p in list_ports.comports()) + simulated_ports() + mm_candidates()


class ModemHandle(Protocol):
    """What a worker uses of an open modem driver (:func:`qamtu.device.drivers.open_modem`, ModemManager, QMI/MBIM)."""

    def info(self) -> ModemInfo: ...

    def read(self) -> ModemReading: ...

    def close(self) -> None: ...


class ModemWorker(threading.Thread):
    """Reads one modem every ``interval_s`` (clock time) and reports to ``out``."""

    def __init__(self, port: str, out: "queue.Queue", clock: Clock, *, driver: Optional[str] = None,
                 interval_s: float = 1.0, timeout_s: float = 3.0, retry_s: float = 2.0,
                 candidates: Optional[Callable[[], list[str]]] = None, busy_ports: Callable[[], set[str]] = set,
                 opener=None):
        super().__init__(name=f"modem:{port}", daemon=True)
        self.port = port
        self.configured_port = port
        self.out = out
        self.clock = clock
        self.driver = driver
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.retry_s = retry_s
        self.candidates = candidates
        self.busy_ports = busy_ports
        self.stop_event = threading.Event()
        self.identity = ModemIdentity(port=port)
        self.modem: Optional[ModemHandle] = None
        self.lost = False
        if opener is None:
            from ..device.drivers import open_modem as opener
        self._open = opener

    # -------------------------------------------------------------- helpers
    def _emit_event(self, type_: str, message: str) -> None:
        self.out.put(ModemEvent(self.port, self.clock.utc(), type_, message, self.identity))

    def _close(self) -> None:
        if self.modem is not None:
            try:
                self.modem.close()
            except Exception:  # closing a vanished port may fail; it is gone either way
                pass
            self.modem = None

    def _try_open(self, port: str) -> bool:
        try:
            modem = self._open(port, self.driver, timeout_s=self.timeout_s)
        except DeviceError as exc:
            self._last_error = str(exc)
            return False
        try:
            info = modem.info()
        except DeviceError as exc:
            modem.close()
            self._last_error = str(exc)
            return False
        identity = ModemIdentity.from_info(info)
        if self.identity.imei and identity.imei and identity.imei != self.identity.imei:
            modem.close()
            self._last_error = f"{port} now holds another modem (IMEI {identity.imei}, expected {self.identity.imei})"
            return False
        self.modem, self.identity = modem, identity
        return True

    def _reattach(self) -> bool:
        if self._try_open(self.port):
            return True
        if not (self.candidates and self.identity.imei):
            return False
        busy = self.busy_ports()
        for port in self.candidates():
            if port == self.port or port in busy:
                continue
            old = self.identity
            if self._try_open(port):
                if self.identity.imei == old.imei:
                    self.port = port
                    self.identity = self.identity.model_copy(update={"port": port})
                    self._emit_event("moved", f"modem IMEI {old.imei} found again on {port}")
                    return True
                self._close()
                self.identity = old
        return False

    # -------------------------------------------------------------- loop
    def run(self) -> None:
        self._last_error = ""
        next_tick = time.monotonic()
        first = True
        while not self.stop_event.is_set():
            if self.modem is None:
                if self._reattach():
                    self._emit_event("attached" if first else "back",
                                     f"{self.identity.manufacturer or ''} {self.identity.model or ''} "
                                     f"IMEI {self.identity.imei} on {self.port}".strip())
                    self.lost = False
                else:
                    if not self.lost:
                        self.lost = True
                        self._emit_event("lost", self._last_error or "modem does not answer")
                    self.out.put(RadioItem(self.port, self.clock.utc(), self.identity, None,
                                           self._last_error or "modem does not answer"))
                    first = False
                    self._wait(self.retry_s)
                    continue
            first = False
            modem = self.modem
            if modem is None:  # pragma: no cover - _reattach() is True only once a modem is open
                raise ProbeError(f"modem worker {self.port}: attached but no modem is open (a bug)")
            t = self.clock.utc()
            try:
                reading = modem.read()
            except DeviceError as exc:
                self._close()
                self.lost = True
                self._emit_event("lost", str(exc))
                self.out.put(RadioItem(self.port, t, self.identity, None, str(exc)))
                self._wait(self.retry_s)
                continue
            self.out.put(RadioItem(self.port, t, self.identity, reading, None))
            next_tick += self.interval_s / self.clock.speed
            delay = next_tick - time.monotonic()
            if delay < 0:  # fell behind (slow modem): start counting again from now
                next_tick = time.monotonic()
                delay = 0
            self.stop_event.wait(delay)
        self._close()

    def _wait(self, clock_seconds: float) -> None:
        self.stop_event.wait(clock_seconds / self.clock.speed)

    def stop(self) -> None:
        self.stop_event.set()


class GnssWorker(threading.Thread):
    """Keeps the newest fix of a GNSS source; reopens the source when it fails."""

    def __init__(self, spec: str, clock: Clock, *, max_age_s: float = 5.0, retry_s: float = 2.0, opener=None):
        super().__init__(name=f"gnss:{spec}", daemon=True)
        self.spec = spec
        self.clock = clock
        self.max_age_s = max_age_s
        self.retry_s = retry_s
        self.stop_event = threading.Event()
        self._lock = threading.Lock()
        self._fix: Optional[GnssFix] = None
        self._fix_at = 0.0  # monotonic time the fix arrived
        self._error: Optional[str] = "no GNSS data yet"
        if opener is None:
            from ..device.gnss import open_gnss as opener
        self._open = opener

    def run(self) -> None:
        source = None
        while not self.stop_event.is_set():
            try:
                if source is None:
                    source = self._open(self.spec, max_age_s=self.max_age_s)
                fix = source.read_fix(timeout_s=max(0.5, 2.0 / self.clock.speed))
                with self._lock:
                    if fix.age_s == 0 or self._fix is None:
                        self._fix, self._fix_at, self._error = fix, time.monotonic() - fix.age_s, None
            except DeviceError as exc:
                with self._lock:
                    self._error = str(exc)
                if source is not None:
                    try:
                        source.close()
                    except Exception:
                        pass
                    source = None
                self.stop_event.wait(self.retry_s / self.clock.speed)
        if source is not None:
            source.close()

    def current(self) -> tuple[Optional[GnssFix], Optional[str]]:
        """(the newest fix with its age in clock seconds and staleness, or None; the reason when unusable)."""
        with self._lock:
            fix, at, error = self._fix, self._fix_at, self._error
        if fix is None:
            return None, error or "no GNSS data yet"
        age = (time.monotonic() - at) * self.clock.speed
        fix = fix.model_copy(update={"age_s": round(age, 3), "stale": age > self.max_age_s})
        if not fix.has_fix:
            return fix, "receiver reports no fix"
        if fix.stale:
            return fix, f"fix is stale ({age:.0f} s old)" + (f": {error}" if error else "")
        return fix, None

    def stop(self) -> None:
        self.stop_event.set()
