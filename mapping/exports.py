"""Exports of a classification for GIS staff and spreadsheets: GeoPackage, GeoJSON, CSV.

* GeoPackage (QGIS-ready, EPSG:4326), one layer per output: ``settlements`` (best of operators,
  with each operator's status in wide columns; points, null geometry where the gazetteer has no
  coordinate), ``settlement_operators`` (one row per measured settlement x operator),
  ``districts`` (district polygons with the best-of roll-up; historical / approximate flags kept),
  ``district_summary`` (the roll-up per district and scope, no geometry), ``h3_signal`` (hexagons,
  when samples are given) and ``rule_set`` (rule set, version, period, counts, no geometry).
* GeoJSON: the ``settlements`` layer.
* CSV (UTF-8 with BOM so spreadsheet programs keep Kazakh letters): the ``settlements`` table.

Every row names the rule-set version and the period.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from shapely.geometry import Point, Polygon, shape

from .. import package_path
from .classify import ROLLUP_COLUMNS, Classification
from .coverage_map import MapError, _read_geojson
from .errors import MappingError
from .hexes import hex_boundary

FORMATS = ("gpkg", "geojson", "csv")


class ExportError(MappingError):
    """An export could not be written; the message names the file."""


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Datetimes to ISO text, numpy bools to bool: types every GIS driver and spreadsheet reads."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%dT%H:%M:%SZ").astype(object).where(out[c].notna(), None)
    return out


def settlements_table(cl: Classification) -> pd.DataFrame:
    """Best-of row per settlement with each operator's statuses in wide columns."""
    base = cl.settlements.copy()
    for op in cl.operators:
        part = cl.by_operator[cl.by_operator["operator"] == op].set_index("kato")
        tag = op.replace("-", "_")
        for col in ("mobile_status", "internet_status", "thin_data", "samples", "speedtests", "median_rsrp_dbm",
                    "median_download_mbps"):
            s = part[col].reindex(base["kato"]).to_numpy()
            if col == "mobile_status":
                s = np.where(pd.isna(s), "unmeasured", s)
            elif col == "internet_status":
                s = np.where(pd.isna(s), "not_measured", s)
            base[f"{col}_{tag}"] = s
    base["period_start_utc"] = cl.period.start.isoformat()
    base["period_end_utc"] = cl.period.end.isoformat()
    return _plain(base)


def _points(df: pd.DataFrame) -> gpd.GeoDataFrame:
    geom = [Point(lon, lat) if pd.notna(lat) and pd.notna(lon) else None for lat, lon in zip(df["lat"], df["lon"])]
    return gpd.GeoDataFrame(df.drop(columns=["lat", "lon"]), geometry=geom, crs="EPSG:4326")


def _district_layer(cl: Classification, districts_path: Path | None) -> gpd.GeoDataFrame:
    """The district polygons with the best-of roll-up; a bad districts file is named in the error."""
    path = Path(districts_path or package_path("mapping", "data", "districts.geojson"))
    try:
        data = _read_geojson(path)
    except MapError as exc:
        raise ExportError(str(exc)) from None
    allrows = cl.districts[cl.districts["scope"] == "all"].set_index("district_kato")
    regions = set(cl.districts["region_kato"]) if "region_kato" in cl.districts else None
    rows = []
    for f in data["features"]:
        p = dict(f["properties"])
        if regions is not None and "region_kato" in p and p["region_kato"] not in regions:
            continue  # a unit of a region outside the classification's selection
        r = allrows.loc[p["district_kato"]] if p["district_kato"] in allrows.index else None
        rows.append({**{k: p.get(k) for k in ("district_kato", "region_kato", "name_kk", "name_ru", "boundary",
                                             "approximate", "historical", "note")},
                     **({k: int(r[k]) for k in ROLLUP_COLUMNS} if r is not None else {}),
                     "rule_set_version": cl.rules.version, "geometry": shape(f["geometry"])})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def _hex_layer(hexes: pd.DataFrame, resolution: int, version: str) -> gpd.GeoDataFrame:
    geoms = [Polygon([(lon, lat) for lat, lon in hex_boundary(c)]) for c in hexes["h3"]]
    df = hexes.copy()
    df["h3_resolution"] = resolution
    df["rule_set_version"] = version
    return gpd.GeoDataFrame(df, geometry=geoms, crs="EPSG:4326")


def meta_table(cl: Classification) -> pd.DataFrame:
    m = cl.meta()
    rows = [("rule_set_id", m["rule_set"]["id"]), ("rule_set_version", m["rule_set"]["version"]),
            ("rule_set_valid_from", m["rule_set"]["valid_from"]), ("rule_set_file", m["rule_set"]["file"] or ""),
            ("rule_set_status", m["rule_set"]["status"]),
            ("period_start_utc", m["period"]["start_utc"]), ("period_end_utc", m["period"]["end_utc"]),
            ("period", m["period"]["label"]),
            ("operators", ", ".join(f"{k} {v}" for k, v in m["operators"].items()))]
    rows += [(f"count_{k}", str(v)) for k, v in m["counts"].items()]
    return pd.DataFrame(rows, columns=["key", "value"])


def export_classification(cl: Classification, out: Path | str, fmt: str | None = None, *,
                          hexes: pd.DataFrame | None = None, hex_resolution: int | None = None,
                          districts_path: Path | None = None) -> dict[str, Any]:
    """Write ``cl`` to ``out`` as gpkg, geojson or csv (default: from the file's suffix)."""
    out = Path(out)
    fmt = (fmt or out.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ExportError(f"{out}: unknown export format {fmt!r} (use {', '.join(FORMATS)})")
    table = settlements_table(cl)
    # read outside the write guard below so a bad districts file is reported as such, not as "cannot write"
    districts = _district_layer(cl, districts_path) if fmt == "gpkg" else None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            out.unlink()
        if fmt == "csv":
            table.to_csv(out, index=False, encoding="utf-8-sig")
            return {"path": str(out), "format": fmt, "rows": {"settlements": len(table)}, "rule_set": cl.rules.version}
        if fmt == "geojson":
            pyogrio.write_dataframe(_points(table), out, driver="GeoJSON")
            return {"path": str(out), "format": fmt, "rows": {"settlements": len(table)}, "rule_set": cl.rules.version}
        layers: dict[str, Any] = {
            "settlements": _points(table),
            "settlement_operators": _points(_plain(cl.by_operator.merge(
                cl.settlements[["kato", "name_kk", "name_ru", "district_kato", "lat", "lon"]], on="kato", how="left"))),
            "districts": districts,
            "district_summary": _plain(cl.districts),
            "rule_set": meta_table(cl),
        }
        if hexes is not None and len(hexes):
            layers["h3_signal"] = _hex_layer(hexes, hex_resolution or cl.rules.aggregation.h3_resolution, cl.rules.version)
        for name, df in layers.items():
            first = not out.exists()
            # GeoPackage 1.2 so that older GDAL/QGIS builds open the file without a version warning
            pyogrio.write_dataframe(df, out, layer=name, driver="GPKG", append=not first,
                                    **({"dataset_options": {"VERSION": "1.2"}} if first else {}))
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ExportError(f"{out}: cannot write {fmt} ({exc})") from None
    return {"path": str(out), "format": fmt, "rows": {k: len(v) for k, v in layers.items()}, "rule_set": cl.rules.version}
