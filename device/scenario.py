"""Scenarios for the simulated devices: a route of timed waypoints with signal per operator, and events.

A route file (JSON, see ``data/routes/demo_route.json``) lists waypoints ``{t_s, lat, lon, alt_m, gnss,
signal: {"401-02": {tech, rsrp_dbm, …}}}`` and events ``{kind: vanish|no_fix|slow|garble, operator,
from_s, to_s}``. Positions and signal levels are interpolated linearly between waypoints when the
technology stays the same; otherwise the earlier waypoint holds until the next one. A
:class:`SimClock` maps wall time to scenario time with a speed factor, so a one-hour drive can
run in a minute (``speed=60``).
"""

from __future__ import annotations

import bisect
import json
import math
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ScenarioError
from .values import data_text

_SIGNAL_KEYS = ("rsrp_dbm", "rsrq_db", "sinr_db", "rssi_dbm", "rscp_dbm", "ecio_db")


class NrSignal(BaseModel):
    """The NR leg of an EN-DC (NSA) connection."""

    model_config = ConfigDict(extra="forbid")
    rsrp_dbm: float | None = None
    rsrq_db: float | None = None
    sinr_db: float | None = None
    pci: int | None = None
    channel: int | None = None
    band: str | None = None


class Signal(BaseModel):
    """Radio conditions of one operator at one point. ``tech`` ``none`` = no service."""

    model_config = ConfigDict(extra="forbid")
    tech: Literal["none", "GSM", "UMTS", "LTE", "NR-NSA", "NR-SA"] = "none"
    rsrp_dbm: float | None = None
    rsrq_db: float | None = None
    sinr_db: float | None = None
    rssi_dbm: float | None = None
    rscp_dbm: float | None = None
    ecio_db: float | None = None
    tac: int | None = None
    lac: int | None = None
    cell_id: int | None = None
    pci: int | None = None
    channel: int | None = None
    band: str | None = None
    nr: NrSignal | None = None


class Waypoint(BaseModel):
    """A timed position (WGS84 degrees, metres) with the signal of each operator (key ``MCC-MNC``)."""

    model_config = ConfigDict(extra="forbid")
    t_s: float = Field(ge=0)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    alt_m: float = 0.0
    gnss: bool = True
    kato: str | None = None
    place: str | None = None
    signal: dict[str, Signal] = Field(default_factory=dict)


class Event(BaseModel):
    """A timed disturbance: ``vanish`` (device disappears), ``no_fix`` (GNSS), ``slow`` (answer delay),
    ``garble`` (noise bytes in answers). ``operator`` None = every device."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["vanish", "no_fix", "slow", "garble"]
    from_s: float
    to_s: float
    operator: str | None = None
    delay_s: float = 0.0
    note: str | None = None


class Route(BaseModel):
    """A whole scenario: waypoints sorted by ``t_s`` and events."""

    model_config = ConfigDict(extra="allow")
    name: str = ""
    license: str | None = None
    start_utc: datetime = datetime(2026, 1, 1, tzinfo=timezone.utc)
    operators: dict[str, str] = Field(default_factory=dict)
    waypoints: list[Waypoint] = Field(min_length=1)
    events: list[Event] = Field(default_factory=list)

    @property
    def duration_s(self) -> float:
        """Scenario time of the last waypoint, seconds."""
        return self.waypoints[-1].t_s

    def position_at(self, t_s: float) -> tuple[float, float, float, float, float, bool]:
        """``(lat, lon, alt_m, speed_mps, course_deg, gnss_ok)`` at scenario time ``t_s`` (clamped)."""
        a, b, f = self._segment(t_s)
        lat = a.lat + (b.lat - a.lat) * f
        lon = a.lon + (b.lon - a.lon) * f
        alt = a.alt_m + (b.alt_m - a.alt_m) * f
        dt = b.t_s - a.t_s
        speed = course = 0.0
        if dt > 0 and b is not a and 0 <= t_s <= self.duration_s:
            dn = (b.lat - a.lat) * 111_320.0
            de = (b.lon - a.lon) * 111_320.0 * math.cos(math.radians((a.lat + b.lat) / 2))
            speed = math.hypot(dn, de) / dt
            course = (math.degrees(math.atan2(de, dn)) + 360.0) % 360.0
        ok = a.gnss and not self.active(t_s, "no_fix", None)
        return lat, lon, alt, speed, course, ok

    def signal_at(self, t_s: float, operator: str) -> Signal:
        """The signal of ``operator`` at ``t_s``; no service where the route does not mention it."""
        a, b, f = self._segment(t_s)
        sa = a.signal.get(operator, Signal())
        sb = b.signal.get(operator, Signal())
        if sa.tech != sb.tech or f == 0:
            return sa
        upd = {}
        for k in _SIGNAL_KEYS:
            va, vb = getattr(sa, k), getattr(sb, k)
            if va is not None and vb is not None:
                upd[k] = round(va + (vb - va) * f, 1)
        return sa.model_copy(update=upd)

    def active(self, t_s: float, kind: str, operator: str | None) -> Event | None:
        """The first event of ``kind`` active at ``t_s`` for ``operator`` (or for all devices)."""
        for e in self.events:
            if e.kind == kind and e.from_s <= t_s < e.to_s and (e.operator is None or e.operator == operator):
                return e
        return None

    def _segment(self, t_s: float) -> tuple[Waypoint, Waypoint, float]:
        wps = self.waypoints
        times = [w.t_s for w in wps]
        if t_s <= times[0]:
            return wps[0], wps[0], 0.0
        if t_s >= times[-1]:
            return wps[-1], wps[-1], 0.0
        i = bisect.bisect_right(times, t_s) - 1
        a, b = wps[i], wps[i + 1]
        return a, b, (t_s - a.t_s) / (b.t_s - a.t_s) if b.t_s > a.t_s else 0.0


def load_route(path: str | Path | None = None) -> Route:
    """Load a route file; None loads the bundled ``demo_route.json``.

    :raises ScenarioError: unreadable file or invalid content (the message names the file and field).
    """
    try:
        text = data_text("routes/demo_route.json") if path is None else Path(path).read_text(encoding="utf-8")
        route = Route.model_validate(json.loads(text))
    except (OSError, ValueError, ValidationError) as exc:
        raise ScenarioError(f"route {path or 'demo_route.json'}: {exc}") from exc
    if any(b.t_s < a.t_s for a, b in zip(route.waypoints, route.waypoints[1:])):
        raise ScenarioError(f"route {path}: waypoints are not sorted by t_s")
    return route


def static_route(signal: dict[str, Signal] | None = None, lat: float = 43.301946, lon: float = 68.27037) -> Route:
    """A one-point route (default: Turkestan, good LTE for every KZ operator) for tests and quick starts."""
    if signal is None:
        signal = {op: Signal(tech="LTE", rsrp_dbm=-90, rsrq_db=-10, sinr_db=12, rssi_dbm=-62, tac=0x1A2B,
                             cell_id=0x0EF4A08, pci=123, channel=1300, band="B3")
                  for op in ("401-01", "401-02", "401-07", "401-77")}
    return Route(name="static", waypoints=[Waypoint(t_s=0, lat=lat, lon=lon, alt_m=230, signal=signal)])


class SimClock:
    """Scenario time = (wall time since start) x ``speed`` + ``offset_s``; also a UTC timestamp.

    Thread-safe; :meth:`set` jumps to a scenario time (tests use it instead of sleeping).
    """

    def __init__(self, speed: float = 1.0, start_utc: datetime | None = None, offset_s: float = 0.0) -> None:
        if speed <= 0:
            raise ScenarioError(f"speed factor must be > 0, got {speed}")
        self.speed = speed
        self.start_utc = start_utc or datetime.now(timezone.utc)
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self._offset = offset_s

    def now_s(self) -> float:
        """Scenario seconds since the start."""
        with self._lock:
            return self._offset + (time.monotonic() - self._t0) * self.speed

    def set(self, t_s: float) -> None:
        """Jump to scenario time ``t_s``."""
        with self._lock:
            self._offset, self._t0 = t_s, time.monotonic()

    def utc(self) -> datetime:
        """The scenario's current UTC time."""
        return self.start_utc + timedelta(seconds=self.now_s())
