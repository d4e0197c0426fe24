"""Benchmarks of the regional store: pushing 1,000,000 samples into PostGIS, and classifying
10,000,000 samples there. Prints figures; asserts nothing. Needs PostgreSQL + PostGIS (Debian
packages postgresql, postgresql-15-postgis-3); starts a throwaway cluster like the tests, with the
server's default settings unless --pg-setting says otherwise.

    .venv/bin/python bench/bench_db.py [--samples 1000000] [--classify-samples 10000000]
        [--workers 2] [--laptop FILE] [--skip-classify] [--pg-setting NAME=VALUE ...] [--per-place 1]

1. A laptop file with --samples hash-chained samples (1.2 KB payloads from the synthetic
   generator's template, 2.5 GB of SQLite for a million; --laptop keeps it for the next run; each
   sample in the next settlement of the gazetteer, the worst case for the daily aggregates, or
   --per-place consecutive samples in one, as a drive through villages gives) is
   pushed with `push()` into an empty PostGIS database: seconds, records/s, and the CPU seconds
   of the pushing processes and of the PostgreSQL server (µs per record); then pushed again (all
   skipped). Then the coverage map page is built three times over the pushed store (real sessions
   with their records, unlike bench_coverage's bulk-written samples), and `sessions()` timed.
2. --classify-samples projection rows are generated inside PostgreSQL (generate_series; the chain
   is not needed to time a query), then the per settlement x operator x technology aggregation
   that classification needs is timed, for the whole table and for a one-month window, with
   EXPLAIN to show whether the time and settlement indexes are used.
"""

from __future__ import annotations

import argparse
import copy
import os
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from pg import Cluster  # noqa: E402

from qamtu.mapping.gazetteer import Gazetteer  # noqa: E402
from qamtu.store.chain import GENESIS, canonical_json, record_hash  # noqa: E402
from qamtu.probe.ids import uuid7  # noqa: E402
from qamtu.probe.push import push  # noqa: E402
from qamtu.probe.store import Store, projection  # noqa: E402
from qamtu.probe.store import sample_store as open_store  # noqa: E402
from qamtu.probe.synthetic import Campaign, Condition, write_campaign  # noqa: E402

PER_SESSION = 50_000


def _template(tmp: Path) -> dict:
    with Store(tmp / "template.db") as st:
        write_campaign(st, Campaign({"611010000": (43.301946, 68.27037)}, lambda k, o: Condition("LTE", -95, 9, 2),
                                    days=1, samples_per_visit=1, speedtests_per_visit=0, operators=("401-02",)))
        import json
        row = st.scalar("SELECT payload FROM records WHERE kind = 'sample' LIMIT 1")
    return json.loads(row)


def fill(path: Path, n: int, progress: Progress, per_place: int = 1) -> None:
    """n samples in sessions of PER_SESSION, chained, with projections (one transaction per session);
    ``per_place`` consecutive samples in each settlement (1: every sample in the next one)."""
    tmp = path.parent
    template = _template(tmp)
    places = [(s.lat, s.lon, s.kato) for s in Gazetteer.load() if s.located and s.populated]
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    task = progress.add_task("writing the laptop file", total=n)
    with Store(path) as st:
        done = 0
        while done < n:
            sid = uuid7()
            count = min(PER_SESSION, n - done)
            prev, recs, projs = GENESIS, [], []
            for i in range(count):
                lat, lon, kato = places[((done + i) // per_place) % len(places)]
                p = copy.deepcopy(template)
                p["reading"]["cells"][0]["rsrp_dbm"] = -70.0 - (i % 50)
                p["fix"]["lat_deg"], p["fix"]["lon_deg"] = lat + (i % 7) * 1e-4, lon
                p["settlement"]["kato"] = kato
                text = canonical_json(p)
                t = (t0 + timedelta(seconds=done + i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                rid = uuid7()
                h = record_hash(sid, i + 1, rid, "sample", t, prev, text)
                recs.append((rid, sid, i + 1, "sample", t, text, prev, h))
                values = projection("sample", p)
                projs.append((rid, sid, i + 1, t, *values.values()))
                prev = h
            with st.transaction("writing a bench session") as tx:
                tx.execute("INSERT INTO sessions VALUES (?, ?, NULL, 'open', 'bench', NULL, 'bench', '0', '{}')",
                           (sid, t0.strftime("%Y-%m-%dT%H:%M:%S.%fZ")))
                tx.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?)", recs)
                tx.executemany(f"INSERT INTO samples VALUES ({', '.join('?' * len(projs[0]))})", projs)
            done += count
            progress.update(task, completed=done)


CLASSIFY_SQL = """
SELECT kato, operator_mcc, operator_mnc, technology, COUNT(*) AS samples,
       COUNT(DISTINCT substr(time_utc, 1, 10)) AS days,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY rsrp_dbm) AS median_rsrp_dbm,
       MAX(rsrp_dbm) AS best_rsrp_dbm,
       SUM(CASE WHEN rsrp_dbm >= -115 THEN 1 ELSE 0 END) AS at_or_above_threshold
FROM samples WHERE kato IS NOT NULL {window}
GROUP BY kato, operator_mcc, operator_mnc, technology
"""


def process_cpu_s(pid: int, *, reaped_children: bool = False) -> float:
    """CPU seconds (user + system) process ``pid`` has used so far, from /proc; with
    ``reaped_children`` also those of its children that exited (cutime/cstime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15 if reaped_children else 13]) / os.sysconf("SC_CLK_TCK")


def server_cpu_s(cluster: Cluster) -> float:
    """CPU seconds the PostgreSQL server has used so far: the postmaster, its children that
    exited and those still running."""
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    total = process_cpu_s(postmaster, reaped_children=True)
    for child in Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split():
        try:
            total += process_cpu_s(int(child))
        except FileNotFoundError:
            pass
    return total


def client_cpu_s() -> float:
    """CPU seconds of this process and its finished children (the push workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def coverage_page(store) -> tuple[list[float], float, int]:
    """Seconds of three coverage map page builds (``classify_store`` + ``map_data``, what
    ``/staff/maps/coverage`` serves) over a pushed store, the seconds of ``sessions()`` (every
    session's record counts), and the number of sessions."""
    from qamtu import package_path
    from qamtu.mapping.coverage_map import map_data
    from qamtu.mapping.gazetteer import Gazetteer
    from qamtu.mapping.leaflet import read_labelled_districts
    from qamtu.probe.store import sample_store
    from qamtu.reports.coverage import classify_store

    g = Gazetteer.load()
    districts = read_labelled_districts(package_path("mapping", "data", "districts.geojson"))
    samples = sample_store(store)
    times = []
    for _ in range(3):
        t = time.perf_counter()
        cl, _ = classify_store(samples, gazetteer=g)
        map_data(cl, g, None, None, districts)
        times.append(time.perf_counter() - t)
    t = time.perf_counter()
    n = len(samples.sessions())
    return times, time.perf_counter() - t, n


def classify_bench(url: str, n: int, console: Console) -> list[tuple]:
    with open_store(url) as st:
        with console.status(f"generating {n:,} sample rows inside PostgreSQL…"):
            t = time.perf_counter()
            # projection rows only (no chained records): skip the foreign-key check for this bench table
            st.execute("SET session_replication_role = replica")
            st.execute("""
INSERT INTO samples (record_id, session_id, seq, time_utc, status, port, operator_mcc, operator_mnc, technology,
                     rsrp_dbm, lat, lon, fix_mode, kato, tag_reason, inspector)
SELECT 'r' || g, 's' || (g / 50000), g % 50000, to_char(timestamp '2026-01-01' + g * interval '3 second',
       'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'ok', 'p', '401', (ARRAY['01','02','77'])[1 + g % 3],
       (ARRAY['LTE','LTE','UMTS','GSM'])[1 + g % 4], -70 - (g % 60), 41 + (g % 997) * 0.005, 66 + (g % 991) * 0.005,
       '3D', '61' || lpad(((g / 7) % 800)::text, 7, '0'), 'tagged', 'bench'
FROM generate_series(1, %s) g""".replace("%s", str(n)))
            st.execute("ANALYZE samples")
            fill_s = time.perf_counter() - t
        rows = [("generate + analyze", n, fill_s, "")]
        for label, window in (("whole table", ""),
                              ("one month", "AND time_utc >= '2026-03-01' AND time_utc < '2026-04-01'")):
            sql = CLASSIFY_SQL.format(window=window)
            plan = "\n".join(r[0] for r in st.rows("EXPLAIN " + sql))
            used = [ix for ix in ("samples_time", "samples_kato", "samples_geom") if ix in plan]
            t = time.perf_counter()
            groups = st.rows(sql)
            rows.append((f"classification aggregate, {label}", len(groups), time.perf_counter() - t,
                         ", ".join(used) or "none (sequential scan)"))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--classify-samples", type=int, default=10_000_000)
    ap.add_argument("--workers", type=int, default=2, help="push worker processes (sessions at once)")
    ap.add_argument("--laptop", type=Path, help="keep the laptop file here and reuse it on the next run "
                                                "(default: a temporary file)")
    ap.add_argument("--pg-setting", action="append", default=[], metavar="NAME=VALUE",
                    help="a server setting for the throwaway cluster (repeatable), e.g. max_wal_size=4GB")
    ap.add_argument("--skip-classify", action="store_true", help="only the push benchmark")
    ap.add_argument("--per-place", type=int, default=1, metavar="N",
                    help="consecutive samples per settlement in a new laptop file (default 1: each sample in the "
                         "next settlement, the most daily-aggregate rows per batch)")
    args = ap.parse_args()
    console = Console()
    cluster = Cluster(dict(s.split("=", 1) for s in args.pg_setting)).start()
    if args.pg_setting:
        console.print(f"server settings: {', '.join(args.pg_setting)}")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            laptop = args.laptop or Path(tmp) / "laptop.db"
            with Progress(console=console) as progress:
                t = time.perf_counter()
                reused = laptop.exists()
                if not reused:
                    fill(laptop, args.samples, progress, args.per_place)
                fill_s = time.perf_counter() - t
                with Store(laptop) as st:
                    held = st.scalar("SELECT COUNT(*) FROM records")
                if held != args.samples:
                    raise SystemExit(f"{laptop}: holds {held:,} records, not --samples {args.samples:,}")
                size = laptop.stat().st_size / 2**20
                url = cluster.create_db("bench_push")
                with Store(laptop) as src, open_store(url) as dst:
                    task = progress.add_task("pushing", total=args.samples)
                    done = {}

                    def tick(sid, n, total):
                        done[sid] = n
                        progress.update(task, completed=sum(done.values()))

                    t, client0, server0 = time.perf_counter(), client_cpu_s(), server_cpu_s(cluster)
                    first = push(src, dst, progress=tick, workers=args.workers)
                    push_s = time.perf_counter() - t
                    cpu = (client_cpu_s() - client0, server_cpu_s(cluster) - server0)
                    t = time.perf_counter()
                    second = push(src, dst, workers=args.workers)
                    again_s = time.perf_counter() - t
                    dst.execute("ANALYZE")
                    page_s, sessions_s, n_sessions = coverage_page(dst)
            table = Table(title=f"db push: {args.samples:,} samples ({size:.0f} MiB SQLite) -> PostGIS, "
                                f"{args.workers} worker(s)")
            for c in ("step", "records", "seconds", "records/s"):
                table.add_column(c, justify="right")
            if reused:
                table.add_row(f"laptop file {laptop} (reused)", f"{args.samples:,}", "", "")
            else:
                table.add_row("write laptop file (bench set-up)", f"{args.samples:,}", f"{fill_s:.1f}",
                              f"{args.samples / fill_s:,.0f}")
            table.add_row("first push (added)", f"{first.added:,}", f"{push_s:.1f}", f"{first.added / push_s:,.0f}")
            table.add_row("second push (skipped)", f"{second.skipped:,}", f"{again_s:.1f}",
                          f"{second.skipped / again_s:,.0f}")
            console.print(table)
            console.print(f"first push CPU: {cpu[0]:.1f} s client (Python) + {cpu[1]:.1f} s server (PostgreSQL) = "
                          f"{sum(cpu):.1f} s on {os.cpu_count()} cores "
                          f"({sum(cpu) / push_s / os.cpu_count():.0%} busy); "
                          f"µs per record: {cpu[0] / args.samples * 1e6:.0f} client, "
                          f"{cpu[1] / args.samples * 1e6:.0f} server")
            console.print(f"goal: 1,000,000 samples pushed in under 60 s -> "
                          f"{'met' if push_s < 60 * args.samples / 1e6 else 'NOT met'}")
            console.print(f"coverage map page over the pushed store ({n_sessions} sessions with their records): "
                          f"best {min(page_s):.2f} s, median {sorted(page_s)[1]:.2f} s of 3; "
                          f"`sessions list` (every session's counts) {sessions_s:.2f} s")
        if args.skip_classify:
            return
        rows = classify_bench(cluster.create_db("bench_classify"), args.classify_samples, console)
        t = Table(title=f"Classification aggregate over {args.classify_samples:,} samples in PostGIS")
        for c in ("step", "rows / groups", "seconds", "indexes in the plan"):
            t.add_column(c)
        for step, n, s, used in rows:
            t.add_row(step, f"{n:,}", f"{s:.1f}", used)
        console.print(t)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
