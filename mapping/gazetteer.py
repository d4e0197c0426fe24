"""The settlement gazetteer: loading and checking ``settlements.geojson``, look-up and search.

A :class:`Settlement` is one KATO populated place of the gazetteer's regions (by default the
inspection's territory: Shymkent city 79, Zhambyl 31, Turkistan 61 and Kyzylorda 43). Its position (WGS84
degrees) is the point matched from OpenStreetMap or GeoNames, or ``None`` where no source point
was found: a position is never invented.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal, Optional

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from .. import package_path, validation_message
from .errors import GazetteerError
from .names import region_name_matches, search_key

Kind = Literal["city", "settlement_town", "village", "railway_station", "other"]
POPULATED_KINDS: tuple[str, ...] = ("city", "settlement_town", "village")
#: Row labels of district roll-ups: one row per region (under its KATO code), one for all regions.
REGION_TOTAL_KK = "{} бойынша барлығы"
REGION_TOTAL_RU = "Итого: {}"
TOTAL_KATO = "000000000"


def default_gazetteer_path() -> Path:
    """The bundled ``settlements.geojson``."""
    return package_path("settlements.geojson")


class Settlement(BaseModel):
    """One settlement of the KATO classifier, with its matched position (degrees, WGS84)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kato: str = Field(pattern=r"^\d{9}$", description="9-digit KATO code, kept as text")
    name_kk: str = Field(min_length=1)
    name_ru: str = Field(min_length=1)
    name_latin: Optional[str] = None
    kind: Kind
    kato_name_kk: str = Field(min_length=1, description="Kazakh name as written in KATO, with type marker")
    kato_name_ru: str = Field(min_length=1, description="Russian name as written in KATO, with type marker")
    region_kato: str = Field(pattern=r"^\d{2}0000000$", description="KATO code of the region (oblast row)")
    region_name_kk: str = Field(min_length=1)
    region_name_ru: str = Field(min_length=1)
    district_kato: str = Field(pattern=r"^\d{9}$", description="the unit: district, city of regional "
                               "significance, or a city district of Shymkent")
    district_name_kk: str = Field(min_length=1)
    district_name_ru: str = Field(min_length=1)
    rural_okrug_kato: Optional[str] = Field(default=None, pattern=r"^\d{6}000$")
    rural_okrug_name_kk: Optional[str] = None
    rural_okrug_name_ru: Optional[str] = None
    population: Optional[int] = Field(default=None, ge=0, description="persons; see population_source")
    population_source: Optional[str] = None
    coord_source: Optional[Literal["osm", "geonames"]] = None
    coord_source_id: Optional[str] = None
    match_method: Optional[str] = None
    okrug_median_km: Optional[float] = Field(default=None, ge=0, description="km from the okrug's median point")
    kato_version: str
    lat: Optional[float] = Field(default=None, ge=-90, le=90, description="latitude, degrees WGS84")
    lon: Optional[float] = Field(default=None, ge=-180, le=180, description="longitude, degrees WGS84")

    @field_validator("name_kk", "name_ru")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v

    @field_validator("region_kato")
    @classmethod
    def _region_of_kato(cls, v: str, info: ValidationInfo) -> str:
        kato = info.data.get("kato")
        if kato and kato[:2] != v[:2]:
            raise ValueError(f"{v} is not the region of KATO code {kato} (expected {kato[:2]}0000000)")
        return v

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None

    @property
    def populated(self) -> bool:
        """A city, town or village (not a railway siding or farm object)."""
        return self.kind in POPULATED_KINDS

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump()


@dataclass(frozen=True)
class _SearchEntry:
    keys: tuple[str, ...]
    settlement: Settlement


def _parse_feature(path: Path, index: int, feature: Any) -> Settlement:
    where = f"{path}: feature #{index}"
    if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
        raise GazetteerError(f"{where}: not a GeoJSON feature with 'properties'")
    props = dict(feature["properties"])
    kato = props.get("kato")
    if kato is not None:
        where += f" (kato {kato})"
    geometry = feature.get("geometry")
    if geometry is not None:
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if (not isinstance(geometry, dict) or geometry.get("type") != "Point" or not isinstance(coords, list)
                or len(coords) < 2 or not all(isinstance(c, (int, float)) for c in coords[:2])):
            raise GazetteerError(f"{where}: field 'geometry' must be a Point with [lon, lat] or null")
        props["lon"], props["lat"] = float(coords[0]), float(coords[1])
    try:
        return Settlement(**props)
    except ValidationError as exc:
        rename = {"lat": "geometry (lat)", "lon": "geometry (lon)"}
        raise GazetteerError(validation_message(exc, where, rename=rename)) from None


class Gazetteer:
    """Settlements of one file, checked on load, with look-up by KATO code and name search."""

    def __init__(self, settlements: list[Settlement], path: Path | None = None, meta: dict[str, Any] | None = None):
        self.path = path
        self.meta = meta or {}
        self.settlements = settlements
        self._by_kato = {s.kato: s for s in settlements}

    @classmethod
    def load(cls, path: Path | str | None = None) -> "Gazetteer":
        """Load and check a settlements GeoJSON (default: the bundled one, cached)."""
        if path is None:
            return _default_gazetteer()
        return cls._read(Path(path))

    @classmethod
    def _read(cls, path: Path) -> "Gazetteer":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise GazetteerError(f"{path}: settlements file not found") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise GazetteerError(f"{path}: not valid UTF-8 JSON ({exc})") from None
        if (not isinstance(data, dict) or data.get("type") != "FeatureCollection"
                or not isinstance(data.get("features"), list)):
            raise GazetteerError(f"{path}: not a GeoJSON FeatureCollection")
        settlements = [_parse_feature(path, i, f) for i, f in enumerate(data["features"])]
        seen: set[str] = set()
        for i, s in enumerate(settlements):
            if s.kato in seen:
                raise GazetteerError(f"{path}: feature #{i} (kato {s.kato}): field 'kato' appears twice")
            seen.add(s.kato)
        return cls(settlements, path, {k: v for k, v in data.items() if k not in ("type", "features")})

    def __len__(self) -> int:
        return len(self.settlements)

    @cached_property
    def region_prefixes(self) -> tuple[str, ...]:
        """2-digit KATO prefixes of the regions, in the order the file lists them (else by code)."""
        listed = [r for r in self.meta.get("regions", []) if isinstance(r, str)]
        present = sorted({s.kato[:2] for s in self.settlements})
        return tuple([r for r in listed if r in present] + [r for r in present if r not in listed])

    @cached_property
    def regions(self) -> dict[str, tuple[str, str]]:
        """(Kazakh name, Russian name) of each region by its 9-digit KATO code, in file order."""
        names = {s.region_kato: (s.region_name_kk, s.region_name_ru) for s in self.settlements}
        return {p + "0000000": names[p + "0000000"] for p in self.region_prefixes}

    def resolve_regions(self, items: list[str] | tuple[str, ...] | None, option: str = "--region") -> tuple[str, ...]:
        """9-digit region codes from prefixes (``61``, ``610000000``) or Kazakh/Russian/Latin names
        (``Turkistan``, ``Жамбыл``); empty or None: every region. GazetteerError lists the valid ones."""
        if not items:
            return tuple(self.regions)
        out: list[str] = []
        for item in items:
            for part in str(item).split(","):
                code = self._region_of(part.strip())
                if code is None:
                    valid = "; ".join(f"{c[:2]} ({kk} / {ru})" for c, (kk, ru) in self.regions.items())
                    raise GazetteerError(f"{option}: {part.strip()!r} is not a region of the gazetteer; valid: {valid}")
                if code not in out:
                    out.append(code)
        return tuple(out)

    def _region_of(self, text: str) -> str | None:
        if text.isdigit():
            code = text[:2] + "0000000"
            return code if code in self.regions and (len(text) == 2 or text[2:].strip("0") == "") else None
        return next((code for code, names in self.regions.items() if region_name_matches(text, names)), None)

    def select(self, regions: list[str] | tuple[str, ...] | None) -> "Gazetteer":
        """A gazetteer of the given regions only (codes or names as :meth:`resolve_regions` takes)."""
        codes = set(self.resolve_regions(regions))
        if codes == set(self.regions):
            return self
        g = Gazetteer([s for s in self.settlements if s.region_kato in codes], self.path)
        g.meta = {**self.meta, "regions": [c[:2] for c in self.regions if c in codes]}
        return g

    def __iter__(self):
        return iter(self.settlements)

    def get(self, kato: str) -> Settlement:
        """The settlement with this KATO code; GazetteerError naming the file if there is none."""
        try:
            return self._by_kato[str(kato).strip()]
        except KeyError:
            raise GazetteerError(f"{self.path or 'gazetteer'}: no settlement with KATO code {kato!r}") from None

    @cached_property
    def _search_index(self) -> list[_SearchEntry]:
        return [_SearchEntry(tuple(k for k in {search_key(n) for n in (s.name_kk, s.name_ru, s.name_latin) if n}
                                   if k), s)
                for s in self.settlements]

    def search(self, text: str, limit: int = 20) -> list[Settlement]:
        """Settlements whose Kazakh, Russian or Latin name matches ``text``.

        Case, Kazakh letters versus their Russian look-alikes, and Cyrillic versus Latin spelling
        are ignored. Exact matches come first, then names starting with the text, then names
        containing it; cities before villages, then by KATO code.
        """
        key = search_key(text)
        if not key:
            return []
        kind_rank = {k: i for i, k in enumerate(("city", "settlement_town", "village", "railway_station", "other"))}
        hits = []
        for entry in self._search_index:
            rank = min((0 if k == key else 1 if k.startswith(key) else 2 for k in entry.keys if key in k), default=None)
            if rank is not None:
                s = entry.settlement
                hits.append((rank, kind_rank[s.kind], s.kato, s))
        hits.sort(key=lambda h: h[:3])
        return [h[3] for h in hits[:limit]]

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        """Column arrays of the located settlements: ``index`` (into ``settlements``), ``lat``,
        ``lon`` (degrees), ``population`` (persons, NaN when unknown) and ``kind``."""
        located = [i for i, s in enumerate(self.settlements) if s.located]
        return {
            "index": np.array(located, dtype=np.int64),
            "lat": np.array([self.settlements[i].lat for i in located], dtype=float),
            "lon": np.array([self.settlements[i].lon for i in located], dtype=float),
            "population": np.array([np.nan if self.settlements[i].population is None else self.settlements[i].population
                                    for i in located], dtype=float),
            "kind": np.array([self.settlements[i].kind for i in located], dtype=object),
        }


@lru_cache(maxsize=1)
def _default_gazetteer() -> Gazetteer:
    return Gazetteer._read(default_gazetteer_path())


def district_stats(gazetteer: Gazetteer, populated_only: bool = True) -> list[dict[str, Any]]:
    """Per unit, then per region, then (with several regions) for all: settlements total, with and without
    coordinates, and the located share in percent; units sorted by KATO within their region.

    Each row has ``level`` (``district``, ``region`` or ``total``) and the region's code and names.
    ``populated_only`` counts cities, towns and villages only (not stations or farm objects).
    """
    def blank(level: str, kato: str, kk: str, ru: str, region: Settlement | None) -> dict[str, Any]:
        return {"level": level, "region_kato": region.region_kato if region else None,
                "region_name_kk": region.region_name_kk if region else None,
                "region_name_ru": region.region_name_ru if region else None,
                "district_kato": kato, "district_name_kk": kk, "district_name_ru": ru,
                "total": 0, "with_coords": 0, "without_coords": 0, "located_pct": None}

    units: dict[str, dict[str, Any]] = {}
    regions: dict[str, dict[str, Any]] = {}
    total = blank("total", TOTAL_KATO, "Барлығы", "Итого", None)
    for s in gazetteer:
        if populated_only and not s.populated:
            continue
        unit = units.setdefault(s.district_kato, blank("district", s.district_kato, s.district_name_kk,
                                                       s.district_name_ru, s))
        region = regions.setdefault(s.region_kato, blank("region", s.region_kato,
                                                         REGION_TOTAL_KK.format(s.region_name_kk),
                                                         REGION_TOTAL_RU.format(s.region_name_ru), s))
        for row in (unit, region, total):
            row["total"] += 1
            row["with_coords" if s.located else "without_coords"] += 1
    out = []
    for code in sorted(regions, key=_region_order(gazetteer)):
        out += [units[k] for k in sorted(units) if units[k]["region_kato"] == code] + [regions[code]]
    if len(regions) > 1:
        out.append(total)
    for row in out:
        row["located_pct"] = round(100.0 * row["with_coords"] / row["total"], 1) if row["total"] else None
    return out


def _region_order(gazetteer: Gazetteer):
    """Sort key of region codes: the order the gazetteer was built in (its ``regions`` list), else by code."""
    order = {r + "0000000": i for i, r in enumerate(gazetteer.region_prefixes)}
    return lambda code: (order.get(code, len(order)), code)
