"""Re-extract the source subsets in this folder from the workplace's shared source files.

Run from the repository root, with the shared data beside the checkout::

    python data/sources/extract_from_shared.py ../shared/data                 # the inspection's four regions
    python data/sources/extract_from_shared.py ../shared/data --regions all --into /tmp/kz-sources

The first form is how the files here were made (see SOURCES.md): KATO rows, OpenStreetMap place
points, GeoNames localities and 2024 district polygons of Shymkent (79), Zhambyl (31), Turkistan (61)
and Kyzylorda (43). The second writes the same files for the whole country into another folder, for
``qamtu settlements build --regions all --sources /tmp/kz-sources`` (about 8 MB: not shipped).
``qamtu settlements build`` needs only the files of one such folder, never the shared originals.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape

HERE = Path(__file__).resolve().parent
TERRITORY = ("79", "31", "61", "43")
#: Files copied unchanged (the 2017 set is kept as history; the Turkistan match table is curated).
VERBATIM = [
    "kato.source.json",
    "turkistan_settlements_raw.csv",
    "south_kazakhstan_adm2_2017_geoboundaries_subset.geojson",
    "turkistan_adm1_approx_2017.geojson",
]
#: Points within this many degrees of the chosen regions' 2024 polygons are kept (edges are coarse).
REACH_DEG = 0.1


def _dump(obj: object, path: Path) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def _dump_lines(features: list, path: Path) -> None:
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    path.write_text('{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")


def main(shared: Path, into: Path, regions: tuple[str, ...] | None) -> None:
    """Write the subsets for ``regions`` (2-digit KATO prefixes; None: the whole country) into ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    for name in VERBATIM:
        shutil.copyfile(shared / name, into / name)

    def wanted(code: str) -> bool:
        return regions is None or code[:2] in regions

    with open(shared / "kato.csv", encoding="utf-8", newline="") as src, \
         open(into / "kato.csv", "w", encoding="utf-8", newline="") as dst:
        reader = csv.reader(src)
        writer = csv.writer(dst, lineterminator="\n")
        writer.writerow(next(reader))
        writer.writerows(row for row in reader if wanted(row[0]))

    adm2 = json.loads((shared / "kaz_adm2_geokz_2024.geojson").read_text(encoding="utf-8"))["features"]
    units = sorted((f for f in adm2 if wanted(f["properties"]["KATO"])), key=lambda f: f["properties"]["KATO"])
    _dump_lines(units, into / "kaz_adm2_geokz_2024.geojson")
    reach = shapely.union_all([shape(f["geometry"]) for f in units]).buffer(REACH_DEG)
    shapely.prepare(reach)

    osm = json.loads((shared / "hotosm_kaz_populated_places_points_geojson.geojson").read_text(encoding="utf-8"))
    keep = [f for f in osm["features"] if f["geometry"] and reach.contains(shape(f["geometry"]))]
    keep.sort(key=lambda f: (f["properties"]["osm_type"], f["properties"]["osm_id"]))
    _dump_lines(keep, into / "osm_places.geojson")

    with open(shared / "wof_geonames_kazakhstan_localities.csv", encoding="utf-8", newline="") as src, \
         open(into / "wof_geonames_localities.csv", "w", encoding="utf-8", newline="") as dst:
        reader = csv.reader(src)
        header = next(reader)
        lat, lon = header.index("lat"), header.index("lon")
        writer = csv.writer(dst, lineterminator="\n")
        writer.writerow(header)
        rows = [r for r in reader if reach.contains(shapely.Point(float(r[lon]), float(r[lat])))]
        writer.writerows(sorted(rows, key=lambda r: int(r[0])))

    old = json.loads((shared / "geoBoundaries-KAZ-ADM2.geojson").read_text(encoding="utf-8"))
    country = shapely.union_all([shape(f["geometry"]) for f in old["features"]]).simplify(0.005)
    _dump({"type": "FeatureCollection", "features": [{
        "type": "Feature",
        "properties": {"name_en": "Kazakhstan", "boundary_year": 2017,
                       "note": "union of geoBoundaries gbOpen KAZ ADM2 (2017, OSM/Wambacher, ODbL), "
                               "simplified 0.005 deg"},
        "geometry": mapping(shapely.set_precision(country, 1e-5)),
    }]}, into / "kazakhstan_outline_2017.geojson")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("shared", nargs="?", default="../shared/data", type=Path, help="the shared data folder")
    parser.add_argument("--regions", default=",".join(TERRITORY),
                        help="comma-separated 2-digit KATO prefixes, or 'all' (default: %(default)s)")
    parser.add_argument("--into", type=Path, default=HERE, help="output folder (default: this folder)")
    args = parser.parse_args()
    chosen = None if args.regions == "all" else tuple(p.strip() for p in args.regions.split(","))
    main(args.shared, args.into, chosen)
