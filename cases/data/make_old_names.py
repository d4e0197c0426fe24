"""Rebuild ``old_names.csv``: other names (Soviet-era, renamed, other spellings) of gazetteer settlements.

Run from the repository root: ``python cases/data/make_old_names.py [WOF_CSV]`` (default: the
GeoNames/Who's On First extract ``/work/shared/data/wof_geonames_kazakhstan_localities.csv``,
described in ``data/sources/SOURCES.md``). Not imported by the package.

Rule (precision first): a GeoNames locality is linked to a gazetteer settlement when one of the
locality's names folds to the settlement's Kazakh or Russian name (``mapping.names.search_key``)
and its point lies within 4 km of the settlement's point. The locality's other names become other
names of that settlement, except names that fold to the name of *any* gazetteer settlement (an
old name must never hide a current one), names shorter than 4 letters, and names containing a
type word. GeoNames carries no dates: a row says "also known as", not when a name was used.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[2]
if TYPE_CHECKING:   # the module the script loads below, as the type checker sees the package
    from qamtu.mapping.names import search_key
else:
    sys.path.insert(0, str(ROOT / "mapping"))
    from names import search_key  # (run as a script: the repository root is the package)

DEFAULT_WOF = Path("/work/shared/data/wof_geonames_kazakhstan_localities.csv")
TYPE_WORDS = ("қаласы", "ауылы", "город", "село", "ferma", "ферма", "sovkhoz", "совхоз", "номер", "nomer")


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def main(wof_path: Path) -> None:
    features = json.loads((ROOT / "settlements.geojson").read_text(encoding="utf-8"))["features"]
    settlements = [(f["properties"], f["geometry"]["coordinates"]) for f in features if f["geometry"]]
    current = {search_key(f["properties"][k]) for f in features for k in ("name_kk", "name_ru")}
    out: dict[tuple[str, str], dict[str, str]] = {}
    with wof_path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            names = {n.strip() for n in [row["name"], row["gn_asciiname"], *row["name_rus"].split("|"),
                                         *row["name_kaz"].split("|")] if n.strip()}
            keys = {search_key(n) for n in names}
            lat, lon = float(row["lat"]), float(row["lon"])
            for props, (slon, slat) in settlements:
                if abs(slat - lat) > 0.05 or abs(slon - lon) > 0.07:
                    continue
                own = {search_key(props["name_kk"]), search_key(props["name_ru"])}
                if not keys & own or _km(lat, lon, slat, slon) > 4.0:
                    continue
                for name in sorted(names):
                    key = search_key(name)
                    if key in current or len(key) < 4 or any(w in name.lower() for w in TYPE_WORDS):
                        continue
                    out.setdefault((props["kato"], key), {
                        "kato": props["kato"], "old_name": name, "name_kk": props["name_kk"],
                        "source": f"GeoNames {row['geonameid'] or '-'} via Who's On First {row['wof_id']}"})
    target = Path(__file__).with_name("old_names.csv")
    with target.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, ["kato", "old_name", "name_kk", "source"], lineterminator="\n")
        w.writeheader()
        w.writerows(sorted(out.values(), key=lambda r: (r["kato"], r["old_name"])))
    print(f"{target}: {len(out)} names")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_WOF)
