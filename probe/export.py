"""Export one session's records in any registered format (:mod:`qamtu.mapping.writers`): CSV, GeoJSON,
GeoPackage (every layer; opens in QGIS), Parquet. Times, encoding and coordinates follow the one
export convention written in docs/exports.md."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from ..mapping.writers import get_exporter, write_layers
from .store import Store


def _geo(df) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")


def export_session(store: Store, session_id: str, out: Path, fmt: str) -> dict:
    """Write the session's samples (and, for formats with layers, speed tests and events) to ``out``.

    :raises qamtu.mapping.writers.ExportError: unknown format (the message lists the valid ones) or
        the file cannot be written. Returns what was written.
    """
    exporter = get_exporter(fmt)  # before anything is read
    sid = store.session(session_id)["session_id"]
    layers = {"samples": _geo(store.samples_frame(session=sid))}
    if exporter.multi_layer:
        layers["speedtests"] = _geo(store.speedtests_frame(session=sid))
        events = store.events_frame(session=sid)
        layers["events"] = gpd.GeoDataFrame(events, geometry=gpd.GeoSeries([None] * len(events), crs="EPSG:4326"))
    written = write_layers(layers, Path(out), fmt)
    return {"session_id": sid, "path": str(out), "format": fmt, "rows": written}
