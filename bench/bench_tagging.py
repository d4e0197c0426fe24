"""Benchmark: tag 1,000,000 random fixes over the gazetteer's bounding box against the gazetteer.

Prints fixes per second and peak memory for Qamtu's tagger, and the same for
``geopandas.sjoin_nearest(max_distance=...)`` on the same fixes in the same run (each method in its
own child process, so peak memory is its own). Not a test: it asserts nothing and prints figures.

    .venv/bin/python bench/bench_tagging.py [--points 1000000] [--repeat 3]        # the four regions
    .venv/bin/python bench/bench_tagging.py --gazetteer /tmp/kz/settlements.geojson  # the national build

Half the fixes lie within 3 km of a located settlement (where inspectors measure), half are
uniform over the bounding box (mostly steppe: untagged). Goals (issue 17): four regions under
1.5 s and faster than sjoin_nearest; the national gazetteer under 3 s.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import time

import numpy as np
from rich.console import Console
from rich.table import Table

SEED = 61
GAZETTEER = None  # path given by --gazetteer; None: the bundled four-region file


def _load():
    from qamtu.mapping.gazetteer import Gazetteer

    return Gazetteer.load(GAZETTEER)


def _fixes(n: int):
    g = _load()
    lat, lon = g.arrays["lat"], g.arrays["lon"]
    rng = np.random.default_rng(SEED)
    near = n // 2
    pick = rng.integers(0, len(lat), near)
    d_lat = rng.uniform(-3000, 3000, near) / 111_195
    d_lon = rng.uniform(-3000, 3000, near) / (111_195 * np.cos(np.radians(lat[pick])))
    far_lat = rng.uniform(lat.min() - 0.1, lat.max() + 0.1, n - near)
    far_lon = rng.uniform(lon.min() - 0.1, lon.max() + 0.1, n - near)
    order = rng.permutation(n)
    return (np.r_[lat[pick] + d_lat, far_lat][order], np.r_[lon[pick] + d_lon, far_lon][order],
            (lat.min(), lon.min(), lat.max(), lon.max()))


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_qamtu(n: int, repeat: int, out):
    from qamtu.mapping.tagging import Tagger

    lat, lon, _ = _fixes(n)
    tagger = Tagger(_load())
    base = _rss_mib()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        tags = tagger.tag(lat, lon)
        times.append(time.perf_counter() - t0)
    out.send({"times": times, "peak_extra_mib": _rss_mib() - base, "tagged": int((tags.index >= 0).sum())})


def run_sjoin(n: int, repeat: int, max_distance_m: float, out):
    import geopandas as gpd

    lat, lon, box = _fixes(n)
    g = _load()
    crs = f"+proj=aeqd +lat_0={(box[0] + box[2]) / 2:.2f} +lon_0={(box[1] + box[3]) / 2:.2f} +datum=WGS84 +units=m"
    sites = gpd.GeoDataFrame({"kato": [g.settlements[i].kato for i in g.arrays["index"]]},
                             geometry=gpd.points_from_xy(g.arrays["lon"], g.arrays["lat"]), crs="EPSG:4326").to_crs(crs)
    base = _rss_mib()
    times, join_times = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(crs)
        t1 = time.perf_counter()
        joined = gpd.sjoin_nearest(pts, sites, how="left", max_distance=max_distance_m, distance_col="distance_m")
        t2 = time.perf_counter()
        times.append(t2 - t0)
        joined = joined[~joined.index.duplicated(keep="first")]
        join_times.append(t2 - t1)
    out.send({"times": times, "join_times": join_times, "peak_extra_mib": _rss_mib() - base,
              "tagged": int(joined["kato"].notna().sum())})


def _child(target, *args):
    parent, child = mp.Pipe(duplex=False)
    p = mp.get_context("fork").Process(target=target, args=(*args, child))
    p.start()
    result = parent.recv()
    p.join()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--gazetteer", default=None, help="settlements GeoJSON (default: the bundled four regions)")
    ap.add_argument("--goal-s", type=float, default=None, help="goal in seconds (default: 1.5, or 3 with --gazetteer)")
    args = ap.parse_args()
    global GAZETTEER
    GAZETTEER = args.gazetteer
    goal = args.goal_s or (3.0 if args.gazetteer else 1.5)
    g = _load()
    from qamtu.mapping.tagging import TaggingRule

    rule = TaggingRule.load()
    max_reach = max(k["max_m"] for k in rule.kinds.values())
    console = Console()
    with console.status(f"tagging {args.points:,} fixes with Qamtu's tagger…"):
        ours = _child(run_qamtu, args.points, args.repeat)
    with console.status(f"tagging {args.points:,} fixes with geopandas.sjoin_nearest…"):
        theirs = _child(run_sjoin, args.points, args.repeat, max_reach)
    best_ours, best_theirs = min(ours["times"]), min(theirs["times"])
    t = Table(title=f"Tagging {args.points:,} fixes over {len(g.regions)} regions, {len(g.arrays['lat']):,} located "
                    f"settlements (best of {args.repeat}, seed {SEED}, rule {rule.version})")
    for c in ("method", "seconds", "fixes/s", "peak extra memory (MiB)", "fixes tagged"):
        t.add_column(c, justify="left" if c == "method" else "right")
    t.add_row("qamtu Tagger.tag (reach rule)", f"{best_ours:.3f}", f"{args.points / best_ours:,.0f}",
              f"{ours['peak_extra_mib']:.0f}", f"{ours['tagged']:,}")
    t.add_row(f"sjoin_nearest(max_distance={max_reach:.0f} m) incl. to_crs", f"{best_theirs:.3f}",
              f"{args.points / best_theirs:,.0f}", f"{theirs['peak_extra_mib']:.0f}", f"{theirs['tagged']:,}")
    t.add_row("  of which sjoin_nearest alone", f"{min(theirs['join_times']):.3f}",
              f"{args.points / min(theirs['join_times']):,.0f}", "", "")
    console.print(t)
    console.print(f"qamtu / sjoin_nearest time ratio: {best_ours / best_theirs:.2f} "
                  f"(below 1 means Qamtu is faster); goal: 1M fixes under {goal:g} s -> "
                  f"{'met' if args.points < 1_000_000 or best_ours < goal else 'NOT met'}")


if __name__ == "__main__":
    main()
