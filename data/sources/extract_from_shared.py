"""Re-extract the region-61 subsets in this folder from the workplace's shared source files.

Run from the repository root, with the shared data beside the checkout::

    python data/sources/extract_from_shared.py ../shared/data

This is how the files here were made (see SOURCES.md). ``qamtu settlements build`` needs only the
files in this folder, never the shared originals.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape

HERE = Path(__file__).resolve().parent
VERBATIM = [
    "kato.source.json",
    "turkistan_settlements_raw.csv",
    "wof_geonames_south_kazakhstan_localities.csv",
    "south_kazakhstan_adm2_2017_geoboundaries_subset.geojson",
    "turkistan_adm1_approx_2017.geojson",
]


def _dump(obj: object, path: Path) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def main(shared: Path) -> None:
    for name in VERBATIM:
        shutil.copyfile(shared / name, HERE / name)

    with open(shared / "kato.csv", encoding="utf-8", newline="") as src, \
         open(HERE / "kato_61.csv", "w", encoding="utf-8", newline="") as dst:
        reader = csv.reader(src)
        writer = csv.writer(dst, lineterminator="\n")
        writer.writerow(next(reader))
        writer.writerows(row for row in reader if row[0].startswith("61"))

    region = shape(json.loads((shared / "turkistan_adm1_approx_2017.geojson").read_text())["features"][0]["geometry"])
    reach = region.buffer(0.1)
    osm = json.loads((shared / "hotosm_kaz_populated_places_points_geojson.geojson").read_text())
    keep = [f for f in osm["features"] if f["geometry"] and reach.contains(shape(f["geometry"]))]
    keep.sort(key=lambda f: (f["properties"]["osm_type"], f["properties"]["osm_id"]))
    _dump({"type": "FeatureCollection", "features": keep}, HERE / "osm_places_turkistan.geojson")

    adm2 = json.loads((shared / "geoBoundaries-KAZ-ADM2.geojson").read_text())
    country = shapely.union_all([shape(f["geometry"]) for f in adm2["features"]]).simplify(0.005)
    _dump({"type": "FeatureCollection", "features": [{
        "type": "Feature",
        "properties": {"name_en": "Kazakhstan", "boundary_year": 2017,
                       "note": "union of geoBoundaries gbOpen KAZ ADM2 (2017, OSM/Wambacher, ODbL), simplified 0.005 deg"},
        "geometry": mapping(shapely.set_precision(country, 1e-5)),
    }]}, HERE / "kazakhstan_outline_2017.geojson")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
