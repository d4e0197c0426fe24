"""Benchmark: the whole per-sample path of the probe, and its memory over a long session.

read from a simulated modem on a pty -> parse -> join the fix -> tag -> durable commit (WAL,
synchronous=FULL). The simulated devices run in another process, so the CPU figures are the
probe's own. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_probe.py [--seconds 10] [--hour-speed 60]

1. Throughput: modems read back-to-back (interval 0) for --seconds, with 1 and 3 modems:
   samples/s and CPU ms per sample.
2. Memory: a 1-hour session at 1 Hz per modem, 3 modems, at --hour-speed x: peak RSS after
   simulated minute 1 and minute 60.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from qamtu.mapping.gazetteer import Gazetteer
from qamtu.probe.capture import Capture, CaptureConfig
from qamtu.probe.clock import ScaledClock, SystemClock
from qamtu.probe.store import Store

HERE = Path(__file__).resolve().parent


class _Clock:
    """Scenario time matching the device process's SimClock (same speed, started at the same moment)."""

    def __init__(self, speed: float):
        from qamtu.device.scenario import SimClock, load_route

        self.sim = SimClock(speed=speed, start_utc=load_route().start_utc)


def _devices(folder: str, speed: float, modems: int, delay: float = 0.0):
    proc = subprocess.Popen([sys.executable, str(HERE / "sim_devices.py"), folder, str(speed), str(modems), str(delay)],
                            stdout=subprocess.PIPE, text=True)
    return proc, json.loads(proc.stdout.readline())


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def throughput(modems: int, seconds: float, gazetteer: Gazetteer) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        proc, paths = _devices(tmp, 1.0, modems)
        try:
            with Store(Path(tmp) / "bench.db") as store:
                cfg = CaptureConfig(ports=paths[:-1], gnss=paths[-1], inspector="bench", interval_s=0.0,
                                    duration_s=seconds)
                cap = Capture(store, cfg, gazetteer=gazetteer, clock=SystemClock())
                cap.start()
                cpu0, t0 = _cpu_s(), time.monotonic()
                summary = cap.run()
                cpu, wall = _cpu_s() - cpu0, time.monotonic() - t0
                ok = store.verify()[0].ok
        finally:
            proc.kill()
    n = summary["samples"]
    return {"modems": modems, "samples": n, "samples_per_s": n / wall, "cpu_ms_per_sample": 1000 * cpu / max(n, 1),
            "chain_ok": ok}


def memory(speed: float, gazetteer: Gazetteer) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        proc, paths = _devices(tmp, speed, 3)
        marks = {}
        try:
            with Store(Path(tmp) / "hour.db") as store:
                clock = _Clock(speed)
                cfg = CaptureConfig(ports=paths[:-1], gnss=paths[-1], inspector="bench", interval_s=1.0,
                                    duration_s=3600)
                cap = Capture(store, cfg, gazetteer=gazetteer, clock=ScaledClock(clock.sim))
                cap.start()
                t0 = time.monotonic()

                def tick(state):
                    minute = (time.monotonic() - t0) * speed / 60
                    for m in (1, 30, 60):
                        if minute >= m and m not in marks:
                            marks[m] = (_rss_mib(), state.samples)

                summary = cap.run(on_tick=tick)
                marks.setdefault(60, (_rss_mib(), summary["samples"]))
        finally:
            proc.kill()
    return {"samples": summary["samples"], "marks": marks}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--hour-speed", type=float, default=60.0)
    args = ap.parse_args()
    console = Console()
    gazetteer = Gazetteer.load()
    rows = []
    for n in (1, 3):
        with console.status(f"throughput with {n} modem(s) for {args.seconds:g} s…"):
            rows.append(throughput(n, args.seconds, gazetteer))
    t = Table(title="Per-sample path: pty read -> parse -> fix -> tag -> durable commit")
    for c in ("modems", "samples", "samples/s", "CPU ms/sample", "1 Hz x 3 modems: % of a core", "chain ok"):
        t.add_column(c, justify="right")
    for r in rows:
        t.add_row(str(r["modems"]), str(r["samples"]), f"{r['samples_per_s']:.0f}", f"{r['cpu_ms_per_sample']:.2f}",
                  f"{3 * r['cpu_ms_per_sample'] / 10:.2f} %", str(r["chain_ok"]))
    console.print(t)
    with console.status(f"a 1-hour session with 3 modems at {args.hour_speed:g}x…"):
        mem = memory(args.hour_speed, gazetteer)
    m = Table(title=f"Memory over a 1-hour session (3 modems, 1 Hz, {mem['samples']} samples)")
    m.add_column("simulated minute", justify="right")
    m.add_column("samples so far", justify="right")
    m.add_column("peak RSS (MiB)", justify="right")
    for minute, (rss, n) in sorted(mem["marks"].items()):
        m.add_row(str(minute), str(n), f"{rss:.1f}")
    console.print(m)


if __name__ == "__main__":
    main()
