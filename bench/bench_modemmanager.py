"""Benchmark of reading a modem through ModemManager (not a test; prints figures).

Runs the real ModemManager (Debian's package, test mode, private D-Bus; the lab of tests/mm_lab.py) with
a fake AT modem, then:

1. time per reading: ``MMModem.read()`` back to back (D-Bus GetAll of Modem, Modem3gpp and Signal,
   Location.GetLocation, GetCellInfo the first time only);
2. CPU per sample at 1 Hz: a 1 Hz reading loop for ``--seconds``, with the CPU time of this process
   (the Qamtu side) and of the ModemManager and dbus-daemon processes (their side: Signal.Setup polling at
   1 s, answering the calls), divided by the number of samples.

Run: ``.venv/bin/python bench/bench_modemmanager.py [--readings 300] [--seconds 30]``
The figures depend on the machine; on a shared machine they are upper bounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from mm_lab import AVAILABLE, MMLab  # noqa: E402

from qamtu.device import open_modem  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--readings", type=int, default=300, help="back-to-back readings for the time per reading")
    ap.add_argument("--seconds", type=float, default=30.0, help="length of the 1 Hz run")
    args = ap.parse_args()
    console = Console()
    if not AVAILABLE:
        console.print("needs Debian's modemmanager, dbus and python3-dbusmock (see .ci/run)")
        sys.exit(2)
    t0 = time.perf_counter()
    lab = MMLab().start()
    console.print(f"lab up (ModemManager {lab.mm.pid}, modem registered) in {time.perf_counter() - t0:.1f} s")
    try:
        with open_modem("modemmanager:0") as modem, Progress(console=console, transient=True) as progress:
            for _ in range(20):
                modem.read()
            task = progress.add_task("back-to-back readings", total=args.readings)
            times = []
            for _ in range(args.readings):
                t = time.perf_counter()
                r = modem.read()
                times.append(time.perf_counter() - t)
                progress.advance(task)
            assert r.serving is not None and r.serving.rsrp_dbm is not None, r
            task = progress.add_task("1 Hz readings", total=int(args.seconds))
            n = 0
            mine0, mm0, bus0 = time.process_time(), proc_cpu_s(lab.mm.pid), proc_cpu_s(lab.bus.pid)
            start = time.monotonic()
            while time.monotonic() - start < args.seconds:
                modem.read()
                n += 1
                progress.advance(task)
                time.sleep(max(0.0, start + n - time.monotonic()))
            mine, mm, bus = (time.process_time() - mine0, proc_cpu_s(lab.mm.pid) - mm0,
                             proc_cpu_s(lab.bus.pid) - bus0)
    finally:
        lab.stop()
    ms = sorted(x * 1000 for x in times)
    table = Table(title="Reading a modem through ModemManager (real MM 1.20, test mode, private D-Bus)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("time per reading, median", f"{statistics.median(ms):.2f} ms")
    table.add_row("time per reading, p95", f"{ms[int(0.95 * len(ms)) - 1]:.2f} ms")
    table.add_row("time per reading, max", f"{ms[-1]:.2f} ms")
    table.add_row(f"samples at 1 Hz ({args.seconds:g} s)", str(n))
    table.add_row("Qamtu CPU per sample", f"{mine / n * 1000:.2f} ms")
    table.add_row("ModemManager CPU per sample", f"{mm / n * 1000:.2f} ms")
    table.add_row("dbus-daemon CPU per sample", f"{bus / n * 1000:.2f} ms")
    table.add_row("total CPU at 1 Hz", f"{(mine + mm + bus) / args.seconds * 100:.2f} % of one core")
    console.print(table)


if __name__ == "__main__":
    main()
