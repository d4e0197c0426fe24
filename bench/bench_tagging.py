"""Benchmark: tag 1,000,000 random fixes over the region's bounding box against the gazetteer.

Prints fixes per second and peak memory for Qamtu's tagger, and the same for
``geopandas.sjoin_nearest(max_distance=...)`` on the same fixes in the same run (each method in its
own child process, so peak memory is its own). Not a test: it asserts nothing and prints figures.

    .venv/bin/python bench/bench_tagging.py [--points 1000000] [--repeat 3]
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


def _fixes(n: int):
    from qamtu.mapping.gazetteer import Gazetteer

    g = Gazetteer.load()
    lat, lon = g.arrays["lat"], g.arrays["lon"]
    rng = np.random.default_rng(SEED)
    return (rng.uniform(lat.min() - 0.1, lat.max() + 0.1, n), rng.uniform(lon.min() - 0.1, lon.max() + 0.1, n),
            (lat.min(), lon.min(), lat.max(), lon.max()))


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_qamtu(n: int, repeat: int, out):
    from qamtu.mapping.gazetteer import Gazetteer
    from qamtu.mapping.tagging import Tagger

    lat, lon, _ = _fixes(n)
    tagger = Tagger(Gazetteer.load())
    base = _rss_mib()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        tags = tagger.tag(lat, lon)
        times.append(time.perf_counter() - t0)
    out.send({"times": times, "peak_extra_mib": _rss_mib() - base, "tagged": int((tags.index >= 0).sum())})


def run_sjoin(n: int, repeat: int, max_distance_m: float, out):
    import geopandas as gpd

    from qamtu.mapping.gazetteer import Gazetteer

    lat, lon, _ = _fixes(n)
    g = Gazetteer.load()
    crs = "+proj=aeqd +lat_0=42.5 +lon_0=68.5 +datum=WGS84 +units=m"
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
    args = ap.parse_args()
    from qamtu.mapping.tagging import TaggingRule

    rule = TaggingRule.load()
    max_reach = max(k["max_m"] for k in rule.kinds.values())
    console = Console()
    with console.status(f"tagging {args.points:,} fixes with Qamtu's tagger…"):
        ours = _child(run_qamtu, args.points, args.repeat)
    with console.status(f"tagging {args.points:,} fixes with geopandas.sjoin_nearest…"):
        theirs = _child(run_sjoin, args.points, args.repeat, max_reach)
    best_ours, best_theirs = min(ours["times"]), min(theirs["times"])
    t = Table(title=f"Tagging {args.points:,} random fixes (best of {args.repeat}, seed {SEED}, rule {rule.version})")
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
                  f"(below 1 means Qamtu is faster); goal: 1M fixes under 3 s -> "
                  f"{'met' if args.points < 1_000_000 or best_ours < 3 else 'NOT met'}")


if __name__ == "__main__":
    main()
