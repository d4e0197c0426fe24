"""Export one session's records as CSV, GeoJSON or GeoPackage (the GeoPackage opens in QGIS)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from .store import Store, StoreError

FORMATS = ("csv", "geojson", "gpkg")


def _geo(df) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")


def export_session(store: Store, session_id: str, out: Path, fmt: str) -> dict:
    """Write the session's samples (and, for gpkg, speed tests and events as more layers) to ``out``.

    Times are written as ISO 8601 UTC text. Returns what was written.
    """
    if fmt not in FORMATS:
        raise StoreError(f"export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    sid = store.session(session_id)["session_id"]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    layers = {"samples": store.samples_frame(session=sid), "speedtests": store.speedtests_frame(session=sid),
              "events": store.events_frame(session=sid)}
    for df in layers.values():
        df["time_utc"] = df["time_utc"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    tmp = out.with_name(".partial-" + out.name)  # same extension: GDAL picks the driver by it
    if tmp.exists():
        tmp.unlink()
    if fmt == "csv":
        layers["samples"].to_csv(tmp, index=False)
        written = {"samples": len(layers["samples"])}
    elif fmt == "geojson":
        _geo(layers["samples"]).to_file(tmp, driver="GeoJSON", engine="pyogrio")
        written = {"samples": len(layers["samples"])}
    else:
        written = {}
        for name, df in layers.items():
            if name == "events":
                gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([None] * len(df), crs="EPSG:4326")).to_file(
                    tmp, layer=name, driver="GPKG", engine="pyogrio")
            else:
                _geo(df).to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
            written[name] = len(df)
    tmp.replace(out)  # all or nothing: the final name appears only when the file is complete
    return {"session_id": sid, "path": str(out), "format": fmt, "rows": written}
