"""Exporters by name: the one registry behind every table Qamtu writes for GIS staff and spreadsheets.

Both export paths use it: ``qamtu sessions export`` (:mod:`qamtu.probe.export`) and the coverage
exports (:mod:`qamtu.mapping.exports`, ``--export``/``--out`` of ``map coverage`` and ``coverage
classify``). The CLI takes the list of ``--format`` values from :func:`exporter_names`.

One convention for every format (docs/exports.md):

* **Times** are UTC. Text formats (CSV, GeoJSON, GeoPackage) carry ISO 8601 text with a ``Z`` and
  microsecond precision, always six digits: ``2026-06-01T06:00:00.000000Z``. Parquet keeps a typed
  ``timestamp[us, tz=UTC]`` column (the same instant, the same precision).
* **Text** is UTF-8. CSV starts with a byte-order mark (``utf-8-sig``): Excel on Windows opens a CSV
  without one in the ANSI code page (Windows-1251 on Russian and Kazakh systems), which has no
  ә ғ қ ң ө ұ ү һ; with the mark it reads UTF-8. pandas reads it with ``encoding="utf-8-sig"``.
* **Coordinates** are WGS 84 (EPSG:4326) degrees; CSV keeps ``lat``/``lon`` columns, the geo
  formats a geometry (Parquet as GeoParquet, WKB).
* **Files appear whole** (:func:`qamtu.safeio.atomic_output`): each is written to a hidden
  temporary file beside the target and renamed when complete; a failed write leaves the previous
  file as it was and no temporary file.
* **Spreadsheet-safe text**: a CSV text cell starting with ``= + - @``, tab or CR gets a leading
  ``'`` (:func:`qamtu.textsafe.csv_frame`), so Excel shows it instead of running it as a formula.

An exporter is registered with :func:`register` under its name; ``layers`` says whether it writes
every layer (GeoPackage) or only the first (the main table). Writers import their libraries
lazily, so listing the registry is cheap (the CLI does it at start-up).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping

from ..safeio import atomic_output
from ..textsafe import csv_frame
from .errors import MappingError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: strftime pattern of every time written as text (UTC, microseconds).
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class ExportError(MappingError):
    """An export could not be written, or its format is unknown; the message names the file or format."""


@dataclass(frozen=True)
class Exporter:
    """One output format.

    ``write(layers, path)`` writes the prepared layers (name -> DataFrame or GeoDataFrame) to
    ``path``; ``multi_layer`` is False when only the first layer is written.
    """

    name: str
    suffix: str
    description: str
    multi_layer: bool
    typed_times: bool
    write: Callable[[Mapping[str, "pd.DataFrame"], Path], None]


EXPORTERS: dict[str, Exporter] = {}


def register(exporter: Exporter) -> Exporter:
    """Add ``exporter`` to :data:`EXPORTERS` under its name (replacing one of the same name)."""
    EXPORTERS[exporter.name] = exporter
    return exporter


def exporter_names() -> list[str]:
    """Registered format names, sorted."""
    return sorted(EXPORTERS)


def get_exporter(name: str) -> Exporter:
    """The exporter registered as ``name``.

    :raises ExportError: unknown name; the message lists the valid ones.
    """
    try:
        return EXPORTERS[name]
    except KeyError:
        raise ExportError(f"export format {name!r}: choose one of {', '.join(exporter_names())}") from None


def format_of(path: Path | str) -> str:
    """The format name for a file, from its suffix (``.gpkg`` -> ``gpkg``); not checked."""
    return Path(path).suffix.lstrip(".").lower()


def iso_utc(value) -> str | None:
    """A datetime (aware, or naive meaning UTC) as the text form of the convention; None stays None."""
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.strftime(TIME_FORMAT)


def conventional(df: "pd.DataFrame", typed_times: bool) -> "pd.DataFrame":
    """``df`` with its datetime columns in the convention: UTC text, or UTC ``datetime64[us]`` when
    ``typed_times``; numpy booleans stay booleans. The input is not changed."""
    import pandas as pd

    out = df.copy()
    for c in out.columns:
        col = out[c]
        if not pd.api.types.is_datetime64_any_dtype(col):
            continue
        col = col.dt.tz_localize("UTC") if col.dt.tz is None else col.dt.tz_convert("UTC")
        if typed_times:
            out[c] = col.astype("datetime64[us, UTC]")
        else:
            out[c] = col.dt.strftime(TIME_FORMAT).astype(object).where(col.notna(), None)
    return out


def write_layers(layers: Mapping[str, "pd.DataFrame"], out: Path | str, fmt: str) -> dict[str, int]:
    """Write ``layers`` to ``out`` in format ``fmt`` (all of them, or only the first for single-table
    formats) following the convention. Returns rows written per layer.

    :raises ExportError: unknown format. :raises qamtu.safeio.OutputError: the file cannot be written
        (the message names it; any previous file is unchanged).
    """
    exporter = get_exporter(fmt)
    out = Path(out)
    chosen = dict(layers) if exporter.multi_layer else dict([next(iter(layers.items()))])
    prepared = {name: conventional(df, exporter.typed_times) for name, df in chosen.items()}
    import pyogrio.errors

    library_errors = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError)
    with atomic_output(out, what=f"{fmt} export", also=library_errors) as tmp:  # same suffix: GDAL picks by it
        exporter.write(prepared, tmp)
    return {name: len(df) for name, df in prepared.items()}


# --------------------------------------------------------------------------- the built-in formats
def _attributes(df: "pd.DataFrame") -> "pd.DataFrame":
    """The attribute columns of a (Geo)DataFrame, without its geometry."""
    geometry = getattr(df, "_geometry_column_name", None)
    return df.drop(columns=[geometry]) if geometry in df.columns else df


def _write_csv(layers: Mapping[str, "pd.DataFrame"], path: Path) -> None:
    (df,) = layers.values()
    csv_frame(_attributes(df)).to_csv(path, index=False, encoding="utf-8-sig")


def _write_geojson(layers: Mapping[str, "pd.DataFrame"], path: Path) -> None:
    import pyogrio

    (df,) = layers.values()
    pyogrio.write_dataframe(df, path, driver="GeoJSON")


def _write_gpkg(layers: Mapping[str, "pd.DataFrame"], path: Path) -> None:
    import pyogrio

    for i, (name, df) in enumerate(layers.items()):
        # GeoPackage 1.2 so that older GDAL/QGIS builds open the file without a version warning
        pyogrio.write_dataframe(df, path, layer=name, driver="GPKG", append=i > 0,
                                **({} if i else {"dataset_options": {"VERSION": "1.2"}}))


def _write_parquet(layers: Mapping[str, "pd.DataFrame"], path: Path) -> None:
    (df,) = layers.values()
    if getattr(df, "_geometry_column_name", None) in df.columns:
        df.to_parquet(path, index=False)  # GeoParquet: geometry as WKB with its CRS in the metadata
    else:
        df.to_parquet(path, index=False, engine="pyarrow")


register(Exporter("csv", ".csv", "CSV table (UTF-8 with BOM), the main layer", False, False, _write_csv))
register(Exporter("geojson", ".geojson", "GeoJSON points, the main layer", False, False, _write_geojson))
register(Exporter("gpkg", ".gpkg", "GeoPackage 1.2 with every layer (opens in QGIS)", True, False, _write_gpkg))
register(Exporter("parquet", ".parquet", "Parquet / GeoParquet (pyarrow), the main layer", False, True,
                  _write_parquet))
