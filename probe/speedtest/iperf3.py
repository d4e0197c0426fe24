"""The ``iperf3`` method: the iperf3 client binary with ``-J`` (JSON), when installed.

A lab and control reference (raw TCP goodput against an ``iperf3 -s`` server, no HTTP), used by
the shaped-link bench to judge ``qamtu-http``. Download is ``-R`` (server sends). The interface
is bound with ``--bind-dev`` (SO_BINDTODEVICE), or ``-B <address>`` in source-address mode.
"""

from __future__ import annotations

import asyncio
import functools
import json
import shutil
import statistics
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field

from ..errors import (ConnectionResetMidTestError, DnsFailureError, InterfaceDownError, MethodUnavailableError,
                      ProtocolError, ServerRefusedError, ServerUnreachableError, SpeedTestError,
                      SpeedTestTimeoutError)
from .binding import Binding
from .models import PhaseResult, SpeedTestResult

ADAPTER_VERSION = "1"
DEFAULT_PORT = 5201


class Iperf3Params(BaseModel):
    """iperf3 client settings; seconds."""

    model_config = ConfigDict(extra="forbid")

    streams: int = Field(3, ge=1, le=16, description="-P parallel streams.")
    omit_s: int = Field(2, ge=0, le=10, description="-O: warm-up seconds left out of the figures.")
    duration_s: int = Field(7, ge=1, le=60, description="-t: measured seconds per direction.")
    connect_timeout_s: float = Field(5.0, gt=0, le=60)
    binary: str = "iperf3"
    download: bool = True
    upload: bool = True


@functools.lru_cache(maxsize=None)
def _binary_version(binary: str) -> Optional[str]:
    import subprocess

    path = shutil.which(binary)
    if path is None:
        return None
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    first = out.split()
    return first[1] if len(first) > 1 else "unknown"


def iperf3_version(binary: str = "iperf3") -> str:
    """Installed iperf3 version plus adapter version, e.g. ``3.12+qamtu.1`` (``missing+...`` if absent)."""
    return f"{_binary_version(binary) or 'missing'}+qamtu.{ADAPTER_VERSION}"


def parse_server(server: str) -> tuple[str, int]:
    """``host``, ``host:port``, ``iperf3://host:port`` or ``[v6]:port`` -> (host, port)."""
    s = server.split("://", 1)[1] if "://" in server else server
    s = s.rstrip("/")
    if s.startswith("["):
        host, _, rest = s[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else DEFAULT_PORT
    if s.count(":") == 1:
        host, port = s.split(":")
        return host, int(port)
    return s, DEFAULT_PORT


def map_iperf3_error(text: str) -> SpeedTestError:
    """Turn iperf3's ``error`` string into the most specific :class:`SpeedTestError`."""
    low = text.lower()
    if "resolve" in low or "name or service not known" in low or "temporary failure in name" in low:
        return DnsFailureError(f"iperf3: {text}", phase="resolve")
    if "no such device" in low or "network is down" in low or "bind-dev" in low or "cannot bind" in low:
        return InterfaceDownError(f"iperf3: {text}", phase="connect")
    if "busy" in low:
        return ServerRefusedError(f"iperf3: {text}", phase="connect")
    if "unable to connect" in low or "refused" in low or "no route" in low or "unreachable" in low:
        return ServerUnreachableError(f"iperf3: {text}", phase="connect")
    if "reset" in low or "closed unexpectedly" in low or "broken pipe" in low:
        return ConnectionResetMidTestError(f"iperf3: {text}")
    if "timed out" in low or "timeout" in low:
        return SpeedTestTimeoutError(f"iperf3: {text}")
    return ProtocolError(f"iperf3: {text}")


def phase_from_json(direction: str, data: dict[str, Any], p: Iperf3Params) -> PhaseResult:
    """PhaseResult from one iperf3 ``-J`` report (receiver-side figures)."""
    end = data.get("end", {})
    recv = end.get("sum_received") or {}
    if not recv.get("seconds"):
        raise ProtocolError("iperf3 report has no end.sum_received", phase=direction)
    series = [round(iv["sum"]["bits_per_second"] / 1e6, 3) for iv in data.get("intervals", [])
              if not iv.get("sum", {}).get("omitted")]
    rtts = [s["sender"]["mean_rtt"] / 1000.0 for s in end.get("streams", []) if s.get("sender", {}).get("mean_rtt")]
    return PhaseResult(direction=direction, streams=p.streams, warmup_s=float(p.omit_s), planned_s=float(p.duration_s),
                       measured_s=float(recv["seconds"]), bytes=int(recv["bytes"]),
                       total_bytes=int((end.get("sum_sent") or recv)["bytes"]),
                       mbps=recv["bits_per_second"] / 1e6, series_mbps=series, clock="iperf3",
                       latency_under_load_ms=round(statistics.median(rtts), 3) if rtts else None)


async def _run_one(host: str, port: int, binding: Binding, p: Iperf3Params, reverse: bool) -> dict[str, Any]:
    path = shutil.which(p.binary)
    if path is None:
        raise MethodUnavailableError(f"the {p.binary!r} binary is not installed (apt-get install iperf3)")
    cmd = [path, "-c", host, "-p", str(port), "-J", "-t", str(p.duration_s), "-O", str(p.omit_s),
           "-P", str(p.streams), "--connect-timeout", str(int(p.connect_timeout_s * 1000))]
    if binding.mode == "so_bindtodevice":
        cmd += ["--bind-dev", binding.target()]
    elif binding.mode == "source_address":
        cmd += ["-B", binding.target()]
    if reverse:
        cmd.append("-R")
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    limit = p.duration_s + p.omit_s + p.connect_timeout_s + 15
    try:
        out, err = await asyncio.wait_for(proc.communicate(), limit)
    except asyncio.TimeoutError as exc:
        proc.kill()
        await proc.wait()
        raise SpeedTestTimeoutError(f"iperf3 did not finish within {limit:g} s") from exc
    finally:
        if proc.returncode is None:  # cancelled: never leave the child behind
            proc.kill()
            await proc.wait()
    try:
        data = json.loads(out)
    except ValueError as exc:
        raise map_iperf3_error(err.decode(errors="replace").strip() or "no JSON output") from exc
    if data.get("error"):
        raise map_iperf3_error(data["error"])
    return data


async def run_iperf3(server: str, binding: Binding, p: Iperf3Params, result: SpeedTestResult,
                     progress: Any = None) -> None:
    """Download (-R) then upload against ``server``; fills ``result``."""
    host, port = parse_server(server)
    raw = {}
    for direction, reverse in (("download", True), ("upload", False)):
        if not getattr(p, direction):
            continue
        if progress is not None:
            progress(direction, 0.0, float(p.duration_s + p.omit_s), None)
        try:
            data = await _run_one(host, port, binding, p, reverse)
        except SpeedTestError as exc:
            exc.phase = exc.phase or direction
            raise
        phase = phase_from_json(direction, data, p)
        setattr(result, direction, phase)
        if direction == "download":
            result.bytes_received += phase.total_bytes
        else:
            result.bytes_sent += phase.total_bytes
        raw[direction] = {"start": {k: data.get("start", {}).get(k) for k in ("version", "system_info", "test_start")},
                          "end": data.get("end", {}).get("sum_received")}
        if progress is not None:
            progress(direction, float(p.duration_s + p.omit_s), float(p.duration_s + p.omit_s), phase.mbps)
    result.server_info = {"host": host, "port": port}
    result.raw = {"iperf3": raw}
    result.notes.append("iperf3 measures raw TCP goodput against an iperf3 server; no idle latency "
                        "(latency under load = mean TCP RTT of the sending side)")
