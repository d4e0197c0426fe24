"""Running a capture session for people (live view) or scripts (JSON lines), with clean stops.

Ctrl-C and SIGTERM stop the loop; the session is always closed with its summary, which is
printed at the end. With ``json_lines`` every committed record is printed as one JSON object on
stdout (after its commit), and the live view goes to stderr or is off with ``quiet``.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from typing import Any, Optional

from rich.console import Console
from rich.live import Live
from rich.table import Table

from .capture import Capture, CaptureConfig, SpeedTestRunner
from .clock import Clock
from .live import labels, render
from .store import Store


class _MethodRunner:
    """Runs one ``method`` test against ``server`` through the modem's interface (if given)."""

    takes_modem_counters = True  # the capture loop passes a ModemCounterReader (second witness)

    def __init__(self, method: str, server: str, params: dict | None) -> None:
        from .speedtest import run_speedtest

        self._run_speedtest = run_speedtest
        self.method, self.server, self.params = method, server, params

    def __call__(self, port: str, interface: Optional[str], modem_counters: Any = None) -> Any:
        return self._run_speedtest(self.method, self.server, interface, self.params, modem_counters=modem_counters)


def speedtest_runner(method: str, server: str, params: dict | None = None) -> SpeedTestRunner:
    """A runner for the capture loop: one test through the modem's interface (if given)."""
    return _MethodRunner(method, server, params)


def run_capture(store: Store, config: CaptureConfig, *, lang: str = "en", quiet: bool = False,
                json_lines: bool = False, speedtest: SpeedTestRunner | None = None, clock: Clock | None = None,
                gazetteer=None, console: Console | None = None) -> dict[str, Any]:
    """Record one session until it ends or is interrupted; returns the summary."""
    out_lock = threading.Lock()

    def on_record(kind: str, data: dict) -> None:
        if json_lines:
            with out_lock:
                sys.stdout.write(json.dumps({"kind": kind, **data}, ensure_ascii=False, default=str) + "\n")
                sys.stdout.flush()

    cap = Capture(store, config, gazetteer=gazetteer, clock=clock, speedtest=speedtest, on_record=on_record)
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: cap.stop())
    console = console or Console(stderr=json_lines)
    try:
        state = cap.start()
        if quiet:
            summary = cap.run()
        else:
            with Live(render(state, lang, store.label, cap.gazetteer), console=console, refresh_per_second=2,
                      transient=False) as live:
                summary = cap.run(on_tick=lambda st: live.update(render(st, lang, store.label, cap.gazetteer)))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not quiet:
        console.print()
        console.print(summary_table(summary, lang))
    return summary


def summary_table(summary: dict[str, Any], lang: str) -> Table:
    """The end-of-session summary as a small table."""
    L = labels(lang)
    t = Table(title=f"{L['summary']} {summary['session_id'][:8]}", show_header=False)
    for key, label in (("samples", L["samples"]), ("no_service", L["no_service"]), ("modem_lost", L["modem_lost"]),
                       ("no_fix", L["no_fix"]), ("speedtests", L["speedtests"])):
        t.add_row(label, str(summary[key]))
    t.caption = L["stopped"]
    return t
