"""Benchmark of the device layer against simulated modems on real ptys (not a test; prints figures).

1. AT round-trip overhead: ``AT`` and ``AT+CSQ`` sent through :class:`qamtu.device.ATChannel` to a
   simulated modem answering with zero delay (goal: under 2 ms per command).
2. Readings per second sustained by each driver against its simulated profile.

Run: ``.venv/bin/python bench/bench_device_at.py [--commands 2000] [--seconds 2]``
"""

from __future__ import annotations

import argparse
import statistics
import time

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from qamtu.device import ATChannel, SimModem, open_modem, profile_names


def round_trips(n: int, command: str, progress: Progress) -> list[float]:
    task = progress.add_task(f"round trips {command}", total=n)
    out = []
    with SimModem("generic", echo=False, urcs=False) as sim, ATChannel(sim.path, timeout_s=2) as ch:
        for _ in range(50):  # warm-up
            ch.command(command)
        for _ in range(n):
            t0 = time.perf_counter()
            ch.command(command)
            out.append((time.perf_counter() - t0) * 1000.0)
            progress.advance(task)
    return out


def readings(profile: str, seconds: float) -> tuple[int, float, int]:
    with SimModem(profile, urcs=False) as sim, open_modem(sim.path) as modem:
        modem.read()  # setup commands happen once
        n, cmds = 0, 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            r = modem.read()
            n += 1
            cmds = len(r.raw)
        return n, time.perf_counter() - t0, cmds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commands", type=int, default=2000, help="round trips per command (default 2000)")
    ap.add_argument("--seconds", type=float, default=2.0, help="seconds of readings per driver (default 2)")
    args = ap.parse_args()
    console = Console()
    with Progress(console=console, transient=True) as progress:
        rt = {c: round_trips(args.commands, c, progress) for c in ("AT", "AT+CSQ")}
        task = progress.add_task("readings per driver", total=len(profile_names()))
        rd = {}
        for p in profile_names():
            rd[p] = readings(p, args.seconds)
            progress.advance(task)
    t = Table(title=f"AT round trip over a pty, simulated modem, zero answer delay ({args.commands} commands)")
    for col in ("command", "mean ms", "median ms", "p95 ms", "max ms", "goal < 2 ms"):
        t.add_column(col)
    for c, v in rt.items():
        p95 = statistics.quantiles(v, n=20)[-1]
        t.add_row(c, f"{statistics.fmean(v):.3f}", f"{statistics.median(v):.3f}", f"{p95:.3f}", f"{max(v):.3f}",
                  "yes" if statistics.fmean(v) < 2.0 else "NO")
    console.print(t)
    t = Table(title=f"Readings per second sustained per driver ({args.seconds:g} s each)")
    for col in ("profile", "readings", "readings/s", "ms/reading", "AT commands/reading"):
        t.add_column(col)
    for p, (n, dt, cmds) in rd.items():
        t.add_row(p, str(n), f"{n / dt:.1f}", f"{dt / n * 1000:.2f}", str(cmds))
    console.print(t)


if __name__ == "__main__":
    main()
