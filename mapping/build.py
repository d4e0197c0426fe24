"""Build ``settlements.geojson``, the district and the region polygons from the bundled source files.

Inputs (all in ``data/sources/``, see ``SOURCES.md`` there; ``extract_from_shared.py`` makes the
same files for the whole country in another folder):

* ``kato.csv``: the official KATO classifier rows of the regions: codes, levels, names. It decides
  which settlements exist, their names, region, district and rural okrug.
* ``turkistan_settlements_raw.csv``: the curated name match of every Turkistan (61) populated place
  to an OpenStreetMap or GeoNames point (coordinates, Latin name, population tag, match method).
* ``osm_places.geojson`` and ``wof_geonames_localities.csv``: the points themselves. Every
  coordinate of the curated table is checked against its source point; every other place is
  matched by :mod:`.pointmatch` against these points and the 2024 unit polygons.
* ``kaz_adm2_geokz_2024.geojson``: the 2024 district polygons with KATO codes (geokz, CC BY 4.0).

The output is byte-for-byte the same on every run: features sorted by KATO, fixed property
order, coordinates rounded to 6 decimals (about 0.1 m) for points and 5 (about 1 m) for polygons.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import defaultdict
from pathlib import Path
from statistics import median
from typing import Any, Iterable

import shapely
from shapely.geometry import mapping, shape

from .. import package_path
from ..safeio import write_text
from .errors import GazetteerError
from .geodesy import haversine_m
from .names import clean_kato_name, region_name_matches
from .pointmatch import PLACE_RANK, UNIT_BUFFER_DEG, Place, SourcePoint, match_key, match_places

#: The inspection's territory: Shymkent city, Zhambyl, Turkistan and Kyzylorda regions.
TERRITORY = ("79", "31", "61", "43")
COORD_DECIMALS = 6
POLYGON_DECIMALS = 5
#: Polygons are simplified by this many degrees (about 100 m) to keep maps light.
SIMPLIFY_DEG = 0.001
CURATED_MATCHES = "turkistan_settlements_raw.csv"

#: Units that have no 2024 polygon of their own, and the polygon they lie inside. Their share of
#: it is approximated (Voronoi cells of each unit's located settlements, clipped to the polygon).
SPLIT_FROM = {"615500000": "612000000"}  # Sauran lies inside the geokz polygon labelled Kentau

#: Type markers of KATO Russian names -> our ``kind``. Anything else is "other" (farm sections,
#: shepherd houses, МТФ...). Cities sit at sub_district level in KATO, everything else at settlement.
KIND_BY_RU_PREFIX = [("г.", "city"), ("п.", "settlement_town"), ("с.", "village"),
                     ("ст.", "railway_station"), ("рзд.", "railway_station")]
POPULATED_KINDS = ("city", "settlement_town", "village")

PROPERTY_ORDER = [
    "kato", "name_kk", "name_ru", "name_latin", "kind", "kato_name_kk", "kato_name_ru",
    "region_kato", "region_name_kk", "region_name_ru",
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


def default_regions_output() -> Path:
    return package_path("mapping", "data", "regions.geojson")


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


def _read_json(path: Path) -> Any:
    if not path.exists():
        raise GazetteerError(f"{path}: source file missing (run from a checkout, or pass --sources DIR)")
    return json.loads(path.read_text(encoding="utf-8"))


def read_kato(path: Path) -> dict[str, dict[str, str]]:
    """KATO rows by code; GazetteerError naming the line of a malformed or repeated code."""
    rows = {}
    for line, row in enumerate(_read_csv(path, ["kato", "kato_version", "level", "type_code", "name_ru", "name_kk"]),
                               start=2):
        code = row["kato"]
        if len(code) != 9 or not code.isdigit():
            raise GazetteerError(f"{path}:{line}: field 'kato' is {code!r}, expected 9 digits")
        if code in rows:
            raise GazetteerError(f"{path}:{line}: field 'kato' {code} appears twice")
        rows[code] = row
    return rows


def kato_regions(kato: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Oblast rows (regions and cities of republican significance) by 2-digit prefix."""
    return {code[:2]: row for code, row in sorted(kato.items()) if row["level"] == "oblast"}


def parse_regions(text: str | Iterable[str] | None, kato: dict[str, dict[str, str]]) -> tuple[str, ...]:
    """2-digit region prefixes from ``79,31``, region names, or ``all``; default: the territory.

    Raises GazetteerError listing the valid prefixes when one is unknown.
    """
    regions = kato_regions(kato)
    if text is None:
        wanted = [p for p in TERRITORY if p in regions] or sorted(regions)
        return tuple(wanted)
    items = [t.strip() for t in (text.split(",") if isinstance(text, str) else text) if t.strip()]
    if items == ["all"]:
        return tuple(sorted(regions))
    out = []
    for item in items:
        prefix = resolve_region(item, regions)
        if prefix is None:
            valid = ", ".join(f"{p} ({r['name_ru']})" for p, r in sorted(regions.items()))
            raise GazetteerError(f"--regions: {item!r} is not a region of the KATO file; valid: {valid}, or 'all'")
        if prefix not in out:
            out.append(prefix)
    return tuple(out)


def resolve_region(item: str, regions: dict[str, dict[str, str]]) -> str | None:
    """The prefix of a region given as a prefix (``61``, ``610000000``) or a Kazakh/Russian name."""
    item = item.strip()
    if item.isdigit():
        return item[:2] if item[:2] in regions and (len(item) == 2 or item[2:].strip("0") == "") else None
    return next((prefix for prefix, row in regions.items()
                 if region_name_matches(item, (row["name_ru"], row["name_kk"]))), None)


def city_region(row: dict[str, str]) -> bool:
    """A city of republican significance (Shymkent, Astana, Almaty): its oblast row is a city."""
    return row["name_ru"].strip().startswith("г.")


def region_units(kato: dict[str, dict[str, str]], prefix: str) -> list[str]:
    """Codes of the region's units: districts and cities of regional significance, or for a
    city of republican significance its city districts."""
    oblast = kato_regions(kato)[prefix]
    level = "sub_district" if city_region(oblast) else "district"
    return sorted(c for c, r in kato.items() if c[:2] == prefix and r["level"] == level)


def _populated_place(code: str, row: dict[str, str]) -> bool:
    name = row["name_ru"].strip()
    return (row["level"] == "settlement"
            or (row["level"] == "sub_district" and row["type_code"] == "1" and name.startswith("г."))
            or (row["level"] == "oblast" and name.startswith("г.")))


def _rural_okrug(code: str, kato: dict[str, dict[str, str]]) -> str | None:
    okrug = code[:6] + "000"
    if (okrug != code and okrug in kato and kato[okrug]["level"] == "sub_district"
            and not kato[okrug]["name_ru"].strip().startswith("г.")):
        return okrug
    return None


def _osm_points(path: Path) -> list[SourcePoint]:
    out = []
    for f in _read_json(path)["features"]:
        p = f["properties"]
        kind = {"nodes": "node", "ways": "way", "relations": "relation"}.get(p["osm_type"], p["osm_type"])
        lon, lat = f["geometry"]["coordinates"]
        keys = frozenset(k for k in (match_key(p.get(n) or "") for n in ("name", "name:kk", "name:ru")) if k)
        pop = str(p.get("population") or "").replace(" ", "")
        out.append(SourcePoint("osm", f"{kind}/{p['osm_id']}", lat, lon, keys, PLACE_RANK.get(p.get("place"), 5),
                               p.get("name:en") or None, int(pop) if pop.isdigit() else None))
    return out


def _wof_points(path: Path) -> list[SourcePoint]:
    out = []
    for r in _read_csv(path, ["wof_id", "geonameid", "name", "name_rus", "name_kaz", "lat", "lon"]):
        names = [n for col in ("name_rus", "name_kaz") for n in r[col].split("|")]
        keys = frozenset(k for k in (match_key(n) for n in names) if k)
        out.append(SourcePoint("geonames", f"geonames:{r['geonameid']} wof:{r['wof_id']}", float(r["lat"]),
                               float(r["lon"]), keys, 5, r["name"] or None, None))
    return out


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


def unit_polygons(sources: Path, units: Iterable[str]) -> dict[str, Any]:
    """The 2024 geokz polygon (shapely, degrees) of each unit that has one, by KATO code."""
    wanted = set(units) | {SPLIT_FROM[u] for u in units if u in SPLIT_FROM}
    out = {}
    for f in _read_json(sources / "kaz_adm2_geokz_2024.geojson")["features"]:
        code = f["properties"]["KATO"]
        if code in wanted:
            out[code] = shape(f["geometry"])
    return out


def _curated(sources: Path, kato: dict[str, dict[str, str]], osm: dict[str, SourcePoint],
             wof: dict[str, SourcePoint]) -> dict[str, dict[str, str]]:
    """The curated match table's rows by KATO code, each coordinate checked against its source point."""
    path = sources / CURATED_MATCHES
    if not path.exists():
        return {}
    out = {}
    prefixes = {c[:2] for c in kato}
    for line, r in enumerate(_read_csv(path, ["kato", "name_kk", "name_ru", "name_latin", "lat", "lon",
                                              "population", "population_source", "coord_source",
                                              "coord_source_id", "match_method"]), start=2):
        code = r["kato"]
        if code[:2] not in prefixes:
            continue  # the table's region is not in this KATO file
        if code not in kato:
            raise GazetteerError(f"{path}:{line}: field 'kato' {code} is not in the KATO file")
        if (r["name_kk"], r["name_ru"]) != (kato[code]["name_kk"], kato[code]["name_ru"]):
            raise GazetteerError(f"{path}:{line}: names of {code} differ from the KATO classifier")
        if r["lat"]:
            lat, lon = round(float(r["lat"]), COORD_DECIMALS), round(float(r["lon"]), COORD_DECIMALS)
            sid = r["coord_source_id"]
            src = osm.get(sid) if r["coord_source"] == "osm" else wof.get(sid.rsplit("wof:", 1)[-1])
            if src is None or abs(src.lat - lat) > 2e-6 or abs(src.lon - lon) > 2e-6:
                raise GazetteerError(f"{path}:{line}: coordinates of {code} do not match "
                                     f"{r['coord_source']} point {sid!r}")
        out[code] = r
    return out


def _props(code: str, kato: dict[str, dict[str, str]], region: str, district: str, okrug: str | None,
           m: dict[str, Any], located: bool) -> dict[str, Any]:
    row = kato[code]
    oblast = kato[region + "0000000"]
    return {
        "kato": code,
        "name_kk": clean_kato_name(row["name_kk"]),
        "name_ru": clean_kato_name(row["name_ru"]),
        "name_latin": m.get("name_latin") or None,
        "kind": kind_of(row["name_ru"]),
        "kato_name_kk": row["name_kk"],
        "kato_name_ru": row["name_ru"],
        "region_kato": oblast["kato"],
        "region_name_kk": oblast["name_kk"],
        "region_name_ru": oblast["name_ru"],
        "district_kato": district,
        "district_name_kk": kato[district]["name_kk"],
        "district_name_ru": kato[district]["name_ru"],
        "rural_okrug_kato": okrug,
        "rural_okrug_name_kk": " ".join(kato[okrug]["name_kk"].split()) if okrug else None,
        "rural_okrug_name_ru": kato[okrug]["name_ru"] if okrug else None,
        "population": int(m["population"]) if m.get("population") else None,
        "population_source": (m.get("population_source") or None) if m.get("population") else None,
        "coord_source": (m.get("coord_source") or None) if located else None,
        "coord_source_id": (m.get("coord_source_id") or None) if located else None,
        "match_method": (m.get("match_method") or None) if located else None,
        "okrug_median_km": None,
        "kato_version": row["kato_version"],
    }


def build_features(sources: Path, regions: Iterable[str] | str | None = None) -> list[dict[str, Any]]:
    """Settlement features (sorted by KATO) of ``regions`` (default: the territory); raises
    GazetteerError on any mismatch between the sources."""
    kato = read_kato(sources / "kato.csv")
    chosen = parse_regions(regions, kato)
    osm_list = _osm_points(sources / "osm_places.geojson")
    wof_list = _wof_points(sources / "wof_geonames_localities.csv")
    osm = {p.source_id: p for p in osm_list}
    wof = {p.source_id.rsplit("wof:", 1)[-1]: p for p in wof_list}
    curated = _curated(sources, kato, osm, wof)
    units = [u for r in chosen for u in region_units(kato, r)]
    polygons = unit_polygons(sources, units)

    places = []  # (code, region, district or None, okrug)
    for code in sorted(kato):
        if code[:2] not in chosen or not _populated_place(code, kato[code]):
            continue
        region = code[:2]
        if kato[code]["level"] == "oblast":
            district = None  # a city of republican significance: its district is the one holding its point
        else:
            district = code[:4] + "00000"
            if kato.get(district, {}).get("level") != "district":
                raise GazetteerError(f"{sources / 'kato.csv'}: settlement {code} has no district row {district}")
        places.append((code, region, district, _rural_okrug(code, kato)))

    taken = set()
    for r in curated.values():
        if r["lat"]:
            sid = r["coord_source_id"]
            taken.add(sid if r["coord_source"] == "osm" else wof[sid.rsplit("wof:", 1)[-1]].source_id)
    anchors: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for code, r in curated.items():
        okrug = _rural_okrug(code, kato)
        if r["lat"] and okrug:
            anchors[okrug].append((float(r["lat"]), float(r["lon"])))
    to_match = []
    areas: dict[str, Any] = {}  # buffered, prepared search area per unit (or per city region)

    def search_area(region: str, district: str | None) -> Any:
        key = district or region
        if key not in areas:
            if district is None:
                area = shapely.union_all([polygons[u] for u in region_units(kato, region) if u in polygons])
            else:
                area = polygons.get(SPLIT_FROM.get(district, district))
            if area is not None and not area.is_empty:
                area = area.buffer(UNIT_BUFFER_DEG)
                shapely.prepare(area)
            areas[key] = area
        return areas[key]

    for code, region, district, okrug in places:
        if code in curated:
            continue
        area = search_area(region, district)
        if area is None or area.is_empty:
            continue
        row = kato[code]
        keys = frozenset(k for k in (match_key(row["name_kk"]), match_key(row["name_ru"])) if k)
        to_match.append(Place(code, keys, okrug, area, kind_of(row["name_ru"]) == "city"))
    found = match_places(to_match, osm_list, wof_list, taken, anchors)

    features: list[dict[str, Any]] = []
    for code, region, district, okrug in places:
        m: dict[str, Any]
        if code in curated:
            m = dict(curated[code])
        elif code in found:
            pt = found[code].point
            m = {"lat": pt.lat, "lon": pt.lon, "name_latin": pt.name_latin, "coord_source": pt.source,
                 "coord_source_id": pt.source_id, "match_method": found[code].method,
                 "population": str(pt.population) if pt.population is not None else "",
                 "population_source": "OSM population tag (undated)" if pt.population is not None else ""}
        else:
            m = {}
        geometry = None
        if m.get("lat") not in (None, ""):
            lat, lon = round(float(m["lat"]), COORD_DECIMALS), round(float(m["lon"]), COORD_DECIMALS)
            geometry = {"type": "Point", "coordinates": [lon, lat]}
        if district is None:
            district = _holding_unit(kato, region, polygons, geometry)
        props = _props(code, kato, region, district, okrug, m, geometry is not None)
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    _okrug_median_km(features)
    for f in features:
        f["properties"] = {k: f["properties"][k] for k in PROPERTY_ORDER}
    return features


def _holding_unit(kato: dict, region: str, polygons: dict, geometry: dict | None) -> str:
    """The unit whose polygon holds the point (nearest one if none does), else the first unit."""
    units = region_units(kato, region)
    with_poly = [u for u in units if u in polygons]
    if geometry is None or not with_poly:
        return units[0]
    pt = shapely.Point(geometry["coordinates"])
    return min(with_poly, key=lambda u: (polygons[u].distance(pt), u))


def _round_coords(obj: Any, decimals: int) -> Any:
    if isinstance(obj, float):
        return round(obj, decimals)
    if isinstance(obj, (list, tuple)):
        return [_round_coords(v, decimals) for v in obj]
    return obj


def build_districts(sources: Path, features: list[dict[str, Any]], kato: dict[str, dict[str, str]],
                    regions: Iterable[str]) -> list[dict[str, Any]]:
    """Every unit of ``regions`` as a polygon: the 2024 geokz polygon where the unit has one; for a
    unit inside another's polygon (:data:`SPLIT_FROM`), both share that polygon by Voronoi cells of
    their located settlements, clipped to it, and both are marked approximate. A unit with neither
    is left out (the build result lists it)."""
    units = [u for r in regions for u in region_units(kato, r)]
    polygons = unit_polygons(sources, units)
    points_by_unit = defaultdict(list)
    for f in features:
        if f["geometry"]:
            points_by_unit[f["properties"]["district_kato"]].append(f["geometry"]["coordinates"])
    pieces: dict[str, tuple[Any, str | None]] = {}
    for u in units:
        if u in polygons and u not in SPLIT_FROM:
            pieces[u] = (polygons[u], None)
    for child, parent in SPLIT_FROM.items():
        if child not in units or parent not in polygons:
            continue
        polygon = polygons[parent]
        seeds, owner = [], []
        for u in (parent, child):
            for lon, lat in points_by_unit[u]:
                seeds.append((lon, lat))
                owner.append(u)
        cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=polygon.envelope, ordered=True)
        parts = defaultdict(list)
        for cell, u in zip(shapely.get_parts(cells), owner):
            parts[u].append(cell)
        split_note = (f"APPROXIMATE: {kato[child]['name_ru']} has no 2024 polygon of its own (it lies inside the geokz "
                f"polygon of {kato[parent]['name_ru']}); that polygon is split between the two units by Voronoi "
                "cells of their located settlements. Not an official boundary.")
        for u in (parent, child):
            pieces[u] = (shapely.union_all(parts[u]).intersection(polygon), split_note)
    out = []
    for u in sorted(pieces):
        geom, note = pieces[u]
        geom = shapely.set_precision(geom.simplify(SIMPLIFY_DEG), 10 ** -POLYGON_DECIMALS)
        oblast = kato[u[:2] + "0000000"]
        out.append({"type": "Feature", "properties": {
            "district_kato": u,
            "name_kk": kato[u]["name_kk"],
            "name_ru": kato[u]["name_ru"],
            "region_kato": oblast["kato"],
            "region_name_kk": oblast["name_kk"],
            "region_name_ru": oblast["name_ru"],
            "boundary": "approximate" if note else "geokz-2024",
            "historical": False,
            "approximate": note is not None,
            "note": note or "geokz 1.0.2 ADM2 2024 (from OCHA COD-AB), CC BY 4.0, simplified 0.001°",
        }, "geometry": _round_coords(mapping(geom), POLYGON_DECIMALS)})
    return out


def build_regions(districts: list[dict[str, Any]], kato: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """One outline per region: the union of its unit polygons."""
    by_region = defaultdict(list)
    for d in districts:
        by_region[d["properties"]["region_kato"]].append(shape(d["geometry"]))
    out = []
    for code in sorted(by_region):
        geom = shapely.set_precision(shapely.union_all(by_region[code]).buffer(0), 10 ** -POLYGON_DECIMALS)
        out.append({"type": "Feature", "properties": {
            "region_kato": code, "name_kk": kato[code]["name_kk"], "name_ru": kato[code]["name_ru"],
            "note": "union of the region's unit polygons (geokz 2024, CC BY 4.0)"},
            "geometry": _round_coords(mapping(geom), POLYGON_DECIMALS)})
    return out


def _feature_collection_text(features: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """GeoJSON with one feature per line: stable bytes, readable diffs."""
    head = json.dumps({k: v for k, v in meta.items()}, ensure_ascii=False)[:-1]
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    return head + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"


DISTRICTS_ATTRIBUTION = ("Alexander Rodionov, geokz (CC BY 4.0), from OCHA COD-AB Kazakhstan; "
                         "units without a polygon of their own approximated by Qamtu (see each feature's note)")


def build_settlements(sources: Path | None = None, out: Path | None = None,
                      districts_out: Path | None = None, regions: Iterable[str] | str | None = None,
                      regions_out: Path | None = None) -> dict[str, Any]:
    """Write settlements.geojson, districts.geojson and regions.geojson for ``regions`` (prefixes,
    names or ``all``; default: the territory); return paths, counts and the sha256."""
    sources = Path(sources) if sources else default_sources()
    out = Path(out) if out else default_output()
    bundled = out == default_output()
    districts_out = Path(districts_out) if districts_out else (
        default_districts_output() if bundled else out.with_name("districts.geojson"))
    regions_out = Path(regions_out) if regions_out else (
        default_regions_output() if bundled else out.with_name("regions.geojson"))
    kato = read_kato(sources / "kato.csv")
    chosen = parse_regions(regions, kato)
    features = build_features(sources, chosen)
    districts = build_districts(sources, features, kato, chosen)
    region_shapes = build_regions(districts, kato)
    version = next(iter(kato.values()))["kato_version"]
    text = _feature_collection_text(features, {
        "type": "FeatureCollection",
        "name": "qamtu-settlements-" + "-".join(chosen),
        "regions": list(chosen),
        "kato_version": version,
        "attribution": "KATO classifier NK RK 11-2025, Bureau of National Statistics (stat.gov.kz); "
                       "coordinates © OpenStreetMap contributors (ODbL 1.0) and GeoNames (CC BY 4.0) "
                       "via Who's On First",
        "license": "ODbL-1.0 (derivative database of OpenStreetMap data)",
    })
    write_text(out, text, what="gazetteer")
    dtext = _feature_collection_text(districts, {
        "type": "FeatureCollection", "name": "qamtu-districts-" + "-".join(chosen), "boundary_year": 2024,
        "attribution": DISTRICTS_ATTRIBUTION, "license": "CC-BY-4.0"})
    write_text(districts_out, dtext, what="districts file")
    rtext = _feature_collection_text(region_shapes, {
        "type": "FeatureCollection", "name": "qamtu-regions-" + "-".join(chosen), "boundary_year": 2024,
        "attribution": DISTRICTS_ATTRIBUTION, "license": "CC-BY-4.0"})
    write_text(regions_out, rtext, what="regions file")
    units = [u for r in chosen for u in region_units(kato, r)]
    have = {d["properties"]["district_kato"] for d in districts}
    return {
        "path": str(out),
        "regions": list(chosen),
        "features": len(features),
        "with_coordinates": sum(1 for f in features if f["geometry"]),
        "populated": sum(1 for f in features if f["properties"]["kind"] in POPULATED_KINDS),
        "populated_with_coordinates": sum(1 for f in features
                                          if f["geometry"] and f["properties"]["kind"] in POPULATED_KINDS),
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "districts_path": str(districts_out),
        "districts": len(districts),
        "districts_approximate": sum(1 for d in districts if d["properties"]["approximate"]),
        "units_without_polygon": [u for u in units if u not in have],
        "regions_path": str(regions_out),
    }
