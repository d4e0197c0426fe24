"""``qamtu server``: the measurement server a regional office runs (and the tests run on loopback).

It serves two protocols on one port (aiohttp on asyncio):

* ``qamtu-http`` under ``/qamtu/v1/``: ``info``, ``ping``, ``download?seconds=S`` (a chunked stream of
  random bytes for S seconds) and ``upload?seconds=S`` (a chunked body; the answer is the server's own
  time-stamped byte counts, so upload is timed by the receiver);
* Speedtest-Mini-compatible endpoints for speedtest-cli: ``/`` (the page naming the upload extension),
  ``/speedtest/latency.txt``, ``/speedtest/random{N}x{N}.jpg`` and ``/speedtest/upload.php``.

Limits (:class:`ServerLimits`) keep it from being abused: request header and body sizes, the
duration of each transfer, concurrent clients (by address) and concurrent transfers per client,
and (:mod:`.connguard`) a deadline for request headers and caps on open connections, so
slow-header clients cannot hold its sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import BaseModel, ConfigDict, Field

from .connguard import ConnectionGuard
from .qamtu_http import API, METHOD_ID, METHOD_VERSION

logger = logging.getLogger(__name__)

#: Sizes N of speedtest.net's random{N}x{N}.jpg files; the body is about 2·N² bytes like the originals.
MINI_SIZES = (350, 500, 750, 1000, 1500, 2000, 2500, 3000, 3500, 4000)
_RANDOM = os.urandom(1 << 20)
#: A transfer that has not ended this long after its planned duration is aborted (seconds).
TRANSFER_GRACE_S = 1.0
LIMITS_KEY: "web.AppKey[ServerLimits]"
ADMISSION_KEY: "web.AppKey[_Admission]"
GUARD_KEY: "web.AppKey[ConnectionGuard]"


class ServerLimits(BaseModel):
    """What one server accepts. Times in seconds, sizes in bytes."""

    model_config = ConfigDict(extra="forbid")

    max_clients: int = Field(8, ge=1, description="Client addresses with transfers running at the same time.")
    max_streams_per_client: int = Field(16, ge=1,
                                        description="Concurrent transfers (download/upload requests) per client.")
    max_transfer_s: float = Field(30.0, gt=0, description="Longest single download or upload.")
    max_upload_bytes: int = Field(1 << 30, ge=1, description="Largest qamtu-http upload body.")
    max_mini_upload_bytes: int = Field(8 << 20, ge=1,
                                       description="Largest upload.php body (speedtest-cli sends <= 7 MiB).")
    max_download_bytes: int = Field(1 << 31, ge=1, description="Most bytes one download request may get.")
    max_header_bytes: int = Field(8190, ge=256, description="Longest request line / header field.")
    max_headers: int = Field(64, ge=8)
    stall_timeout_s: float = Field(10.0, gt=0, description="An upload that sends nothing this long is dropped.")
    keepalive_timeout_s: float = Field(15.0, gt=0, description="Idle keep-alive connections are closed after this.")
    header_timeout_s: float = Field(10.0, gt=0, description="A connection must send a request's complete headers "
                                    "this long after it opens (or after its previous request), else it is closed "
                                    "(slow-header clients); also the TLS handshake's limit.")
    max_connections_per_client: int = Field(64, ge=1, description="Open connections from one address; more are "
                                            "closed at once (speedtest-cli may use 32 threads, each its own).")
    max_connections: int = Field(512, ge=1, description="Open connections in all; more are closed at once.")
    shutdown_timeout_s: float = Field(3.0, ge=0, description="On stop (Ctrl-C), transfers still running get this "
                                      "long to end, then their connections are closed.")


@dataclass
class _Admission:
    limits: ServerLimits
    active: dict[str, int] = field(default_factory=dict)  # client address -> running transfers
    stats: dict[str, int] = field(default_factory=lambda: {"transfers": 0, "rejected_busy": 0, "rejected_streams": 0})

    @contextlib.contextmanager
    def transfer(self, client: str) -> Iterator[Optional[web.Response]]:
        """Admit a transfer (yields None) or yield the rejection response."""
        lim = self.limits
        if client not in self.active and len(self.active) >= lim.max_clients:
            self.stats["rejected_busy"] += 1
            yield web.Response(status=503, headers={"Retry-After": "10"},
                               text=f"server busy: {len(self.active)} clients are testing "
                                    f"(max_clients={lim.max_clients})\n")
            return
        if self.active.get(client, 0) >= lim.max_streams_per_client:
            self.stats["rejected_streams"] += 1
            yield web.Response(status=429, headers={"Retry-After": "10"},
                               text=f"too many concurrent transfers from {client} "
                                    f"(max_streams_per_client={lim.max_streams_per_client})\n")
            return
        self.active[client] = self.active.get(client, 0) + 1
        self.stats["transfers"] += 1
        try:
            yield None
        finally:
            self.active[client] -= 1
            if not self.active[client]:
                del self.active[client]


LIMITS_KEY = web.AppKey("limits", ServerLimits)
ADMISSION_KEY = web.AppKey("admission", _Admission)
GUARD_KEY = web.AppKey("connection_guard", ConnectionGuard)


def _seconds(request: web.Request, limits: ServerLimits) -> float:
    try:
        s = float(request.query.get("seconds", "10"))
    except ValueError:
        raise web.HTTPBadRequest(text="seconds must be a number\n")
    if not 0 < s <= limits.max_transfer_s:
        raise web.HTTPBadRequest(text=f"seconds must be in (0, {limits.max_transfer_s:g}] (max_transfer_s)\n")
    return s


async def _stream_random(request: web.Request, resp: web.StreamResponse, nbytes: int, seconds: float,
                         chunk: int) -> int:
    """Write up to ``nbytes`` random bytes for at most ``seconds``; stops quietly if the client leaves."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    view = memoryview(_RANDOM)
    sent = 0
    try:
        while sent < nbytes and loop.time() < deadline:
            n = min(chunk, nbytes - sent, len(view))
            await resp.write(view[:n])
            sent += n
            await asyncio.sleep(0)  # write() does not suspend below the high-water mark: serve the others too
    except (ConnectionError, asyncio.CancelledError, RuntimeError):
        return sent  # the client closed: that is how a qamtu-http download ends
    return sent


async def _send_for_at_most(request: web.Request, resp: web.StreamResponse, nbytes: int, seconds: float,
                            chunk: int, limit_s: float) -> int:
    """:func:`_stream_random` and the end of the body, all within ``limit_s`` seconds whatever the client
    does: ``write()`` waits while the client does not read, so a client that stops reading would
    otherwise hold its transfer slot forever. At the limit the connection is aborted (slot freed).
    Returns the bytes sent, or -1 when the connection was aborted."""
    try:
        async with asyncio.timeout(limit_s):
            sent = await _stream_random(request, resp, nbytes, seconds, chunk)
            with contextlib.suppress(ConnectionError, RuntimeError):
                await resp.write_eof()
            return sent
    except TimeoutError:
        if request.transport is not None:
            request.transport.abort()
        logger.info("transfer to %s aborted after %.1f s: the client stopped reading", request.remote, limit_s)
        return -1


def build_app(limits: Optional[ServerLimits] = None, api_path: str = API) -> web.Application:
    """The aiohttp application with both protocols and the limits; qamtu-http is served under ``api_path``."""
    api = "/" + api_path.strip("/")
    limits = limits or ServerLimits()
    admission = _Admission(limits)
    epoch = time.monotonic()
    app = web.Application(client_max_size=64 * 1024)  # bodies read whole (none but tiny ones) stay small
    app[LIMITS_KEY] = limits
    app[ADMISSION_KEY] = admission
    guard = ConnectionGuard(header_timeout_s=limits.header_timeout_s,
                            idle_timeout_s=limits.keepalive_timeout_s + limits.header_timeout_s,
                            per_client=limits.max_connections_per_client, total=limits.max_connections)
    app[GUARD_KEY] = guard
    app.middlewares.append(guard.middleware)

    def now() -> float:
        return time.monotonic() - epoch

    # ----------------------------------------------------------------- qamtu-http
    async def info(request: web.Request) -> web.Response:
        return web.json_response({"server": "qamtu", "method": METHOD_ID, "method_version": METHOD_VERSION,
                                  "limits": limits.model_dump(), "client": request.remote})

    async def ping(request: web.Request) -> web.Response:
        return web.Response(text="pong\n", headers={"Cache-Control": "no-store"})

    async def download(request: web.Request) -> web.StreamResponse:
        seconds = _seconds(request, limits)
        try:
            chunk = int(request.query.get("chunk", "65536"))
        except ValueError:
            raise web.HTTPBadRequest(text="chunk must be an integer\n")
        if not 1024 <= chunk <= 1 << 20:
            raise web.HTTPBadRequest(text="chunk must be in [1024, 1048576]\n")
        with admission.transfer(request.remote or "?") as rejected:
            if rejected is not None:
                return rejected
            resp = web.StreamResponse(headers={"Content-Type": "application/octet-stream", "Cache-Control": "no-store"})
            resp.enable_chunked_encoding()
            try:
                await resp.prepare(request)
            except ConnectionError:
                return resp  # the client left before the first byte
            await _send_for_at_most(request, resp, limits.max_download_bytes, seconds, chunk,
                                    seconds + TRANSFER_GRACE_S)
            return resp

    async def upload(request: web.Request) -> web.StreamResponse:
        _seconds(request, limits)  # refuse a bad or over-limit duration before reading the body
        cl = request.content_length
        if cl is not None and cl > limits.max_upload_bytes:
            return _too_large(cl, limits.max_upload_bytes)
        with admission.transfer(request.remote or "?") as rejected:
            if rejected is not None:
                return rejected  # aiohttp then drains the body briefly (lingering close), so the answer arrives
            started = now()
            samples: list[list[float]] = []
            total, truncated, reason = 0, False, ""
            last_t = -1.0
            while True:
                try:
                    data = await asyncio.wait_for(request.content.readany(), limits.stall_timeout_s)
                except asyncio.TimeoutError:
                    truncated, reason = True, f"nothing received for {limits.stall_timeout_s:g} s (stall_timeout_s)"
                    break
                except Exception:  # noqa: BLE001 - the client went away mid-body (reset, incomplete chunk)
                    return _gone()
                if not data:
                    break
                total += len(data)
                t = now()
                if t - last_t >= 0.002:  # at most one sample per 2 ms keeps the report small
                    samples.append([round(t, 6), total])
                    last_t = t
                else:
                    samples[-1][1] = total
                if total > limits.max_upload_bytes:
                    return _too_large(total, limits.max_upload_bytes)  # aiohttp drains the rest (lingering close)
                # Only the server's own limit cuts an upload: after the client stops, the bytes still
                # queued in its socket buffers keep arriving for a while on a slow link.
                if t - started > limits.max_transfer_s:
                    truncated, reason = True, f"upload longer than max_transfer_s={limits.max_transfer_s:g} s"
                    break
            resp = web.json_response({"bytes": total, "started": round(started, 6), "samples": samples,
                                      "truncated": truncated, "reason": reason})
            if truncated:
                resp.force_close()
            return resp

    # ----------------------------------------------------------------- Speedtest Mini
    async def mini_index(request: web.Request) -> web.Response:
        return web.Response(content_type="text/html", text=(
            "<html><head><title>Qamtu speed-test server</title></head><body>\n"
            "<p>qamtu server: qamtu-http at /qamtu/v1/, Speedtest-Mini-compatible endpoints at /speedtest/.</p>\n"
            '<script>var config = { upload_extension: "php" };</script>\n</body></html>\n'))

    async def latency_txt(request: web.Request) -> web.Response:
        return web.Response(text="test=test\n", headers={"Cache-Control": "no-store"})

    async def random_jpg(request: web.Request) -> web.StreamResponse:
        digits_n, digits_m = request.match_info["n"], request.match_info["m"]
        if len(digits_n) > 6 or len(digits_m) > 6:  # int() of thousands of digits raises (and costs time)
            raise web.HTTPBadRequest(text=f"no such size (sizes: {', '.join(map(str, MINI_SIZES))})\n")
        n = int(digits_n)
        if n != int(digits_m) or n not in MINI_SIZES:
            raise web.HTTPNotFound(text=f"no such file (sizes: {', '.join(map(str, MINI_SIZES))})\n")
        size = min(2 * n * n, limits.max_download_bytes)
        with admission.transfer(request.remote or "?") as rejected:
            if rejected is not None:
                return rejected
            resp = web.StreamResponse(headers={"Content-Type": "image/jpeg", "Cache-Control": "no-store"})
            resp.content_length = size
            try:
                await resp.prepare(request)
            except ConnectionError:
                return resp
            try:
                async with asyncio.timeout(limits.max_transfer_s + TRANSFER_GRACE_S):
                    sent = await _stream_random(request, resp, size, limits.max_transfer_s, 65536)
                    if sent < size:
                        resp.force_close()
                        return resp
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        await resp.write_eof()
            except TimeoutError:  # the client stopped reading: free its slot (see _send_for_at_most)
                if request.transport is not None:
                    request.transport.abort()
                logger.info("transfer to %s aborted: the client stopped reading", request.remote)
            return resp

    async def upload_php(request: web.Request) -> web.Response:
        if request.method == "GET":
            return web.Response(text="size=0\n")
        cl = request.content_length
        if cl is not None and cl > limits.max_mini_upload_bytes:
            return _too_large(cl, limits.max_mini_upload_bytes)
        with admission.transfer(request.remote or "?") as rejected:
            if rejected is not None:
                return rejected  # aiohttp then drains the body briefly (lingering close), so the answer arrives
            loop = asyncio.get_running_loop()
            deadline = loop.time() + limits.max_transfer_s
            total = 0
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    resp = web.Response(status=408,
                                        text=f"upload longer than max_transfer_s={limits.max_transfer_s:g}\n")
                    resp.force_close()
                    return resp
                try:
                    data = await asyncio.wait_for(request.content.readany(), min(remaining, limits.stall_timeout_s))
                except asyncio.TimeoutError:
                    continue
                except Exception:  # noqa: BLE001 - speedtest-cli ends uploads by dropping the connection
                    return _gone()
                if not data:
                    break
                total += len(data)
                if total > limits.max_mini_upload_bytes:
                    resp = _too_large(total, limits.max_mini_upload_bytes)
                    resp.force_close()
                    return resp
            return web.Response(text=f"size={total}")

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({**admission.stats, **guard.stats, "active_clients": len(admission.active),
                                  "open_connections": sum(guard.open.values())})

    app.add_routes([
        web.get(f"{api}/info", info), web.get(f"{api}/ping", ping), web.get(f"{api}/download", download),
        web.post(f"{api}/upload", upload), web.get(f"{api}/stats", stats),
        web.get("/", mini_index), web.get("/speedtest/", mini_index),
        web.get("/speedtest/latency.txt", latency_txt),
        web.get(r"/speedtest/random{n:\d+}x{m:\d+}.jpg", random_jpg),
        web.route("*", "/speedtest/upload.php", upload_php),
    ])
    return app


def _gone() -> web.Response:
    resp = web.Response(status=400, text="connection lost mid-body\n")
    resp.force_close()
    return resp


def _too_large(size: int, limit: int) -> web.Response:
    return web.Response(status=413, text=f"request body of {size} bytes exceeds the limit of {limit} bytes\n")


class _MalformedRequestFilter(logging.Filter):
    """aiohttp answers a malformed request (request line or header over the limit, bad syntax) with 400
    and then logs it with a full traceback: keep one line naming the client's error, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            record.msg, record.args = "malformed request refused with %s: %s", (exc.code, type(exc).__name__)
            record.exc_info, record.exc_text, record.levelno, record.levelname = None, None, logging.INFO, "INFO"
        return True


_SERVER_LOG = logging.getLogger("aiohttp.server")
if not any(isinstance(f, _MalformedRequestFilter) for f in _SERVER_LOG.filters):
    _SERVER_LOG.addFilter(_MalformedRequestFilter())


def _runner(limits: ServerLimits, app: web.Application) -> web.AppRunner:
    return web.AppRunner(app, access_log=None, handle_signals=False, keepalive_timeout=limits.keepalive_timeout_s,
                         max_line_size=limits.max_header_bytes, max_field_size=limits.max_header_bytes,
                         max_headers=limits.max_headers, lingering_time=1.0,
                         shutdown_timeout=limits.shutdown_timeout_s)


async def serve(host: str = "0.0.0.0", port: int = 8080, limits: Optional[ServerLimits] = None,
                started: Optional[asyncio.Future] = None, stop: Optional[asyncio.Event] = None, *,
                ssl_context: Optional[ssl.SSLContext] = None, api_path: str = API) -> None:
    """Run until ``stop`` is set (or forever). ``started`` receives the bound (host, port).
    With ``ssl_context`` (see :func:`qamtu.probe.speedtest.tls.server_context`) it speaks only TLS."""
    limits = limits or ServerLimits()
    app = build_app(limits, api_path)
    runner = _runner(limits, app)
    await runner.setup()
    listener: Optional[asyncio.Server] = None
    try:
        handlers = runner.server
        if handlers is None:
            raise RuntimeError("aiohttp's runner made no server")
        # aiohttp's TCPSite, with every connection under the guard (header deadlines, connection caps)
        listener = await asyncio.get_running_loop().create_server(
            app[GUARD_KEY].protocol_factory(handlers), host, port, ssl=ssl_context, backlog=128, reuse_address=True,
            ssl_handshake_timeout=limits.header_timeout_s if ssl_context is not None else None)
        bound = listener.sockets[0].getsockname()[:2]
        logger.info("qamtu server listening on %s://%s:%s", "https" if ssl_context else "http", *bound)
        if started is not None and not started.done():
            started.set_result(bound)
        await (stop.wait() if stop is not None else asyncio.Event().wait())
    finally:
        if listener is not None:
            listener.close()           # accept nothing more; the runner then ends the open connections
        await runner.cleanup()
        if listener is not None:
            await listener.wait_closed()


class ServerThread:
    """A ``qamtu server`` in a background thread (tests, benches, and the probe's loopback self-check).

    ``with ServerThread() as srv: run_speedtest(..., server=srv.url)``. Port 0 picks a free port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, limits: Optional[ServerLimits] = None, *,
                 tls: Optional[tuple[str, str]] = None, api_path: str = API):
        """``tls``: (certificate PEM, key PEM) to serve HTTPS only; ``api_path``: where qamtu-http lives."""
        self.host, self.port, self.limits = host, port, limits or ServerLimits()
        self.api_path = api_path
        self.ssl_context = None
        if tls is not None:
            from .tls import server_context

            self.ssl_context = server_context(*tls)
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._stop: Optional[asyncio.Event] = None
        self._thread: Optional[threading.Thread] = None
        self._error: Optional[BaseException] = None

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://{self.host}:{self.port}"

    def start(self) -> "ServerThread":
        ready = threading.Event()

        async def main() -> None:
            self._stop = asyncio.Event()
            started = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(serve(self.host, self.port, self.limits, started, self._stop,
                                             ssl_context=self.ssl_context, api_path=self.api_path))
            try:
                self.host, self.port = await asyncio.wait_for(asyncio.shield(started), 10)
            except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
                self._error = exc if task.done() is False else (task.exception() or exc)
                ready.set()
                raise
            ready.set()
            await task

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(main())
            except BaseException as exc:  # noqa: BLE001
                self._error = self._error or exc
                ready.set()
            finally:
                self._loop.close()

        self._thread = threading.Thread(target=run, name="qamtu-server", daemon=True)
        self._thread.start()
        ready.wait(15)
        if self._error is not None:
            raise OSError(f"qamtu server could not start on {self.host}:{self.port}: {self._error}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(10)

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
