"""Build ``settlements.geojson`` and the district polygons from the bundled source files.

Inputs (all in ``data/sources/``, see ``SOURCES.md`` there):

* ``kato_61.csv``: the official KATO classifier rows of Turkistan region: codes, levels, names.
  It decides which settlements exist, their names, district and rural okrug.
* ``turkistan_settlements_raw.csv``: the documented name match of every KATO populated place to an
  OpenStreetMap or GeoNames point (coordinates, Latin name, population tag, match method).
* ``osm_places_turkistan.geojson`` and ``wof_geonames_south_kazakhstan_localities.csv``: the points
  themselves; every coordinate taken from the match table is checked against its source point.
* ``south_kazakhstan_adm2_2017_geoboundaries_subset.geojson``: district polygons of 2017.

The output is byte-for-byte the same on every run: features sorted by KATO, fixed property
order, coordinates rounded to 6 decimals (about 0.1 m).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import defaultdict
from pathlib import Path
from statistics import median
from typing import Any

import shapely
from shapely.geometry import mapping, shape

from .. import package_path
from ..safeio import write_text
from .errors import GazetteerError
from .geodesy import haversine_m
from .names import clean_kato_name

REGION_PREFIX = "61"
COORD_DECIMALS = 6

#: Type markers of KATO Russian names -> our ``kind``. Anything else is "other" (farm sections,
#: shepherd houses, МТФ...). Cities sit at sub_district level in KATO, everything else at settlement.
KIND_BY_RU_PREFIX = [("г.", "city"), ("п.", "settlement_town"), ("с.", "village"),
                     ("ст.", "railway_station"), ("рзд.", "railway_station")]
POPULATED_KINDS = ("city", "settlement_town", "village")

PROPERTY_ORDER = [
    "kato", "name_kk", "name_ru", "name_latin", "kind", "kato_name_kk", "kato_name_ru",
    "district_kato", "district_name_kk", "district_name_ru",
    "rural_okrug_kato", "rural_okrug_name_kk", "rural_okrug_name_ru",
    "population", "population_source", "coord_source", "coord_source_id", "match_method",
    "okrug_median_km", "kato_version",
]


def default_sources() -> Path:
    return package_path("data", "sources")


def default_output() -> Path:
    return package_path("settlements.geojson")


def default_districts_output() -> Path:
    return package_path("mapping", "data", "districts.geojson")


def kind_of(name_ru: str) -> str:
    """Settlement kind from the type marker of its KATO Russian name."""
    name = name_ru.strip()
    for prefix, kind in KIND_BY_RU_PREFIX:
        if name.startswith(prefix):
            return kind
    return "other"


def _read_csv(path: Path, required: list[str]) -> list[dict[str, str]]:
    if not path.exists():
        raise GazetteerError(f"{path}: source file missing (run from a checkout, or pass --sources DIR)")
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise GazetteerError(f"{path}: missing column(s) {', '.join(missing)}")
        return list(reader)


def _read_kato(path: Path) -> dict[str, dict[str, str]]:
    rows = {}
    for line, row in enumerate(_read_csv(path, ["kato", "kato_version", "level", "type_code", "name_ru", "name_kk"]), start=2):
        code = row["kato"]
        if len(code) != 9 or not code.isdigit() or not code.startswith(REGION_PREFIX):
            raise GazetteerError(f"{path}:{line}: field 'kato' is {code!r}, expected 9 digits starting with 61")
        if code in rows:
            raise GazetteerError(f"{path}:{line}: field 'kato' {code} appears twice")
        rows[code] = row
    return rows


def _osm_points(path: Path) -> dict[str, tuple[float, float]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for f in data["features"]:
        p = f["properties"]
        kind = {"nodes": "node", "ways": "way", "relations": "relation"}.get(p["osm_type"], p["osm_type"])
        lon, lat = f["geometry"]["coordinates"]
        out[f"{kind}/{p['osm_id']}"] = (lat, lon)
    return out


def _wof_points(path: Path) -> dict[str, tuple[float, float]]:
    return {r["wof_id"]: (float(r["lat"]), float(r["lon"]))
            for r in _read_csv(path, ["wof_id", "lat", "lon"])}


def _source_point(coord_source: str, source_id: str, osm: dict, wof: dict) -> tuple[float, float] | None:
    if coord_source == "osm":
        return osm.get(source_id)
    if coord_source == "geonames":
        wof_id = source_id.rsplit("wof:", 1)[-1]
        return wof.get(wof_id)
    return None


def _populated_place(code: str, row: dict[str, str]) -> bool:
    return row["level"] == "settlement" or (row["level"] == "sub_district" and row["type_code"] == "1")


def _rural_okrug(code: str, kato: dict[str, dict[str, str]]) -> str | None:
    okrug = code[:6] + "000"
    if okrug != code and okrug in kato and kato[okrug]["level"] == "sub_district" and kato[okrug]["type_code"] != "1":
        return okrug
    return None


def _okrug_median_km(features: list[dict[str, Any]]) -> None:
    """Fill ``okrug_median_km``: distance from the median of the *other* located places of the okrug."""
    by_okrug = defaultdict(list)
    for f in features:
        p = f["properties"]
        if f["geometry"] and p["rural_okrug_kato"]:
            by_okrug[p["rural_okrug_kato"]].append(f)
    for members in by_okrug.values():
        for f in members:
            others = [g["geometry"]["coordinates"] for g in members if g is not f]
            if not others:
                continue
            mlon = median(c[0] for c in others)
            mlat = median(c[1] for c in others)
            lon, lat = f["geometry"]["coordinates"]
            f["properties"]["okrug_median_km"] = round(float(haversine_m(lat, lon, mlat, mlon)) / 1000, 1)


def build_features(sources: Path) -> list[dict[str, Any]]:
    """Settlement features (sorted by KATO) from the source folder; raises GazetteerError on any mismatch."""
    kato = _read_kato(sources / "kato_61.csv")
    match_path = sources / "turkistan_settlements_raw.csv"
    matches = {}
    for line, r in enumerate(_read_csv(match_path, ["kato", "name_kk", "name_ru", "name_latin", "lat", "lon",
                                                     "population", "population_source", "coord_source",
                                                     "coord_source_id", "match_method"]), start=2):
        code = r["kato"]
        if code not in kato:
            raise GazetteerError(f"{match_path}:{line}: field 'kato' {code} is not in kato_61.csv")
        if (r["name_kk"], r["name_ru"]) != (kato[code]["name_kk"], kato[code]["name_ru"]):
            raise GazetteerError(f"{match_path}:{line}: names of {code} differ from the KATO classifier")
        matches[code] = (line, r)
    osm = _osm_points(sources / "osm_places_turkistan.geojson")
    wof = _wof_points(sources / "wof_geonames_south_kazakhstan_localities.csv")

    features = []
    for code in sorted(kato):
        row = kato[code]
        if not _populated_place(code, row):
            continue
        district = code[:4] + "00000"
        if kato.get(district, {}).get("level") != "district":
            raise GazetteerError(f"kato_61.csv: settlement {code} has no district row {district}")
        okrug = _rural_okrug(code, kato)
        line, m = matches.get(code, (None, {}))
        geometry = None
        if m.get("lat"):
            lat, lon = round(float(m["lat"]), COORD_DECIMALS), round(float(m["lon"]), COORD_DECIMALS)
            src = _source_point(m["coord_source"], m["coord_source_id"], osm, wof)
            if src is None or abs(src[0] - lat) > 2e-6 or abs(src[1] - lon) > 2e-6:
                raise GazetteerError(f"{match_path}:{line}: coordinates of {code} do not match "
                                     f"{m['coord_source']} point {m['coord_source_id']!r}")
            geometry = {"type": "Point", "coordinates": [lon, lat]}
        props = {
            "kato": code,
            "name_kk": clean_kato_name(row["name_kk"]),
            "name_ru": clean_kato_name(row["name_ru"]),
            "name_latin": m.get("name_latin") or None,
            "kind": kind_of(row["name_ru"]),
            "kato_name_kk": row["name_kk"],
            "kato_name_ru": row["name_ru"],
            "district_kato": district,
            "district_name_kk": kato[district]["name_kk"],
            "district_name_ru": kato[district]["name_ru"],
            "rural_okrug_kato": okrug,
            "rural_okrug_name_kk": " ".join(kato[okrug]["name_kk"].split()) if okrug else None,
            "rural_okrug_name_ru": kato[okrug]["name_ru"] if okrug else None,
            "population": int(m["population"]) if m.get("population") else None,
            "population_source": (m.get("population_source") or None) if m.get("population") else None,
            "coord_source": (m.get("coord_source") or None) if geometry else None,
            "coord_source_id": (m.get("coord_source_id") or None) if geometry else None,
            "match_method": (m.get("match_method") or None) if geometry else None,
            "okrug_median_km": None,
            "kato_version": row["kato_version"],
        }
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    _okrug_median_km(features)
    for f in features:
        f["properties"] = {k: f["properties"][k] for k in PROPERTY_ORDER}
    return features


def _round_coords(obj: Any, decimals: int) -> Any:
    if isinstance(obj, float):
        return round(obj, decimals)
    if isinstance(obj, (list, tuple)):
        return [_round_coords(v, decimals) for v in obj]
    return obj


def build_districts(sources: Path, features: list[dict[str, Any]], kato: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """The 17 current units as polygons: 2017 polygons where the unit kept its own, and an
    approximation where one 2017 polygon now holds several units (Voronoi cells of each unit's
    settlements, clipped to the 2017 polygon). Every feature says which it is."""
    path = sources / "south_kazakhstan_adm2_2017_geoboundaries_subset.geojson"
    old = json.loads(path.read_text(encoding="utf-8"))["features"]
    points_by_unit = defaultdict(list)
    for f in features:
        if f["geometry"]:
            points_by_unit[f["properties"]["district_kato"]].append(f["geometry"]["coordinates"])
    out = []
    for f in old:
        units = [u.split()[0] for u in f["properties"]["current_units_kato_2025"] if u[:2] == REGION_PREFIX]
        if not units:
            continue  # Shymkent: not part of Turkistan region since 2018
        polygon = shape(f["geometry"])
        if len(units) == 1:
            pieces = {units[0]: polygon}
        else:
            seeds, owner = [], []
            for u in units:
                for lon, lat in points_by_unit[u]:
                    seeds.append((lon, lat))
                    owner.append(u)
            cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=polygon.envelope, ordered=True)
            parts = defaultdict(list)
            for cell, u in zip(shapely.get_parts(cells), owner):
                parts[u].append(cell)
            pieces = {u: shapely.union_all(parts[u]).intersection(polygon) for u in units}
        for u, geom in pieces.items():
            exact = len(units) == 1
            geom = shapely.set_precision(geom, 1e-5)
            out.append({"type": "Feature", "properties": {
                "district_kato": u,
                "name_kk": kato[u]["name_kk"],
                "name_ru": kato[u]["name_ru"],
                "boundary": "historical-2017" if exact else "approximate",
                "historical": True,
                "approximate": not exact,
                "source_shape": f["properties"]["shapeName"],
                "note": ("geoBoundaries gbOpen KAZ ADM2, boundaryYear 2017 (OSM/Wambacher, ODbL): boundary before the 2018 reform"
                         if exact else
                         "APPROXIMATE: the 2017 polygon '" + f["properties"]["shapeName"] + "' split between "
                         + ", ".join(units) + " by Voronoi cells of their settlements; not an official boundary"),
            }, "geometry": _round_coords(mapping(geom), 5)})
    out.sort(key=lambda f: f["properties"]["district_kato"])
    return out


def _feature_collection_text(features: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """GeoJSON with one feature per line: stable bytes, readable diffs."""
    head = json.dumps({k: v for k, v in meta.items()}, ensure_ascii=False)[:-1]
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    return head + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"


def build_settlements(sources: Path | None = None, out: Path | None = None,
                      districts_out: Path | None = None) -> dict[str, Any]:
    """Write settlements.geojson and districts.geojson; return paths, counts and the sha256."""
    sources = Path(sources) if sources else default_sources()
    out = Path(out) if out else default_output()
    districts_out = Path(districts_out) if districts_out else (
        out.with_name("districts.geojson") if out != default_output() else default_districts_output())
    features = build_features(sources)
    kato = _read_kato(sources / "kato_61.csv")
    districts = build_districts(sources, features, kato)
    version = next(iter(kato.values()))["kato_version"]
    text = _feature_collection_text(features, {
        "type": "FeatureCollection",
        "name": "qamtu-settlements-61",
        "kato_version": version,
        "attribution": "KATO classifier NK RK 11-2025, Bureau of National Statistics (stat.gov.kz); "
                       "coordinates © OpenStreetMap contributors (ODbL 1.0) and GeoNames (CC BY 4.0) via Who's On First",
        "license": "ODbL-1.0 (derivative database of OpenStreetMap data)",
    })
    write_text(out, text, what="gazetteer")
    dtext = _feature_collection_text(districts, {
        "type": "FeatureCollection",
        "name": "qamtu-districts-61",
        "attribution": "geoBoundaries gbOpen KAZ ADM2 (boundaryYear 2017, OpenStreetMap/Wambacher), ODbL 1.0; "
                       "units split since 2018 approximated by Qamtu (see each feature's note)",
        "license": "ODbL-1.0",
    })
    write_text(districts_out, dtext, what="districts file")
    return {
        "path": str(out),
        "features": len(features),
        "with_coordinates": sum(1 for f in features if f["geometry"]),
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "districts_path": str(districts_out),
        "districts": len(districts),
        "districts_approximate": sum(1 for d in districts if d["properties"]["approximate"]),
    }
