"""Who holds a serial port, and what to tell the inspector when it is busy.

On Linux the holders are found by scanning ``/proc/<pid>/fd``; elsewhere the list is empty and the
advice stays generic. ModemManager is named explicitly because it opens every modem AT port it
finds (field-anchors.md 5.1, "Port ownership").
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def port_holders(port: str) -> list[tuple[int, str]]:
    """``(pid, process name)`` of other processes with ``port`` open (Linux only; else ``[]``)."""
    if not sys.platform.startswith("linux") or "://" in port:
        return []
    try:
        target = os.path.realpath(port)
    except OSError:
        return []
    me = os.getpid()
    holders: list[tuple[int, str]] = []
    proc = Path("/proc")
    for pdir in proc.iterdir():
        if not pdir.name.isdigit() or int(pdir.name) == me:
            continue
        try:
            for fd in (pdir / "fd").iterdir():
                try:
                    if os.readlink(fd) == target:
                        name = (pdir / "comm").read_text().strip()
                        holders.append((int(pdir.name), name))
                        break
                except OSError:
                    continue
        except OSError:
            continue
    return holders


def busy_advice(port: str, holders: list[tuple[int, str]], detail: str = "") -> str:
    """A one-paragraph explanation of a busy port with what to do about it."""
    names = ", ".join(f"{name} (pid {pid})" for pid, name in holders)
    mm = any(name.lower().startswith("modemmanager") for _, name in holders)
    if mm:
        return (f"port is held by {names}. ModemManager opens modem AT ports for itself. Either stop it "
                f"(`sudo systemctl stop ModemManager`), or tell it to ignore this port with a udev rule setting "
                f"ENV{{ID_MM_PORT_IGNORE}}=\"1\" for the AT interface, then unplug and replug the modem.")
    if holders:
        return (f"port is in use by {names}. Close that program (or stop a second Qamtu probe using the "
                f"same modem) and try again.")
    return (f"port is busy or not accessible ({detail}). If ModemManager runs, stop it "
            f"(`sudo systemctl stop ModemManager`) or set ID_MM_PORT_IGNORE for this port; on Linux also check that "
            f"you are in the 'dialout' group; on Windows close any terminal program using {port}.")
