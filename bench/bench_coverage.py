"""Benchmark: N samples over the gazetteer's regions (the four of the inspection's territory) -> read
from the store, classify, build the coverage map (all regions, their district and region outlines),
load it in headless Chromium. Prints figures; not a test.

    .venv/bin/python bench/bench_coverage.py                       # 1,000,000 samples, map + browser
    .venv/bin/python bench/bench_coverage.py --samples 10000000 --no-map   # classification of 10 M

The store is written with bulk SQL straight into the ``samples`` / ``speedtests`` projection tables
(no hash chain, no payload records: ~0.3 ms per sample through the chained writer would take an
hour for 10 M). Such a store is for benchmarks only: ``qamtu sessions check`` rejects it. Samples lie
within 2 km of the located settlements of every region (3 operators, conditions from
``probe.synthetic.default_condition``), over 30 days; one speed test per 50 samples.
Goals (issues 6 and 17): build < 30 s, HTML < 8 MB, interactive < 3 s for 1 M over the four regions;
classification of 10 M < 60 s.

``--postgres`` (issue 15): the coverage map page (``office.maps.coverage_json``: classification from
the sample aggregates + ``map_data``) against a PostGIS store started for the run. The bench samples
are bulk-written (above), so their aggregates (daily, and the monthly roll-up of probe migration 5)
are made by ``probe.aggregates.rebuild`` (the migrations' backfill SQL, timed). ``--pg-samples``
copies the samples themselves into PostGIS and rebuilds the aggregates there (end to end); without
it only the aggregate rows and the speed tests are copied (the same rows, at the cardinality the N
samples give). ``--sessions`` (default 2,000) session rows are added, as two inspectors' days over
the years would leave: the page reads each session's synthetic mark. It prints the best and median
wall time of five page builds and the CPU seconds of the median one, in Python and in the PostgreSQL
server's backends (compare those on a busy machine).

The bench's 30 days are May 2026, a whole month of the default period (the rule set's 365 days
ending with the last day measured): the signal comes from the monthly roll-up. ``--period
2026-05-02..2026-05-30`` leaves no whole month, so all 29 days are read from the daily tables (what
the partial first and last months of a period cost, at this bench's samples per day)::

    .venv/bin/python bench/bench_coverage.py --samples 1000000 --postgres --pg-samples
    .venv/bin/python bench/bench_coverage.py --samples 10000000 --postgres --db /tmp/bench-10m.db
    .venv/bin/python bench/bench_coverage.py --samples 10000000 --postgres --db /tmp/bench-10m.db \\
        --period 2026-05-02..2026-05-30
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser import CHROMIUM, chromium  # noqa: E402

from qamtu.mapping.coverage_map import build_coverage_map
from qamtu.mapping.gazetteer import Gazetteer
from qamtu.probe.store import Store
from qamtu.probe.synthetic import default_condition
from qamtu.mapping.classify import classify
from qamtu.reports.coverage import read_inputs

OPS = ("401-02", "401-01", "401-77")
TECH_RSRP = {"none": None, "GSM": "rssi_dbm", "UMTS": "rscp_dbm", "LTE": "rsrp_dbm", "NR-NSA": "rsrp_dbm"}


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_bench_store(path: Path, n: int, seed: int = 8) -> dict:
    """Bulk-write n samples (+ n/50 speed tests) into a fresh store at ``path``."""
    from rich.progress import Progress

    if path.exists():
        path.unlink()
    Store(path).close()                       # creates and migrates the schema
    g = Gazetteer.load()
    places = [s for s in g if s.located and s.populated]
    rng = np.random.default_rng(seed)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA foreign_keys=OFF")
    conds = {(s.kato, op): default_condition(s.kato, op) for s in places for op in OPS}
    start = np.datetime64("2026-05-01T04:00:00", "us")
    chunk = 500_000
    t0 = time.perf_counter()
    with Progress() as bar:
        task = bar.add_task("writing bench samples", total=n)
        done = 0
        while done < n:
            m = min(chunk, n - done)
            pi = rng.integers(0, len(places), m)
            oi = rng.integers(0, len(OPS), m)
            lat0 = np.array([places[i].lat for i in range(len(places))])[pi]
            lon0 = np.array([places[i].lon for i in range(len(places))])[pi]
            d = 2000 * np.sqrt(rng.random(m))
            a = rng.random(m) * 2 * np.pi
            lat = lat0 + d * np.cos(a) / 111_195
            lon = lon0 + d * np.sin(a) / (111_195 * np.cos(np.radians(lat0)))
            t = start + (rng.random(m) * 30 * 86400e6).astype("timedelta64[us]")
            times = np.char.add(np.datetime_as_string(t, unit="us"), "Z")
            noise = rng.normal(0, 4, m)
            rows = []
            for j in range(m):
                kato = places[pi[j]].kato
                op = OPS[oi[j]]
                c = conds[(kato, op)]
                sig = {"rsrp_dbm": None, "rscp_dbm": None, "rssi_dbm": None}
                metric = TECH_RSRP[c.technology]
                if metric:
                    sig[metric] = float(c.rsrp_dbm + noise[j]) + (30 if metric == "rssi_dbm" else 0)
                rows.append((f"b{done + j}", "bench", done + j + 1, str(times[j]),
                             "no_service" if c.technology == "none" else "ok", "bench", "401", op[4:], c.technology,
                             sig["rsrp_dbm"], sig["rscp_dbm"], sig["rssi_dbm"], float(lat[j]), float(lon[j]), "3d",
                             kato, "tagged", "bench"))
            conn.executemany(
                "INSERT INTO samples (record_id, session_id, seq, time_utc, status, port, operator_mcc, operator_mnc, "
                "technology, rsrp_dbm, rscp_dbm, rssi_dbm, lat, lon, fix_mode, kato, tag_reason, inspector) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            tests = []
            for j in range(0, m, 50):
                kato = places[pi[j]].kato
                op = OPS[oi[j]]
                c = conds[(kato, op)]
                ok = c.download_mbps is not None
                tests.append((f"t{done + j}", "bench", done + j + 1, str(times[j]), "settlement", "bench", "401",
                              op[4:], None if c.technology == "none" else c.technology, "qamtu-http", "bench", 0,
                              int(ok), float(c.download_mbps * rng.lognormal(0, 0.25)) if ok else None,
                              float((c.upload_mbps or 1) * rng.lognormal(0, 0.25)) if ok else None,
                              None if ok else "server_unreachable", kato, "bench"))
            conn.executemany(
                "INSERT INTO speedtests (record_id, session_id, seq, time_utc, trigger, port, operator_mcc, "
                "operator_mnc, technology, method, method_version, consumer_comparable_only, valid, download_mbps, "
                "upload_mbps, failure_cause, kato, inspector) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", tests)
            conn.commit()
            done += m
            bar.update(task, completed=done)
    conn.close()
    return {"samples": n, "seconds": time.perf_counter() - t0, "bytes": path.stat().st_size}


def chromium_load(html: Path) -> dict:
    if not CHROMIUM:
        return {"error": "chromium not installed"}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        # real time (no virtual-time budget): the page script runs before load
        out, _requests = chromium(html.as_uri(), Path(tmp), "--dump-dom", timeout=180)
        wall = time.perf_counter() - t0
    head = re.search(r"<html[^>]*>", out)
    attrs = dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', head.group(0))) if head else {}
    return {"browser_wall_s": wall, "ready": attrs.get("data-qamtu-ready"),
            "interactive_ms": float(attrs.get("data-qamtu-ready-ms", "nan")),
            "markers": attrs.get("data-qamtu-markers"), "errors": attrs.get("data-qamtu-errors")}


def _copy_table(src: Store, dst, table: str, columns: list[str]) -> int:
    """Copy ``table`` (the bench's rows have no hash-chained records: reference triggers off)."""
    n = 0
    with dst.transaction(f"copying {table}") as tx:
        tx.execute("SET LOCAL session_replication_role = replica")
        for rows in src.iter_rows(f"SELECT {', '.join(columns)} FROM {table}", (), 200_000):
            tx.copy(table, columns, rows)
            n += len(rows)
    return n


def _counts(counts: dict[str, int]) -> str:
    return (f"{counts['sample_days']:,} day rows, {counts['sample_signal_days']:,} signal-bin rows, "
            f"{counts['sample_months']:,} month rows, {counts['sample_signal_months']:,} monthly signal-bin rows")


def _server_cpu(backend: int, postmaster: int) -> float:
    """CPU seconds (user + system) of the PostgreSQL backend ``backend`` plus those of the server's
    exited children (the postmaster's reaped ones: the page's second, short-lived connection)."""
    import os

    def fields(pid: int) -> list[str]:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

    b, m = fields(backend), fields(postmaster)
    return (int(b[11]) + int(b[12]) + int(m[13]) + int(m[14])) / os.sysconf("SC_CLK_TCK")


def _add_sessions(store, n: int) -> None:
    """``n`` closed session rows (two inspectors' days over the years; their records are not written):
    what the page reads per session (the synthetic marks) is then timed at an office's scale."""
    from datetime import datetime, timedelta, timezone

    from qamtu.store.chain import canonical_json

    day0 = datetime(2022, 1, 3, 4, tzinfo=timezone.utc)
    rows = []
    for i in range(n):
        t = day0 + timedelta(days=i // 2, hours=i % 2)
        meta = {"host": f"laptop-{i % 2}", "qamtu_version": "bench", "synthetic": True}
        rows.append((f"bench-session-{i:06d}", t.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
                     (t + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%S.000000Z"), "closed",
                     f"Inspector {i % 2}", None, meta["host"], "bench", canonical_json(meta)))
    with store.transaction("adding bench sessions") as tx:
        tx.executemany("INSERT INTO sessions (session_id, started_utc, ended_utc, status, inspector, inspection_id, "
                       "host, qamtu_version, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def postgres_page(db: Path, *, with_samples: bool, period: str | None = None, repeat: int = 5,
                  sessions: int = 2000) -> None:
    """Time the coverage map page built from the daily aggregates in a PostGIS store."""
    from pg import Cluster

    from qamtu.mapping.coverage_map import map_data
    from qamtu.mapping.leaflet import read_labelled_districts
    from qamtu.probe.aggregates import TABLES, rebuild
    from qamtu.probe.schema import SAMPLE_COLUMNS, SPEEDTEST_COLUMNS
    from qamtu.probe.store import sample_store
    from qamtu.reports.coverage import classify_store
    from qamtu import package_path

    g = Gazetteer.load()
    districts = read_labelled_districts(package_path("mapping", "data", "districts.geojson"))
    cluster = Cluster().start()
    try:
        url = cluster.create_db("benchcov")
        with Store(db) as src:
            pg = sample_store(url)
            t0 = time.perf_counter()
            base = ["record_id", "session_id", "seq", "time_utc"]
            n_tests = _copy_table(src, pg, "speedtests", [*base, *SPEEDTEST_COLUMNS])
            if with_samples:
                n = _copy_table(src, pg, "samples", [*base, *SAMPLE_COLUMNS])
                t1 = time.perf_counter()
                print(f"PostGIS: copied {n:,} samples and {n_tests:,} speed tests in {t1 - t0:.1f} s")
                counts = rebuild(pg)
                print(f"PostGIS: aggregates rebuilt from the samples in {time.perf_counter() - t1:.1f} s: "
                      + _counts(counts))
            else:
                t1 = time.perf_counter()
                counts = rebuild(src)
                print(f"SQLite: aggregates rebuilt from the samples in {time.perf_counter() - t1:.1f} s: "
                      + _counts(counts))
                for table in TABLES:
                    cols = [r["name"] for r in src.query(f"SELECT name FROM pragma_table_info('{table}')")]
                    _copy_table(src, pg, table, cols)
                print(f"PostGIS: copied the aggregate rows and {n_tests:,} speed tests "
                      f"({src.scalar('SELECT COUNT(*) FROM samples'):,} samples behind them)")
            _add_sessions(pg, sessions)
            pg.execute("ANALYZE")
            backend = int(pg.scalar("SELECT pg_backend_pid()"))
            postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
            times, cpu, db_cpu = [], [], []
            for _ in range(repeat):
                t, c, d = time.perf_counter(), time.process_time(), _server_cpu(backend, postmaster)
                cl, _ = classify_store(pg, gazetteer=g, period=period)
                data = map_data(cl, g, None, None, districts)
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
                time.sleep(0.2)   # the second connection's backend has exited and been reaped
                db_cpu.append(_server_cpu(backend, postmaster) - d)
            pg.close()
        mid = sorted(range(repeat), key=lambda i: times[i])[repeat // 2]
        print(f"coverage map page from the aggregates in PostGIS ({cl.period.label}; {sessions:,} sessions; "
              f"{len(cl.by_operator):,} "
              f"settlement x operator rows, {cl.counts['samples_in_period']:,} samples and "
              f"{cl.counts['speedtests_in_period']:,} speed tests in the period, {len(str(data)) / 1e6:.1f} MB JSON): "
              f"best {min(times):.2f} s, median {times[mid]:.2f} s of {repeat} (goal < 2 s); CPU of the median run: "
              f"Python {cpu[mid]:.2f} s + PostgreSQL server {db_cpu[mid]:.2f} s")
    finally:
        cluster.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--db", type=Path, default=None, help="store to (re)use; written if missing")
    ap.add_argument("--no-map", action="store_true", help="classification only")
    ap.add_argument("--keep", action="store_true", help="keep the bench store and map")
    ap.add_argument("--postgres", action="store_true", help="time the coverage map page from the aggregates in PostGIS")
    ap.add_argument("--pg-samples", action="store_true", help="with --postgres: copy the samples too, rebuild there")
    ap.add_argument("--sessions", type=int, default=2000,
                    help="with --postgres: session rows in the store (the page reads each one's synthetic mark)")
    ap.add_argument("--period", default=None,
                    help="with --postgres: the classification's period (default: the rule set's window; "
                         "2026-05-02..2026-05-30 reads every day from the daily tables)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qamtu-bench-"))
    db = args.db or work / f"bench-{args.samples}.db"
    try:
        if not db.exists():
            w = write_bench_store(db, args.samples)
            print(f"store: {w['samples']:,} samples written in {w['seconds']:.1f} s ({w['bytes'] / 2**20:.0f} MiB)")
        if args.postgres:
            postgres_page(db, with_samples=args.pg_samples, period=args.period, sessions=args.sessions)
            return
        g = Gazetteer.load()
        t0 = time.perf_counter()
        with Store(db) as store:
            inputs = read_inputs(store)
        t_read = time.perf_counter() - t0
        cl = classify(inputs.samples, inputs.speedtests, g, inputs.rules, inputs.period)
        t_cls = time.perf_counter() - t0
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"read + classify {len(inputs.samples):,} samples: {t_cls:.2f} s (read {t_read:.2f} s, "
              f"classify {t_cls - t_read:.2f} s; {len(cl.by_operator):,} settlement x operator rows, "
              f"{int(cl.settlements['measured'].sum())} settlements measured), peak RSS {_rss_mib():.0f} MiB"
              + (f" (+ reader processes {children:.0f} MiB each at most)" if children else ""))
        if args.no_map:
            return
        out = work / "map.html"
        t1 = time.perf_counter()
        res = build_coverage_map(cl, g, out, samples=inputs.samples, offline=True)
        t_map = time.perf_counter() - t1
        print(f"map build (H3 {res['hex_resolution']}: {res['hexagons']:,} hexagons, {res['markers']} settlements x "
              f"{len(res['layers'])} layers): {t_map:.2f} s; HTML {res['bytes'] / 1e6:.2f} MB")
        print(f"classification + map build: {t_cls + t_map:.2f} s (goal < 30 s)")
        b = chromium_load(out)
        print(f"headless Chromium: ready={b.get('ready')} errors={b.get('errors')} markers={b.get('markers')}; "
              f"page interactive after {b.get('interactive_ms', float('nan')) / 1000:.2f} s (performance.now at ready; "
              f"goal < 3 s); whole browser run {b.get('browser_wall_s', float('nan')):.2f} s")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")


if __name__ == "__main__":
    sys.exit(main())
