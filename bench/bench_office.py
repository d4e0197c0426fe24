"""Benchmark of the office's public side: the settlement page and Open311 ``GET requests.json`` at 16
concurrent clients over loopback, on a store of 1,000,000 samples and 100,000 cases. Prints p50/p95,
errors and the server's CPU per request; asserts nothing.

    .venv/bin/python bench/bench_office.py [--samples 1000000] [--cases 100000] [--requests 800]
        [--clients 16] [--store FILE] [--client procs|httpx|ab] [--no-gzip] [--http auto|h11|httptools]
        [--loop auto|asyncio|uvloop] [--only TEXT] [--profile]

``--store FILE`` builds the store there once (~3 min, 1.1 GB; keep it outside the work tree) and
reuses it on later runs.

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

Then the app runs under uvicorn in a child process (one worker, ``server_config`` as ``qamtu office
serve``, with uvicorn's ``--http``/``--loop`` choice); the coverage classification is warmed once;
``--requests`` requests per endpoint are sent by ``--clients`` concurrent clients:

* ``procs`` (default): one process per client, each a keep-alive HTTP/1.1 connection on a blocking
  socket, sending ``Accept-Encoding: gzip`` like a browser unless ``--no-gzip``: little client CPU,
  so the load generator does not distort the server's latency on a 2-core machine;
* ``httpx``: ``--clients`` httpx AsyncClients in this one process (the earlier bench; its own CPU
  competes with the server);
* ``ab``: Apache Bench with keep-alive (C), for the fixed-path endpoints only (install it with
  ``apt-get install apache2-utils``; no test needs it).

``server CPU`` is the server process's user+system CPU over the run divided by the requests (from
/proc): the figure to compare on a shared machine. ``--profile`` runs the server under cProfile with
every view inline on the event loop and prints, per endpoint, the functions by own and cumulative
time per request. The machine may be shared: say so with the figures (the load average is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
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
import sys
import uvicorn
from qamtu.office.app import create_app, server_config
cfg = server_config(create_app(sys.argv[1]), "127.0.0.1", int(sys.argv[2]), log_level="warning")
cfg.http, cfg.loop = sys.argv[3], sys.argv[4]
uvicorn.Server(cfg).run()
"""

#: the server under cProfile, every view run inline on the event loop (one thread to profile); SIGUSR1 starts
#: a fresh profile, SIGUSR2 writes it to argv[5]
PROFILED_SERVER = """
import asyncio, cProfile, signal, sys
import uvicorn
from qamtu.office import public, public_cache, open311, web
from qamtu.office.app import create_app, server_config

async def inline(fn, *args, **kwargs):
    return fn(*args, **kwargs)

web.run_in_threadpool = public_cache.run_in_threadpool = public.run_in_threadpool = open311.run_in_threadpool = inline
cfg = server_config(create_app(sys.argv[1]), "127.0.0.1", int(sys.argv[2]), log_level="warning")
cfg.http, cfg.loop = sys.argv[3], sys.argv[4]
prof = [cProfile.Profile()]

def start(*_):
    prof[0] = cProfile.Profile()
    prof[0].enable()

def stop(*_):
    prof[0].disable()
    prof[0].dump_stats(sys.argv[5])

signal.signal(signal.SIGUSR1, start)
signal.signal(signal.SIGUSR2, stop)
uvicorn.Server(cfg).run()
"""


async def hammer(base: str, paths: list[str], clients: int) -> tuple[list[float], int]:
    """The httpx load generator (``--client httpx``): ``clients`` AsyncClients in this one process."""
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


def _lean_client(port: int, paths: list[str], gzip: bool, start_at: float, out) -> None:
    """One keep-alive HTTP/1.1 connection on a blocking socket; sends ``paths`` one after the other, reads each
    answer by its Content-Length and returns (milliseconds per request, errors) through ``out``."""
    times: list[float] = []
    errors = 0
    cookie = b""
    extra = b"Accept-Encoding: gzip\r\n" if gzip else b""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    while time.time() < start_at:
        time.sleep(0.001)
    for p in paths:
        t = time.perf_counter()
        ok = False
        try:
            sock.sendall(b"GET " + p.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + cookie + b"\r\n")
            while b"\r\n\r\n" not in buf:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed")
                buf += chunk
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            length = -1
            for line in lines[1:]:
                k, _, v = line.partition(b":")
                k = k.strip().lower()
                if k == b"content-length":
                    length = int(v)
                elif k == b"set-cookie" and v.strip().startswith(b"qamtu_csrf="):
                    cookie = b"Cookie: " + v.strip().split(b";")[0] + b"\r\n"
            if length < 0:
                raise ConnectionError("no Content-Length")
            while len(buf) < length:
                chunk = sock.recv(max(65536, length - len(buf)))
                if not chunk:
                    raise ConnectionError("closed")
                buf += chunk
            buf = buf[length:]
            ok = lines[0].split(b" ")[1] == b"200"
        except (OSError, ValueError, IndexError):
            sock.close()
            sock = socket.create_connection(("127.0.0.1", port))
            buf = b""
        times.append((time.perf_counter() - t) * 1000)
        errors += 0 if ok else 1
    sock.close()
    out.send((times, errors))


def lean(port: int, paths: list[str], clients: int, gzip: bool) -> tuple[list[float], int]:
    """The default load generator (``--client procs``): ``clients`` processes, one connection each."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    start_at = time.time() + 0.3
    pipes, procs = [], []
    for i in range(clients):
        a, b = ctx.Pipe(duplex=False)
        pr = ctx.Process(target=_lean_client, args=(port, paths[i::clients], gzip, start_at, b))
        pr.start()
        pipes.append(a)
        procs.append(pr)
    times: list[float] = []
    errors = 0
    for a, pr in zip(pipes, procs):
        t, e = a.recv()
        times += t
        errors += e
        pr.join()
    return times, errors


def ab(port: int, path: str, n: int, clients: int, gzip: bool) -> tuple[list[float], int]:
    """Apache Bench (``--client ab``, C, keep-alive): one fixed path; per-request times from its ``-g`` file."""
    with tempfile.TemporaryDirectory() as d:
        tsv = Path(d) / "ab.tsv"
        cmd = ["ab", "-q", "-k", "-c", str(clients), "-n", str(n), "-g", str(tsv)]
        if gzip:
            cmd += ["-H", "Accept-Encoding: gzip"]
        out = subprocess.run([*cmd, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True)
        failed = sum(int(line.split()[-1]) for line in out.stdout.splitlines()
                     if line.startswith(("Failed requests:", "Non-2xx responses:")))
        times = [float(line.split("\t")[4]) for line in tsv.read_text().splitlines()[1:]]
    return times, failed


def pct(values: list[float], p: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile_report(stats_file: Path, n: int, top: int = 22) -> None:
    """Print the functions of the profile by their own and their cumulative time, in microseconds per request."""
    import pstats

    st = pstats.Stats(str(stats_file))
    total = sum(v[2] for v in st.stats.values())  # type: ignore[attr-defined]
    print(f"  profiled CPU per request: {total / n * 1e6:.0f} us (cProfile inflates it; compare shares)")
    rows = []
    for (file, line, func), (_cc, _nc, tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        where = "/".join(Path(file).parts[-2:]) if file != "~" else ""
        rows.append((tt, ct, f"{where}:{line}({func})"))
    for title, key in (("own time", 0), ("cumulative", 1)):
        print(f"  top {top} by {title} (us per request):")
        for r in sorted(rows, key=lambda r: -r[key])[:top]:
            print(f"    {r[0] / n * 1e6:8.1f} own {r[1] / n * 1e6:8.1f} cum  {r[2]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=800, help="requests per endpoint")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--store", type=Path, help="reuse (or keep) this store file")
    ap.add_argument("--client", choices=("procs", "httpx", "ab"), default="procs",
                    help="load generator: one process per client (default), httpx in this process, or ab")
    ap.add_argument("--gzip", action=argparse.BooleanOptionalAction, default=True,
                    help="send Accept-Encoding: gzip like a browser (httpx always does)")
    ap.add_argument("--http", choices=("auto", "h11", "httptools"), default="auto", help="uvicorn's HTTP parser")
    ap.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto", help="uvicorn's event loop")
    ap.add_argument("--only", help="run only the endpoints whose name contains this text")
    ap.add_argument("--profile", action="store_true",
                    help="run the server under cProfile (views inline) and print where its CPU goes per endpoint")
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
    prof_file = Path(tempfile.mkdtemp(prefix="bench-office-prof-")) / "office.prof"
    code = PROFILED_SERVER if args.profile else SERVER
    proc = subprocess.Popen([sys.executable, "-c", code, str(path), str(port), args.http, args.loop, str(prof_file)])
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
        if args.only:
            runs = {k: v for k, v in runs.items() if args.only in k}
        if args.client == "ab" and not shutil.which("ab"):
            raise SystemExit("--client ab: ab is not installed (Debian: apt-get install apache2-utils)")
        print(f"{args.clients} concurrent clients ({args.client}, gzip {'on' if args.gzip else 'off'}), "
              f"{args.requests} requests per endpoint, loopback, one uvicorn worker "
              f"(http {args.http}, loop {args.loop}); "
              f"load average {os.getloadavg()[0]:.2f}")
        for name, paths in runs.items():
            asyncio.run(hammer(base, ["/open311/v2/services.json"] * 32, args.clients))   # warm the connection pools
            if args.profile:
                proc.send_signal(signal.SIGUSR1)
                time.sleep(0.2)
            cpu = cpu_seconds(proc.pid)
            t = time.perf_counter()
            if args.client == "httpx":
                times, errors = asyncio.run(hammer(base, paths, args.clients))
            elif args.client == "ab":
                if len(set(paths)) > 1:
                    print(f"{name:60s} skipped: ab sends one fixed path")
                    continue
                times, errors = ab(port, paths[0], len(paths), args.clients, args.gzip)
            else:
                times, errors = lean(port, paths, args.clients, args.gzip)
            wall = time.perf_counter() - t
            cpu = cpu_seconds(proc.pid) - cpu
            print(f"{name:60s} p50 {statistics.median(times):7.1f} ms  p95 {pct(times, 95):7.1f} ms  "
                  f"max {max(times):7.1f} ms  {len(times) / wall:6.1f} req/s  errors {errors}  "
                  f"server CPU {cpu / len(times) * 1000:5.2f} ms/req", flush=True)
            if args.profile:
                proc.send_signal(signal.SIGUSR2)
                time.sleep(0.5)
                profile_report(prof_file, len(times))
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
