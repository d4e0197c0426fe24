"""Exports of a classification for GIS staff and spreadsheets, in every format of the exporter
registry (:mod:`qamtu.mapping.writers`: GeoPackage, GeoJSON, CSV, Parquet) and its one convention.

* GeoPackage (QGIS-ready, EPSG:4326), one layer per output: ``settlements`` (best of operators,
  with each operator's status in wide columns; points, null geometry where the gazetteer has no
  coordinate), ``settlement_operators`` (one row per measured settlement x operator),
  ``districts`` (district polygons with the best-of roll-up; historical / approximate flags kept),
  ``district_summary`` (the roll-up per district and scope, no geometry), ``h3_signal`` (hexagons,
  when samples are given) and ``rule_set`` (rule set, version, period, counts, no geometry).
* GeoJSON, CSV (UTF-8 with BOM so spreadsheet programs keep Kazakh letters), Parquet: the
  ``settlements`` table (with ``lat``/``lon`` columns).

Every row names the rule-set version and the period.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point, Polygon, shape

from .. import package_path
from .classify import ROLLUP_COLUMNS, Classification
from .leaflet import MapError, read_geojson
from .hexes import hex_boundary
from .writers import ExportError, conventional, format_of, get_exporter, iso_utc, write_layers

__all__ = ["ExportError", "export_classification", "meta_table", "settlements_table"]


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Datetimes as the export convention's ISO 8601 UTC text: types every GIS driver and spreadsheet reads."""
    return conventional(df, typed_times=False)


def settlements_table(cl: Classification, text_times: bool = True) -> pd.DataFrame:
    """Best-of row per settlement with each operator's statuses in wide columns.

    Times are ISO 8601 UTC text (for spreadsheets) unless ``text_times`` is False; then they stay
    datetimes and the exporter applies its format's convention (typed in Parquet).
    """
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
    base["period_start_utc"] = pd.Timestamp(cl.period.start)
    base["period_end_utc"] = pd.Timestamp(cl.period.end)
    return _plain(base) if text_times else base


def _points(df: pd.DataFrame) -> gpd.GeoDataFrame:
    geom = [Point(lon, lat) if pd.notna(lat) and pd.notna(lon) else None for lat, lon in zip(df["lat"], df["lon"])]
    return gpd.GeoDataFrame(df, geometry=geom, crs="EPSG:4326")


def _district_layer(cl: Classification, districts_path: Path | None) -> gpd.GeoDataFrame:
    """The district polygons with the best-of roll-up; a bad districts file is named in the error."""
    path = Path(districts_path or package_path("mapping", "data", "districts.geojson"))
    try:
        data = read_geojson(path)
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
            ("period_start_utc", iso_utc(m["period"]["start_utc"])),
            ("period_end_utc", iso_utc(m["period"]["end_utc"])),
            ("period", m["period"]["label"]),
            ("operators", ", ".join(f"{k} {v}" for k, v in m["operators"].items()))]
    rows += [(f"count_{k}", str(v)) for k, v in m["counts"].items()]
    return pd.DataFrame(rows, columns=["key", "value"])


def export_classification(cl: Classification, out: Path | str, fmt: str | None = None, *,
                          hexes: pd.DataFrame | None = None, hex_resolution: int | None = None,
                          districts_path: Path | None = None) -> dict[str, Any]:
    """Write ``cl`` to ``out`` in a registered format (default: named by the file's suffix).

    Formats with layers (gpkg) get every layer of the module docstring; the others the settlements table.
    """
    out = Path(out)
    fmt = (fmt or format_of(out)).lower()
    try:
        exporter = get_exporter(fmt)
    except ExportError as exc:
        raise ExportError(f"{out}: {exc}") from None
    table = settlements_table(cl, text_times=False)
    layers: dict[str, Any] = {"settlements": _points(table)}
    if exporter.multi_layer:
        # read before writing so a bad districts file is reported as such, not as "cannot write"
        districts = _district_layer(cl, districts_path)
        layers.update({
            "settlement_operators": _points(cl.by_operator.merge(
                cl.settlements[["kato", "name_kk", "name_ru", "district_kato", "lat", "lon"]], on="kato", how="left")),
            "districts": districts,
            "district_summary": cl.districts,
            "rule_set": meta_table(cl),
        })
        if hexes is not None and len(hexes):
            resolution = hex_resolution or cl.rules.aggregation.h3_resolution
            layers["h3_signal"] = _hex_layer(hexes, resolution, cl.rules.version)
    rows = write_layers(layers, out, fmt)
    return {"path": str(out), "format": fmt, "rows": rows, "rule_set": cl.rules.version}
