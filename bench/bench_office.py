"""Benchmark of the office's public side: the settlement page and Open311 ``GET requests.json`` at 16
concurrent clients over loopback, on a store of 1,000,000 samples and 100,000 cases. Prints p50/p95
and errors; asserts nothing.

    .venv/bin/python bench/bench_office.py [--samples 1000000] [--cases 100000] [--requests 800]
        [--clients 16] [--store FILE] [--keep]

Building the store (SQLite):

* samples: a synthetic campaign over every located settlement is written through the probe's
  public API (hash-chained sessions), then its sample rows are copied with new record ids and
  sequence numbers by ``INSERT ... SELECT`` inside one store transaction until ``--samples`` rows
  exist (the copies' payloads are ``{}`` and their chains are not valid: the pages under test never
  read them per request; only the background classification does).
* cases: ``--cases`` rows of cases, complaints, case links and applicants are inserted in one store
  transaction (``tx.executemany``) over the last two years, about 70 % closed; the history chain
  is not written (the pages under test do not read it). The office migrations (indexes included)
  are applied by opening the store.

Then the app runs under uvicorn in a child process (one worker, as ``qamtu office serve``); the
coverage classification is warmed once; ``--requests`` requests per endpoint are sent by
``--clients`` concurrent httpx clients. The machine may be shared: say so with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

from qamtu.cases.models import SERVICES
from qamtu.mapping.gazetteer import Gazetteer
from qamtu.office import public_schema, schema  # noqa: F401  (registers the office migrations)
from qamtu.probe.store import SampleStore
from qamtu.probe.synthetic import Campaign, default_condition, write_campaign
from qamtu.store import open_store

OPERATORS = ("kcell", "beeline", "tele2_altel")
STATES = ("registered", "accepted", "inspection_appointed", "measured", "order_issued", "remedy_due", "answered")


def build_samples(path: Path, n: int, g: Gazetteer) -> int:
    places = {s.kato: (s.lat, s.lon) for s in g if s.located and s.populated}
    per_visit = 10
    base = write_campaign(SampleStore(path), Campaign(places, default_condition, days=2, samples_per_visit=per_visit,
                                                      speedtests_per_visit=1))
    have = base["samples"]
    store = open_store(path)
    k = 0
    with store.transaction("copying bench samples") as tx:
        while have < n:
            k += 1
            take = min(base["samples"], n - have)
            suffix = f"~copy{k}"
            tx.execute("INSERT INTO records (record_id, session_id, seq, kind, time_utc, payload, prev_hash, hash) "
                       "SELECT record_id || ?, session_id, seq + ?, kind, time_utc, '{}', prev_hash, hash FROM records "
                       "WHERE kind = 'sample' AND record_id NOT LIKE '%~%' ORDER BY record_id LIMIT ?",
                       (suffix, k * 10_000_000, take))
            tx.execute("INSERT INTO samples SELECT record_id || ?, session_id, seq + ?, time_utc, status, port, imei, "
                       "sim_operator, operator_mcc, operator_mnc, technology, registration, rsrp_dbm, rsrq_db, "
                       "sinr_db, rssi_dbm, rscp_dbm, ecio_db, nr_rsrp_dbm, nr_sinr_db, area_code, cell_id, pci, band, "
                       "channel, lat, lon, hdop, fix_mode, kato, kato_distance_m, tag_reason, inspector, inspection_id "
                       "FROM samples WHERE record_id NOT LIKE '%~%' ORDER BY record_id LIMIT ?",
                       (suffix, k * 10_000_000, take))
            have += take
    # the copies bypass the writer: recompute the daily aggregates the pages classify from (`qamtu db aggregate`)
    from qamtu.probe.aggregates import rebuild

    rebuild(store)
    total = store.scalar("SELECT COUNT(*) FROM samples")
    store.close()
    return int(total)


def build_cases(path: Path, n: int, g: Gazetteer, seed: int = 15) -> list[str]:
    rng = random.Random(seed)
    katos = [s for s in g if s.located and s.populated]
    today = date.today()
    store = open_store(path)
    cases, complaints, links, people = [], [], [], []
    for i in range(n):
        s = rng.choice(katos)
        op, svc = rng.choice(OPERATORS), rng.choice(SERVICES)
        opened = today - timedelta(days=rng.randrange(0, 730))
        closed = rng.random() < 0.7
        state = "closed" if closed else rng.choice(STATES)
        fields = {"order_number": f"П-{i}", "order_deadline": (opened + timedelta(days=60)).isoformat()} \
            if state in ("order_issued", "remedy_due") else {}
        cid, talon = f"CASE-B-{i:06d}", f"QT-B-{i:06d}"
        cases.append((cid, s.kato, s.district_kato, op, svc, opened.isoformat(), opened.isoformat(), state,
                      "fixed_confirmed" if closed else None, json.dumps(fields), f"{opened.isoformat()}T09:00:00Z"))
        facts = {"channel": "109", "substance": "bench", "kato": s.kato, "operators": [op], "services": [svc]}
        complaints.append((talon, "109", f"B{i}", opened.isoformat(), f"{opened.isoformat()}T09:00:00Z", "bench", "ru",
                           s.kato, s.district_kato, 0, json.dumps([op]), json.dumps([svc]), json.dumps(facts),
                           opened.isoformat() if closed else None))
        links.append((cid, talon))
        people.append((talon, f"Bench Person {i}", "", "bench address", "", ""))
    with store.transaction("inserting bench cases") as tx:
        tx.executemany("INSERT INTO cases_cases (case_id, kato, district_kato, operator, service, opened, "
                       "last_received, state, outcome, fields, updated_utc, demo) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)", cases)
        tx.executemany("INSERT INTO cases_complaints (complaint_id, channel, external_number, received, "
                       "registered_utc, registered_by, language, kato, district_kato, needs_person, operators, "
                       "services, facts, answered_on, demo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                       complaints)
        tx.executemany("INSERT INTO cases_case_complaints (case_id, complaint_id) VALUES (?, ?)", links)
        tx.executemany("INSERT INTO cases_applicants (complaint_id, name, iin, postal_address, phone, email) "
                       "VALUES (?, ?, ?, ?, ?, ?)", people)
    store.execute("ANALYZE")
    store.close()
    return sorted({c[1] for c in cases})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVER = """
import sys, uvicorn
from qamtu.office.app import create_app
uvicorn.run(create_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


async def hammer(base: str, paths: list[str], clients: int) -> tuple[list[float], int]:
    queue = list(paths)
    times: list[float] = []
    errors = 0

    async def worker():
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, timeout=60) as c:
            while queue:
                p = queue.pop()
                t = time.perf_counter()
                try:
                    r = await c.get(p)
                    ok = r.status_code == 200
                    await r.aread()
                except httpx.HTTPError:
                    ok = False
                times.append((time.perf_counter() - t) * 1000)
                errors += 0 if ok else 1

    await asyncio.gather(*(worker() for _ in range(clients)))
    return times, errors


def pct(values: list[float], p: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=800, help="requests per endpoint")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--store", type=Path, help="reuse (or keep) this store file")
    args = ap.parse_args()
    g = Gazetteer.load()
    path = args.store or Path(tempfile.mkdtemp(prefix="bench-office-")) / "office.db"
    if not path.exists():
        t = time.perf_counter()
        n = build_samples(path, args.samples, g)
        print(f"samples: {n:,} in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        build_cases(path, args.cases, g)
        print(f"cases: {args.cases:,} in {time.perf_counter() - t:.1f} s")
    store = open_store(path)
    katos = [r["kato"] for r in store.query("SELECT DISTINCT kato FROM cases_cases")]
    print(f"store {path}: {store.scalar('SELECT COUNT(*) FROM samples'):,} samples, "
          f"{store.scalar('SELECT COUNT(*) FROM cases_cases'):,} cases, {os.path.getsize(path) / 1e9:.2f} GB")
    store.close()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(path), str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/open311/v2/services.json", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        t = time.perf_counter()
        httpx.get(f"{base}/public/settlements/{katos[0]}", timeout=600)
        print(f"warm-up (coverage classification of the store): {time.perf_counter() - t:.1f} s")
        rng = random.Random(1)
        runs = {
            "settlement page": [f"/public/settlements/{rng.choice(katos)}" for _ in range(args.requests)],
            "requests.json (default: 90 days, up to 1000)": ["/open311/v2/requests.json"] * args.requests,
            "requests.json?page_size=100": ["/open311/v2/requests.json?page_size=100"] * args.requests,
            "requests.json?page_size=100&page=<1..100> (mostly uncached)": [
                f"/open311/v2/requests.json?page_size=100&page={rng.randint(1, 100)}" for _ in range(args.requests)],
            "requests.json?service_code=post&status=open": [
                "/open311/v2/requests.json?service_code=post&status=open"] * args.requests,
        }
        print(f"{args.clients} concurrent clients, {args.requests} requests per endpoint, loopback, one uvicorn worker")
        for name, paths in runs.items():
            asyncio.run(hammer(base, ["/open311/v2/services.json"] * 32, args.clients))   # warm the connection pools
            t = time.perf_counter()
            times, errors = asyncio.run(hammer(base, paths, args.clients))
            wall = time.perf_counter() - t
            print(f"{name:60s} p50 {statistics.median(times):7.1f} ms  p95 {pct(times, 95):7.1f} ms  "
                  f"max {max(times):7.1f} ms  {len(times) / wall:6.1f} req/s  errors {errors}")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
