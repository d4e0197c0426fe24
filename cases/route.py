"""Ordering the settlements of a field trip: nearest neighbour plus 2-opt over great-circle distance.

There is no road network here, so the route is a closed tour office -> stops -> office ordered on
great-circle distances (metres, :func:`qamtu.mapping.geodesy.haversine_m`). Nearest neighbour
gives a first tour; 2-opt then reverses segments while that shortens the tour, so the result is
never longer than the nearest-neighbour tour. Driving time is an estimate: kilometres x road
factor / speed, with the defaults of ``data/route.toml``. The tour is cut into working days in
order: a day ends before the stop that would make it longer than the working day (driving back to
the office included). All functions are pure.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..mapping.geodesy import haversine_m
from .errors import CasesError
from .matching import data_path


@dataclass(frozen=True)
class RouteDefaults:
    """Planning estimates: speed (km/h), road factor (road km / great-circle km), working day and
    default stop length (minutes)."""

    speed_kmh: float
    road_factor: float
    day_minutes: float
    stop_minutes: float


@lru_cache(maxsize=4)
def load_defaults(path: Path | None = None) -> RouteDefaults:
    """The ``[route]`` table of ``route.toml``; CasesError naming the file and field."""
    path = path or data_path("route.toml")
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))["route"]
        values = {k: float(table[k]) for k in RouteDefaults.__dataclass_fields__}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CasesError(f"{path}: cannot read the route defaults ({exc})") from None
    except KeyError as exc:
        raise CasesError(f"{path}: field 'route.{exc.args[0]}' is missing") from None
    except (TypeError, ValueError) as exc:
        raise CasesError(f"{path}: [route] values must be numbers ({exc})") from None
    for k, v in values.items():
        if not v > 0:
            raise CasesError(f"{path}: field 'route.{k}' must be > 0, got {v}")
    return RouteDefaults(**values)


@dataclass(frozen=True)
class Stop:
    """A settlement to visit: id (e.g. KATO code), position (degrees WGS84), minutes spent there."""

    id: str
    lat: float
    lon: float
    minutes: float | None = None


@dataclass(frozen=True)
class Leg:
    """One drive: from and to (stop ids, ``"office"`` for the office), great-circle km, estimated minutes."""

    start: str
    end: str
    km: float
    drive_minutes: float


@dataclass(frozen=True)
class Day:
    """One working day: office -> stops -> office."""

    number: int
    stops: tuple[str, ...]
    legs: tuple[Leg, ...]
    km: float
    drive_minutes: float
    stop_minutes: float
    over_length: bool = False   # a single stop that does not fit a working day even alone

    @property
    def total_minutes(self) -> float:
        return self.drive_minutes + self.stop_minutes


@dataclass(frozen=True)
class Route:
    """The ordered trip: stop ids in visiting order, legs of the whole tour, days, and the parameters."""

    order: tuple[str, ...]
    legs: tuple[Leg, ...]
    km: float
    drive_minutes: float
    days: tuple[Day, ...]
    speed_kmh: float
    road_factor: float
    day_minutes: float
    nn_km: float = field(default=0.0)   # tour length of the nearest-neighbour start, for comparison

    def __iter__(self):
        """The stop ids in visiting order."""
        return iter(self.order)

    def as_dict(self) -> dict[str, Any]:
        def leg(x: Leg) -> dict[str, Any]:
            return {"from": x.start, "to": x.end, "km": round(x.km, 2), "drive_minutes": round(x.drive_minutes, 1)}
        return {"order": list(self.order), "km": round(self.km, 2), "drive_minutes": round(self.drive_minutes, 1),
                "legs": [leg(x) for x in self.legs], "speed_kmh": self.speed_kmh, "road_factor": self.road_factor,
                "day_minutes": self.day_minutes, "estimate": True,
                "days": [{"day": d.number, "stops": list(d.stops), "km": round(d.km, 2),
                          "drive_minutes": round(d.drive_minutes, 1), "stop_minutes": round(d.stop_minutes, 1),
                          "total_minutes": round(d.total_minutes, 1), "over_length": d.over_length,
                          "legs": [leg(x) for x in d.legs]} for d in self.days]}


def distance_matrix(lats: Sequence[float], lons: Sequence[float]) -> np.ndarray:
    """Great-circle distances in metres between every pair of points (degrees)."""
    lat = np.asarray(lats, dtype=float)
    lon = np.asarray(lons, dtype=float)
    return haversine_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :])


def tour_length(order: Sequence[int], dm: np.ndarray) -> float:
    """Length (same unit as ``dm``) of the closed tour 0 -> order... -> 0; index 0 is the office."""
    path = [0, *order, 0]
    return float(sum(dm[a, b] for a, b in zip(path, path[1:])))


def nearest_neighbour(dm: np.ndarray) -> list[int]:
    """Visiting order of points 1..n-1 starting from point 0, always to the nearest unvisited one
    (ties: the lower index)."""
    n = dm.shape[0]
    left = set(range(1, n))
    order, here = [], 0
    while left:
        here = min(left, key=lambda j: (dm[here, j], j))
        order.append(here)
        left.remove(here)
    return order


def two_opt(order: Sequence[int], dm: np.ndarray, max_passes: int = 100) -> list[int]:
    """Improve a closed tour (office 0 fixed) by reversing segments while that shortens it.

    Each accepted move shortens the tour by more than 1e-9 of its unit, so the result is never
    longer than ``order`` and the loop ends.
    """
    path = [0, *order, 0]
    n = len(path)
    for _ in range(max_passes):
        improved = False
        for i in range(1, n - 2):
            for k in range(i + 1, n - 1):
                a, b, c, d = path[i - 1], path[i], path[k], path[k + 1]
                delta = dm[a, c] + dm[b, d] - dm[a, b] - dm[c, d]
                if delta < -1e-9:
                    path[i:k + 1] = reversed(path[i:k + 1])
                    improved = True
        if not improved:
            break
    return path[1:-1]


def _check_point(what: str, lat: float, lon: float) -> None:
    if not (isinstance(lat, (int, float)) and isinstance(lon, (int, float))
            and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise CasesError(f"route: {what} has no valid position (lat {lat!r}, lon {lon!r}); locate it first")


def _as_stop(stop: Stop | Sequence[Any]) -> Stop:
    if isinstance(stop, Stop):
        return stop
    try:
        sid, lat, lon, *rest = stop
    except (TypeError, ValueError):
        raise CasesError(f"route: a stop is a Stop or (id, lat, lon[, minutes]), got {stop!r}") from None
    return Stop(str(sid), lat, lon, rest[0] if rest else None)


def plan_route(office: tuple[float, float], stops: Sequence[Stop | Sequence[Any]], speed_kmh: float | None = None,
               day_minutes: float | None = None, road_factor: float | None = None,
               stop_minutes: float | None = None) -> Route:
    """Order ``stops`` from ``office`` (lat, lon degrees) and cut the tour into working days.

    A stop is a :class:`Stop` or a tuple ``(id, lat, lon[, minutes])``; iterating the returned
    :class:`Route` gives the stop ids in visiting order.

    ``speed_kmh`` (km/h), ``road_factor``, ``day_minutes`` and ``stop_minutes`` (minutes, used for
    stops without their own) default to ``data/route.toml``; all are estimates.
    """
    defaults = load_defaults()
    speed = defaults.speed_kmh if speed_kmh is None else float(speed_kmh)
    factor = defaults.road_factor if road_factor is None else float(road_factor)
    day_len = defaults.day_minutes if day_minutes is None else float(day_minutes)
    per_stop = defaults.stop_minutes if stop_minutes is None else float(stop_minutes)
    for name, value in (("speed_kmh", speed), ("road_factor", factor), ("day_minutes", day_len)):
        if not value > 0:
            raise CasesError(f"route: {name} must be > 0, got {value}")
    if per_stop < 0:
        raise CasesError(f"route: stop_minutes must be >= 0, got {per_stop}")
    _check_point("the office", *office)
    checked = [_as_stop(s) for s in stops]
    ids = [s.id for s in checked]
    if len(set(ids)) != len(ids) or "office" in ids:
        raise CasesError("route: stop ids must be unique and not 'office'")
    for s in checked:
        _check_point(f"stop {s.id}", s.lat, s.lon)
        if s.minutes is not None and s.minutes < 0:
            raise CasesError(f"route: stop {s.id}: minutes must be >= 0, got {s.minutes}")
    if not checked:
        return Route((), (), 0.0, 0.0, (), speed, factor, day_len)
    dm = distance_matrix([office[0], *(s.lat for s in checked)], [office[1], *(s.lon for s in checked)])
    nn = nearest_neighbour(dm)
    order = two_opt(nn, dm)
    names = ["office", *ids]
    minutes = [0.0, *(per_stop if s.minutes is None else float(s.minutes) for s in checked)]

    def leg(a: int, b: int) -> Leg:
        km = float(dm[a, b]) / 1000.0
        return Leg(names[a], names[b], km, km * factor / speed * 60.0)

    path = [0, *order, 0]
    legs = tuple(leg(a, b) for a, b in zip(path, path[1:]))
    days: list[Day] = []
    current: list[int] = []

    def day_of(members: list[int]) -> Day:
        p = [0, *members, 0]
        dl = tuple(leg(a, b) for a, b in zip(p, p[1:]))
        drive = sum(x.drive_minutes for x in dl)
        at = sum(minutes[i] for i in members)
        return Day(len(days) + 1, tuple(names[i] for i in members), dl, sum(x.km for x in dl), drive, at,
                   over_length=drive + at > day_len)

    for i in order:
        trial = day_of(current + [i])
        if current and trial.total_minutes > day_len:
            days.append(day_of(current))
            current = [i]
        else:
            current.append(i)
    days.append(day_of(current))
    return Route(tuple(names[i] for i in order), legs, sum(x.km for x in legs), sum(x.drive_minutes for x in legs),
                 tuple(days), speed, factor, day_len, nn_km=tour_length(nn, dm) / 1000.0)
