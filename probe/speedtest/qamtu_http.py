"""The ``qamtu-http`` method: Qamtu's own, published throughput method (``docs/measurement-method.md``).

N parallel TCP streams over HTTP/1.1 (default 3), a discarded warm-up (default 2 s), a fixed
measurement window (default 7 s download, then 7 s upload), counted by the receiver: the client
times downloaded bytes, the server times uploaded bytes and reports them back. Idle latency is the
median of at least 10 request/response round trips on an idle connection; latency under load is
the same round trip repeated on a separate connection while a phase runs.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import statistics
import time
from typing import Any, Callable, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import ConnectionResetMidTestError, ProtocolError, ServerRefusedError, SpeedTestError
from .binding import Binding
from .http11 import Connection, ServerAddress, check_status, connect
from .models import LatencyResult, PhaseResult

METHOD_ID = "qamtu-http"
METHOD_VERSION = "1.0.0"
API = "/qamtu/v1"

Progress = Callable[[str, float, float, Optional[float]], None]
"""progress(phase, elapsed_s, planned_s, current_mbps): called about twice a second."""

_PAYLOAD = os.urandom(1 << 20)  # incompressible upload data, made once per process
#: Upload sockets keep at most this much not-yet-sent data in the kernel (TCP_NOTSENT_LOWAT), so
#: that little is still queued when the client stops sending: on a slow link a full send buffer
#: (megabytes) would take seconds to drain. Data in flight (the congestion window) is not limited.
UPLOAD_NOTSENT_LOWAT_BYTES = 128 * 1024


class QamtuHttpParams(BaseModel):
    """Parameters of ``qamtu-http``; the defaults are the published method. Times in seconds."""

    model_config = ConfigDict(extra="forbid")

    streams: int = Field(3, ge=1, le=16, description="Parallel TCP connections per direction.")
    warmup_s: float = Field(2.0, ge=0, le=10, description="Discarded warm-up at the start of each phase.")
    download_s: float = Field(7.0, gt=0, le=30, description="Download measurement window.")
    upload_s: float = Field(7.0, gt=0, le=30, description="Upload measurement window.")
    tail_s: float = Field(0.5, ge=0, le=5, description="Extra sending after the window, so it ends in steady state.")
    ping_count: int = Field(10, ge=10, le=100, description="Idle round trips (the method requires at least 10).")
    loaded_ping_interval_s: float = Field(0.25, gt=0, le=5, description="Spacing of round trips under load.")
    chunk_bytes: int = Field(65536, ge=1024, le=1 << 20, description="Bytes per HTTP chunk.")
    connect_timeout_s: float = Field(5.0, gt=0, le=60)
    stall_timeout_s: float = Field(10.0, gt=0, le=120, description="Fail when no data moves for this long.")
    min_window_share: float = Field(0.9, gt=0, le=1, description="A window shorter than this share of the plan fails.")
    download: bool = True
    upload: bool = True
    api_path: str = Field(API, pattern=r"^(/[A-Za-z0-9._~-]+)+$", description="Path of the server's API (a neutral "
                          "one, e.g. /files, hides the method from on-path inspection of plain HTTP).")
    user_agent: str = Field("", max_length=200, pattern=r"^[\x20-\x7e]*$",
                            description="User-Agent header; empty sends none (no marker of a test flow).")
    tls_pin_sha256: str = Field("", description="SHA-256 fingerprint of the office's certificate (https:// servers); "
                                "any other certificate is refused before a byte is sent.")

    @field_validator("tls_pin_sha256")
    @classmethod
    def _pin(cls, v: str) -> str:
        from .tls import TlsSetupError, normalise_pin

        if not v:
            return ""
        try:
            return normalise_pin(v)
        except TlsSetupError as exc:
            raise ValueError(str(exc)) from None


def interpolate(samples: list[tuple[float, int]], t: float) -> float:
    """Cumulative bytes at time ``t``, linearly interpolated between (time, cumulative bytes) samples."""
    if not samples or t <= samples[0][0]:
        return float(samples[0][1]) if samples else 0.0
    lo, hi = 0, len(samples) - 1
    if t >= samples[hi][0]:
        return float(samples[hi][1])
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if samples[mid][0] <= t:
            lo = mid
        else:
            hi = mid
    (t0, b0), (t1, b1) = samples[lo], samples[hi]
    return b0 + (b1 - b0) * (t - t0) / (t1 - t0) if t1 > t0 else float(b1)


def window_rate(direction: str, streams: list[list[tuple[float, int]]], phase_start: float, p: QamtuHttpParams,
                planned_s: float, clock: str, loaded: list[tuple[float, float]]) -> PhaseResult:
    """Rate over [start + warm-up, start + warm-up + planned] (cut at the earliest stream end), per-second series."""
    start = phase_start + p.warmup_s
    end = min([start + planned_s] + [s[-1][0] for s in streams])
    measured = end - start
    if measured < p.min_window_share * planned_s:
        raise ProtocolError(
            f"{direction} window only {max(measured, 0):.2f} s of {planned_s:g} s planned (a stream ended early)",
            phase=direction)
    per_stream = [interpolate(s, end) - interpolate(s, start) for s in streams]
    total = sum(per_stream)
    series = []
    for k in range(int(math.floor(measured + 1e-9))):
        a, b = start + k, start + k + 1
        series.append(round(sum(interpolate(s, b) - interpolate(s, a) for s in streams) * 8 / 1e6, 3))
    in_window = [rtt for (t, rtt) in loaded if start <= t <= end]
    return PhaseResult(
        direction=direction, streams=len(streams), warmup_s=p.warmup_s, planned_s=planned_s,
        measured_s=round(measured, 6), bytes=int(round(total)), total_bytes=sum(s[-1][1] for s in streams),
        mbps=total * 8 / measured / 1e6, series_mbps=series, per_stream_bytes=[int(round(b)) for b in per_stream],
        clock=clock, latency_under_load_ms=round(statistics.median(in_window), 3) if in_window else None,
        latency_under_load_samples_ms=[round(x, 3) for x in in_window])


class QamtuHttpClient:
    """Runs one ``qamtu-http`` test against a ``qamtu server``; raises :class:`SpeedTestError` on failure."""

    def __init__(self, server: str, binding: Binding, params: QamtuHttpParams, progress: Optional[Progress] = None):
        self.server = ServerAddress.parse(server)
        self.binding = binding
        self.p = params
        self.progress = progress
        self.bytes_received = 0
        self.bytes_sent = 0
        self._conns: list[Connection] = []
        self.parts: dict[str, Any] = {}

    async def _connect(self, phase: str) -> Connection:
        if self.p.tls_pin_sha256 and not self.server.tls:
            raise ProtocolError("tls_pin_sha256 is set but the server URL is http://: use https://", phase=phase)
        c = await connect(self.server, self.binding, connect_timeout_s=self.p.connect_timeout_s,
                          stall_timeout_s=self.p.stall_timeout_s, phase=phase, tls_pin=self.p.tls_pin_sha256 or None,
                          user_agent=self.p.user_agent)
        self._conns.append(c)
        return c

    def _close_all(self) -> None:
        for c in self._conns:
            self.bytes_received += c.bytes_in
            self.bytes_sent += c.bytes_out
            c.close()
        self._conns.clear()

    # ----------------------------------------------------------------- latency
    async def info(self) -> dict[str, Any]:
        c = await self._connect("connect")
        _, body = await c.request("GET", f"{self.p.api_path}/info", phase="connect")
        try:
            return json.loads(body)
        except ValueError as exc:
            raise ProtocolError(f"{self.p.api_path}/info is not JSON: is this a qamtu server (and its --api-path)?",
                                phase="connect") from exc

    async def _ping(self, c: Connection, phase: str) -> float:
        t = time.perf_counter()
        await c.request("GET", f"{self.p.api_path}/ping", phase=phase)
        return (time.perf_counter() - t) * 1000.0

    async def idle_latency(self) -> LatencyResult:
        c = await self._connect("latency")
        await self._ping(c, "latency")  # first round trip on a fresh connection: discarded
        samples = [await self._ping(c, "latency") for _ in range(self.p.ping_count)]
        jitter = statistics.fmean(abs(a - b) for a, b in zip(samples, samples[1:])) if len(samples) > 1 else 0.0
        return LatencyResult(samples_ms=[round(s, 3) for s in samples], median_ms=statistics.median(samples),
                             min_ms=min(samples), max_ms=max(samples), jitter_ms=jitter)

    async def _loaded_pings(self, c: Connection, phase: str, out: list[tuple[float, float]], stop: asyncio.Event):
        while not stop.is_set():
            t = time.monotonic()
            out.append((t, await self._ping(c, phase)))
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, self.p.loaded_ping_interval_s - (time.monotonic() - t)))
            except asyncio.TimeoutError:
                pass

    async def _ticker(self, phase: str, planned: float, t0: float, count: Callable[[], int], stop: asyncio.Event):
        if self.progress is None:
            return
        last_t, last_b = t0, 0
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), 0.5)
            except asyncio.TimeoutError:
                pass
            now, b = time.monotonic(), count()
            rate = (b - last_b) * 8 / 1e6 / (now - last_t) if now > last_t else None
            self.progress(phase, now - t0, planned, rate)
            last_t, last_b = now, b

    async def _run_phase(self, phase: str, workers: list, conns: list[Connection], t0: float, planned: float,
                         stop_at: float, loaded: list[tuple[float, float]], count: Callable[[], int]) -> list:
        """Run stream workers plus the loaded-latency pinger and progress ticker; first failure wins."""
        stop = asyncio.Event()
        ping_conn = conns[-1]
        helpers = [asyncio.create_task(self._loaded_pings(ping_conn, phase, loaded, stop)),
                   asyncio.create_task(self._ticker(phase, planned, t0, count, stop))]
        tasks = [asyncio.create_task(w) for w in workers]
        try:
            pending = set(tasks) | {helpers[0]}
            while True:
                timeout = stop_at - time.monotonic() if stop_at else None
                done, pending = await asyncio.wait(pending, timeout=None if timeout is None else max(timeout, 0),
                                                   return_when=asyncio.FIRST_COMPLETED)
                for t in done:
                    failure = t.exception()
                    if failure is not None:
                        raise failure
                if not pending or (stop_at and time.monotonic() >= stop_at) or all(t.done() for t in tasks):
                    break
            return [t.result() if t.done() else None for t in tasks]
        finally:
            stop.set()
            for t in tasks + helpers:
                if not t.done():
                    t.cancel()
            await asyncio.gather(*tasks, *helpers, return_exceptions=True)

    # ----------------------------------------------------------------- download
    async def download(self) -> PhaseResult:
        p, n = self.p, self.p.streams
        conns = list(await asyncio.gather(*(self._connect("download") for _ in range(n + 1))))
        streams, ping_conn = conns[:n], conns[n]
        seconds = p.warmup_s + p.download_s + p.tail_s + 1.0
        for c in streams:
            await c.send_request("GET", f"{self.p.api_path}/download?seconds={seconds:g}&chunk={p.chunk_bytes}",
                                 phase="download")
        t0 = time.monotonic()
        window_end = t0 + p.warmup_s + p.download_s
        # Each stream reads until its first read after the window's end, so that the end can be
        # interpolated on every stream (on a slow link one read can be 0.1-0.5 s apart); a stream
        # that stays silent past the tail ends the window early (and fails it if below min_window_share).
        stop_at = window_end + p.tail_s + 0.5
        for c in streams:
            c.samples.append((t0, 0))

        async def receive(c: Connection) -> None:
            resp = await c.read_response_head(phase="download")
            if resp.status >= 400:
                body = await c.read_body(resp, phase="download")
                check_status(resp, body, "GET download", "download")
            c.bytes_in = 0
            await c.read_body(resp, phase="download", record=True, keep=False, until=window_end)
            if time.monotonic() < window_end:
                raise ConnectionResetMidTestError("server ended the download stream before the window was over",
                                              phase="download")

        loaded: list[tuple[float, float]] = []
        await self._run_phase("download", [receive(c) for c in streams], streams + [ping_conn], t0,
                              p.warmup_s + p.download_s, stop_at, loaded, lambda: sum(c.bytes_in for c in streams))
        samples = [list(c.samples) for c in streams]
        for c in streams:  # aborting the still-running streams is how the client ends a download
            c.close()
        return window_rate("download", samples, t0, p, p.download_s, "client", loaded)

    # ----------------------------------------------------------------- upload
    async def upload(self) -> PhaseResult:
        p, n = self.p, self.p.streams
        conns = list(await asyncio.gather(*(self._connect("upload") for _ in range(n + 1))))
        streams, ping_conn = conns[:n], conns[n]
        seconds = p.warmup_s + p.upload_s + p.tail_s
        for c in streams:
            c.limit_send_queue(UPLOAD_NOTSENT_LOWAT_BYTES)
        for c in streams:
            await c.send_request("POST", f"{self.p.api_path}/upload?seconds={seconds:g}", phase="upload",
                                 headers={"Transfer-Encoding": "chunked", "Content-Type": "application/octet-stream"})
        t0 = time.monotonic()
        deadline = t0 + seconds
        chunk = memoryview(_PAYLOAD)[: p.chunk_bytes]

        async def send(c: Connection) -> dict:
            # The answer is awaited while sending: a server that refuses early (busy, size limit)
            # answers before the body ends, and the client stops sending and reports that answer.
            head = asyncio.create_task(c.read_response_head(phase="upload", timeout_s=seconds + p.stall_timeout_s))
            try:
                try:
                    while time.monotonic() < deadline and not head.done():
                        await c.write_chunk(chunk, phase="upload")
                    if not head.done():
                        await c.end_chunks(phase="upload")
                except ConnectionResetMidTestError as reset:
                    try:  # the server may have answered and closed: its answer explains the reset
                        await asyncio.wait_for(asyncio.shield(head), 1.0)
                    except (SpeedTestError, asyncio.TimeoutError):
                        raise reset from None
                resp = await head
            finally:
                if not head.done():
                    head.cancel()
            body = await c.read_body(resp, phase="upload")
            check_status(resp, body, "POST upload", "upload")
            try:
                return json.loads(body)
            except ValueError as exc:
                raise ProtocolError("upload report is not JSON", phase="upload") from exc

        loaded: list[tuple[float, float]] = []
        reports = await self._run_phase("upload", [send(c) for c in streams], streams + [ping_conn], t0,
                                        seconds, 0.0, loaded, lambda: sum(c.bytes_out for c in streams))
        if any(r is None or "samples" not in r for r in reports):
            raise ProtocolError("server sent no upload report", phase="upload")
        if any(r.get("truncated") for r in reports):
            why = next(r.get("reason") for r in reports if r.get("truncated"))
            raise ServerRefusedError(f"server cut the upload short: {why}", phase="upload")
        # Server clock -> local clock: the server reports when each request arrived ("started");
        # the window is placed on the server's clock, so loaded-latency times are shifted to match.
        received, sent = sum(int(r["bytes"]) for r in reports), sum(c.bytes_out for c in streams)
        if received != sent:  # the body was ended cleanly, so every byte sent must have arrived
            raise ProtocolError(f"server received {received} upload bytes, client sent {sent}: a proxy or middlebox "
                                "on the path changed the upload; retry, or test against another server",
                                phase="upload")
        server_start = min(r["started"] for r in reports)
        samples = [[(float(r["started"]), 0)] + [(float(t), int(b)) for t, b in r["samples"]] for r in reports]
        shift = t0 - server_start
        loaded_server = [(t - shift, rtt) for t, rtt in loaded]
        return window_rate("upload", samples, server_start, p, p.upload_s, "server", loaded_server)

    async def run(self) -> dict[str, Any]:
        """Info, idle latency, download, upload. Returns the parts; always closes its connections."""
        out: dict[str, Any] = self.parts  # kept on failure: completed phases stay for audit
        try:
            out["server_info"] = await self.info()
            self._close_all()
            out["latency"] = await self.idle_latency()
            self._close_all()
            if self.p.download:
                out["download"] = await self.download()
                self._close_all()
            if self.p.upload:
                out["upload"] = await self.upload()
            return out
        finally:
            self._close_all()
