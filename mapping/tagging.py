"""Tag GPS fixes with the settlement they were taken in.

Rule (``mapping/data/tagging.toml``, versioned): each located settlement reaches a radius in metres
that grows with its kind and population; a fix belongs to the nearest settlement whose reach holds
it, so where two reaches overlap the nearer settlement wins, and a city can claim a fix that lies
closer to a small village outside the village's own reach.

Everything is vectorised: candidate pairs come from a numpy grid of the settlements' reach boxes
(:class:`.gridindex.BoxGrid`: no shapely point is built per fix), exact great-circle distances are
computed for those pairs only, and the nearest valid pair per fix is chosen by sorting. Whether a
fix lies in Kazakhstan is read from a raster of the outline, with an exact test only in edge cells
(:class:`.gridindex.AreaRaster`). There is no Python loop per fix.

A fix that cannot be tagged gets a reason instead of an exception: invalid coordinate (NaN or out
of range), outside Kazakhstan, or no settlement within reach.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pyproj
import shapely
from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import shape

from .. import load_model, package_path
from .errors import MappingError
from .gazetteer import Gazetteer
from .geodesy import degree_box, haversine_m
from .gridindex import AreaRaster, BoxGrid


class TagReason(IntEnum):
    """Why a fix got (or did not get) a settlement."""

    TAGGED = 0
    INVALID_COORDINATE = 1
    OUTSIDE_KAZAKHSTAN = 2
    NO_SETTLEMENT_IN_REACH = 3

    @property
    def text(self) -> str:
        return {0: "tagged", 1: "invalid coordinate (NaN or out of range)", 2: "outside Kazakhstan",
                3: "no settlement within reach"}[int(self)]


class _Reach(BaseModel):
    model_config = ConfigDict(extra="forbid")
    default_m: float = Field(gt=0, description="reach when the population is unknown, metres")
    min_m: float = Field(gt=0, description="smallest reach, metres")
    max_m: float = Field(gt=0, description="largest reach, metres")


class _TaggingFile(BaseModel):
    """The shape of ``tagging.toml``."""
    model_config = ConfigDict(extra="forbid")
    version: str
    valid_from: str
    per_sqrt_person_m: float = Field(gt=0, description="metres of reach per square root of a person")
    outside_tolerance_m: float = Field(ge=0, description="metres")
    kind: dict[str, _Reach]


@dataclass(frozen=True)
class TaggingRule:
    """Reach radii by kind and population (metres), from a versioned TOML file."""

    version: str
    valid_from: str
    per_sqrt_person_m: float
    outside_tolerance_m: float
    kinds: dict[str, dict[str, float]]

    @classmethod
    def load(cls, path: Path | str | None = None) -> "TaggingRule":
        path = Path(path) if path else package_path("mapping", "data", "tagging.toml")
        f = load_model(path, _TaggingFile, MappingError, "tagging rule file")
        kinds = {k: v.model_dump() for k, v in f.kind.items()}
        return cls(f.version, f.valid_from, f.per_sqrt_person_m, f.outside_tolerance_m, kinds)

    def reach_m(self, kind: np.ndarray, population: np.ndarray) -> np.ndarray:
        """Reach in metres for each settlement (kind strings, population with NaN for unknown)."""
        out = np.empty(len(kind), dtype=float)
        for k, spec in self.kinds.items():
            sel = kind == k
            pop = population[sel]
            by_pop = np.clip(self.per_sqrt_person_m * np.sqrt(np.nan_to_num(pop)), spec["min_m"], spec["max_m"])
            out[sel] = np.where(np.isnan(pop), spec["default_m"], by_pop)
        unknown = ~np.isin(kind, list(self.kinds))
        if unknown.any():
            raise MappingError(f"tagging rule {self.version}: no reach for kind(s) {sorted(set(kind[unknown]))}")
        return out


@dataclass(frozen=True)
class Tag:
    """The settlement one fix was taken in (``kato`` None when there is none, with ``reason``)."""

    kato: Optional[str]
    distance_m: Optional[float]
    reach_m: Optional[float]
    reason: TagReason
    rule_version: str

    def as_dict(self, gazetteer: Gazetteer | None = None) -> dict[str, Any]:
        d = {"kato": self.kato, "distance_m": self.distance_m, "reach_m": self.reach_m,
             "reason": self.reason.name.lower(), "reason_text": self.reason.text, "rule_version": self.rule_version}
        if gazetteer is not None and self.kato is not None:
            s = gazetteer.get(self.kato)
            d.update(name_kk=s.name_kk, name_ru=s.name_ru, district_kato=s.district_kato,
                     district_name_kk=s.district_name_kk, district_name_ru=s.district_name_ru,
                     region_kato=s.region_kato, region_name_kk=s.region_name_kk, region_name_ru=s.region_name_ru)
        return d


@dataclass(frozen=True)
class Tags:
    """Tags of many fixes as arrays of equal length.

    ``index``: row in ``Gazetteer.settlements`` or -1; ``distance_m``: metres to it (NaN when
    none); ``reach_m``: its reach (NaN when none); ``reason``: :class:`TagReason` codes.
    """

    index: np.ndarray
    distance_m: np.ndarray
    reach_m: np.ndarray
    reason: np.ndarray
    katos: np.ndarray  # KATO code per gazetteer row, for .kato
    rule_version: str

    def __len__(self) -> int:
        return len(self.index)

    @property
    def kato(self) -> np.ndarray:
        """KATO code per fix (object array, None where untagged)."""
        out = np.full(len(self.index), None, dtype=object)
        hit = self.index >= 0
        out[hit] = self.katos[self.index[hit]]
        return out

    def __getitem__(self, i: int) -> Tag:
        j = int(self.index[i])
        return Tag(kato=None if j < 0 else str(self.katos[j]),
                   distance_m=None if j < 0 else float(self.distance_m[i]),
                   reach_m=None if j < 0 else float(self.reach_m[i]),
                   reason=TagReason(int(self.reason[i])), rule_version=self.rule_version)


@lru_cache(maxsize=4)
def _country_area(path: str, tolerance_m: float) -> shapely.Geometry:
    """Kazakhstan's outline grown by ``tolerance_m`` metres (buffered in an equidistant plane)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    outline = shapely.union_all([shape(f["geometry"]) for f in data["features"]])
    c = outline.centroid
    aeqd = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={c.y:.4f} +lon_0={c.x:.4f} +datum=WGS84 +units=m")
    fwd = pyproj.Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)
    back = pyproj.Transformer.from_crs(aeqd, "EPSG:4326", always_xy=True)
    grown = shapely.transform(outline, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1])))
    grown = grown.buffer(tolerance_m, quad_segs=4).simplify(500)
    area = shapely.transform(grown, lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1])))
    shapely.prepare(area)
    return area


def _nearest_per_fix(fix: np.ndarray, site: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One pair per fix: the smallest distance, ties to the smallest site index. ``fix`` must be
    sorted (pairs come grouped by fix); linear time, no sort."""
    if not len(fix):
        return fix, site, d
    new = np.r_[True, fix[1:] != fix[:-1]]
    starts = np.flatnonzero(new)
    group = np.cumsum(new) - 1
    dmin = np.minimum.reduceat(d, starts)
    best = np.minimum.reduceat(np.where(d == dmin[group], site, np.iinfo(np.int64).max), starts)
    return fix[starts], best, dmin


@lru_cache(maxsize=4)
def _country_raster(path: str, tolerance_m: float) -> AreaRaster:
    return AreaRaster(_country_area(path, tolerance_m), cell_deg=0.1)


class Tagger:
    """Tags fixes against one gazetteer with one rule. Build once, call :meth:`tag` many times."""

    def __init__(self, gazetteer: Gazetteer, rule: TaggingRule | None = None, country_outline: Path | None = None):
        self.gazetteer = gazetteer
        self.rule = rule or TaggingRule.load()
        cols = gazetteer.arrays
        self._rows = cols["index"]
        self._lat, self._lon = cols["lat"], cols["lon"]
        self._reach = self.rule.reach_m(cols["kind"], cols["population"])
        self._katos = np.array([s.kato for s in gazetteer.settlements], dtype=object)
        x0, y0, x1, y1 = degree_box(self._lat, self._lon, self._reach)
        self._grid = BoxGrid(x0, y0, x1, y1)
        outline = country_outline or package_path("data", "sources", "kazakhstan_outline_2017.geojson")
        self._country = _country_raster(str(outline), self.rule.outside_tolerance_m)

    def tag(self, lat, lon) -> Tags:
        """Tag fixes given as arrays (or scalars) of latitude and longitude in degrees WGS84."""
        lat = np.atleast_1d(np.asarray(lat, dtype=float))
        lon = np.atleast_1d(np.asarray(lon, dtype=float))
        if lat.shape != lon.shape or lat.ndim != 1:
            raise MappingError(f"tag: latitude and longitude arrays differ in shape ({lat.shape} vs {lon.shape})")
        n = len(lat)
        reason = np.full(n, TagReason.NO_SETTLEMENT_IN_REACH, dtype=np.int8)
        valid = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        reason[~valid] = TagReason.INVALID_COORDINATE
        vi = np.flatnonzero(valid)
        inside = self._country.contains(lon[vi], lat[vi])
        reason[vi[~inside]] = TagReason.OUTSIDE_KAZAKHSTAN
        vi = vi[inside]

        index = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, np.nan)
        reach = np.full(n, np.nan)
        if len(vi) and len(self._reach):
            fix_pos, site = self._grid.pairs(lon[vi], lat[vi])
            fix = vi[fix_pos]
            d = haversine_m(lat[fix], lon[fix], self._lat[site], self._lon[site])
            ok = d <= self._reach[site]
            fix, site, d = fix[ok], site[ok], d[ok]
            fix, site, d = _nearest_per_fix(fix, site, d)
            index[fix] = self._rows[site]
            dist[fix] = d
            reach[fix] = self._reach[site]
            reason[fix] = TagReason.TAGGED
        return Tags(index, dist, reach, reason, self._katos, self.rule.version)

    def tag_one(self, lat: float, lon: float) -> Tag:
        """Tag a single fix."""
        return self.tag([lat], [lon])[0]
