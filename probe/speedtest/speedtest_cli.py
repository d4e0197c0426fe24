"""The ``speedtest-cli`` method: sivel/speedtest-cli used as a library, for a consumer-comparable figure.

speedtest-cli has no published method (HTTP downloads of fixed files, whole-phase averages, no
warm-up; see ``docs/measurement-method.md``), so its results are stored flagged
``consumer_comparable_only``. Two modes:

* ``server="http://host:port"``: a self-hosted Speedtest-Mini-compatible server (``qamtu server``),
  works in a closed network. The configuration speedtest.net would send is built locally from
  :class:`SpeedtestCliParams` by overriding ``Speedtest.get_config`` in a subclass;
* ``server="speedtest.net:<id>"``: a pinned speedtest.net server, over HTTPS (``secure``); the
  configuration is fetched as upstream does.

The installed package is not patched: the subclass gives its instance an opener whose connections
are bound to the interface and which records every connection error and HTTP error status.
Upstream swallows those in its worker threads (a reset mid-test just lowers the figure); here
they turn the test into a failed result.
"""

from __future__ import annotations

import http.client
import math
import os
import socket
import time
import timeit
import urllib.request
from typing import Any, Optional
from urllib.parse import urlparse

import speedtest as _st
from pydantic import BaseModel, ConfigDict, Field

from ..errors import (ConnectionResetMidTestError, ProtocolError, ServerRefusedError, ServerUnreachableError,
                      SpeedTestError)
from .binding import Binding, create_connection
from .models import LatencyResult, PhaseResult, SpeedTestResult

ADAPTER_VERSION = "1"


def adapter_version() -> str:
    """speedtest-cli's version plus this adapter's, e.g. ``2.1.3+qamtu.1``."""
    return f"{_st.__version__}+qamtu.{ADAPTER_VERSION}"


class SpeedtestCliParams(BaseModel):
    """speedtest-cli settings. Defaults are what speedtest.net's configuration usually says."""

    model_config = ConfigDict(extra="forbid")

    secure: bool = Field(True, description="HTTPS to speedtest.net (its plain-HTTP endpoints answer 403).")
    download_length_s: float = Field(10.0, gt=0, le=60, description="Download phase length (upstream 'testlength').")
    upload_length_s: float = Field(10.0, gt=0, le=60, description="Upload phase length.")
    download_threads: int = Field(8, ge=1, le=32, description="Concurrent downloads (upstream: threadcount * 2).")
    upload_threads: int = Field(8, ge=1, le=32, description="Concurrent uploads (upstream raises 2 to 8 on any link "
                                                            ">0.1 Mbit/s).")
    threads_per_url: int = Field(4, ge=1, le=16, description="Requests per file size.")
    upload_ratio: int = Field(5, ge=1, le=7, description="Skips the smallest upload sizes (upstream 'ratio').")
    upload_max_chunk_count: int = Field(50, ge=1, le=500,
                                        description="Upload requests in all (upstream 'maxchunkcount').")
    timeout_s: float = Field(10.0, gt=0, le=120, description="Socket timeout.")
    pre_allocate: bool = Field(False, description="Build all upload bodies in memory first (upstream default; "
                                                  "~150 MB).")
    download: bool = True
    upload: bool = True


class _ErrorLog(list):
    """(stage, exception) pairs seen by the instrumented opener, in order; plus the upload bytes the
    server confirmed (``size=N`` answers of upload.php)."""

    confirmed_upload_bytes = 0

    def first_error(self) -> Optional[SpeedTestError]:
        for _, exc in self:
            if isinstance(exc, SpeedTestError):
                return exc
        return None


class _WatchedResponse:
    """Proxy of an HTTP response that records a body cut short by the server, and the upload bytes
    upload.php confirms (speedtest-cli reads only the first 11 bytes of that answer, so the proxy
    reads all of it, counts it, and hands it out in the slices asked for)."""

    def __init__(self, response: Any, errors: _ErrorLog, url: str):
        self._r, self._errors, self._url = response, errors, url
        self._answer: Optional[bytes] = None

    def _read(self, n: int = -1) -> bytes:
        try:
            data = self._r.read(n) if n is not None and n >= 0 else self._r.read()
        except OSError as exc:
            self._errors.append(("read", ConnectionResetMidTestError(f"connection failed reading {self._url}: {exc}")))
            raise
        remaining = getattr(self._r, "length", None)
        if n and not data and remaining:
            self._errors.append(("read", ConnectionResetMidTestError(
                f"server closed the connection with {remaining} bytes of {self._url} still to come")))
        return data

    def read(self, n: int = -1) -> bytes:
        if not self._url.endswith("/upload.php"):
            return self._read(n)
        if self._answer is None:
            self._answer = self._read()
            if self._answer.startswith(b"size="):
                try:
                    self._errors.confirmed_upload_bytes += int(self._answer[5:].split()[0])
                except (ValueError, IndexError):
                    pass
        cut = len(self._answer) if n is None or n < 0 else n
        data, self._answer = self._answer[:cut], self._answer[cut:]
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._r, name)


def _connection_classes(binding: Binding, errors: _ErrorLog) -> tuple[type, type]:
    def connect(conn: Any) -> None:
        try:
            conn.sock = create_connection(conn.host, conn.port, binding, float(conn.timeout or 10))
        except SpeedTestError as exc:
            errors.append(("connect", exc))
            raise OSError(str(exc)) from exc  # upstream handles OSError in its threads

    def send(conn: Any, data: Any, base: type[http.client.HTTPConnection]) -> None:
        try:
            base.send(conn, data)
        except OSError as exc:
            errors.append(("send", ConnectionResetMidTestError(f"connection failed while sending to "
                                                               f"{conn.host}:{conn.port}: {exc}")))
            raise

    class BoundHTTPConnection(_st.SpeedtestHTTPConnection):
        def connect(self) -> None:
            connect(self)

        def send(self, data: Any) -> None:
            send(self, data, _st.SpeedtestHTTPConnection)

    class BoundHTTPSConnection(_st.SpeedtestHTTPSConnection):
        def connect(self) -> None:
            connect(self)
            self.sock: socket.socket = self._context.wrap_socket(self.sock, server_hostname=self.host)

        def send(self, data: Any) -> None:
            send(self, data, _st.SpeedtestHTTPSConnection)

    return BoundHTTPConnection, BoundHTTPSConnection


def build_bound_opener(binding: Binding, timeout: float, errors: _ErrorLog) -> urllib.request.OpenerDirector:
    """An opener like upstream's ``build_opener``, with bound connections and error recording, no proxy."""
    http_cls, https_cls = _connection_classes(binding, errors)

    class HTTPHandler(_st.SpeedtestHTTPHandler):
        def http_open(self, req: Any) -> Any:
            return self.do_open(_st._build_connection(http_cls, None, self.timeout), req)

    class HTTPSHandler(_st.SpeedtestHTTPSHandler):
        def https_open(self, req: Any) -> Any:
            return self.do_open(_st._build_connection(https_cls, None, self.timeout, context=self._context), req)

    class Watch(urllib.request.BaseHandler):
        handler_order = 999  # before HTTPErrorProcessor turns an error status into an exception

        def http_response(self, req: Any, response: Any) -> Any:
            if response.code >= 400:
                errors.append(("status", ServerRefusedError(
                    f"server answered {response.code} {response.msg} to {req.get_method()} "
                    f"{req.full_url.split('?')[0]}")))
            return _WatchedResponse(response, errors, req.full_url.split("?")[0])

        https_response = http_response

    opener = urllib.request.OpenerDirector()
    opener.addheaders = [("User-agent", _st.build_user_agent())]
    for h in (urllib.request.ProxyHandler({}), HTTPHandler(timeout=timeout), HTTPSHandler(timeout=timeout),
              urllib.request.HTTPDefaultErrorHandler(), urllib.request.HTTPRedirectHandler(),
              urllib.request.HTTPErrorProcessor(), Watch()):
        opener.add_handler(h)
    opener.connection_classes = (http_cls, https_cls)  # type: ignore[attr-defined]
    return opener


class QamtuSpeedtest(_st.Speedtest):
    """``speedtest.Speedtest`` with interface binding, error recording and (for a self-hosted server) a local
    configuration instead of the fetch from speedtest.net that upstream's constructor makes."""

    def __init__(self, binding: Binding, params: SpeedtestCliParams, local_config: bool, errors: _ErrorLog,
                 secure: bool = False):
        self.q_binding, self.q_params, self.q_local, self.q_errors = binding, params, local_config, errors
        self.q_latency_samples_ms: list[float] = []
        super().__init__(timeout=params.timeout_s, secure=secure)

    def get_config(self) -> dict:
        # Upstream's constructor calls get_config() right after building its opener: the bound,
        # instrumented opener is installed here so that even the configuration fetch uses it.
        self._opener = build_bound_opener(self.q_binding, self._timeout, self.q_errors)
        if not self.q_local:
            return super().get_config()
        p = self.q_params
        up_sizes = [32768, 65536, 131072, 262144, 524288, 1048576, 7340032][p.upload_ratio - 1:]
        upload_count = int(math.ceil(p.upload_max_chunk_count / len(up_sizes)))
        self.config.update({
            "client": {"ip": "", "lat": "0", "lon": "0", "isp": "", "isprating": "", "rating": "", "ispdlavg": "",
                       "ispulavg": "", "loggedin": "0", "country": ""},
            "ignore_servers": [],
            "sizes": {"upload": up_sizes, "download": [350, 500, 750, 1000, 1500, 2000, 2500, 3000, 3500, 4000]},
            "counts": {"upload": upload_count, "download": p.threads_per_url},
            "threads": {"upload": p.upload_threads, "download": p.download_threads},
            "length": {"upload": p.upload_length_s, "download": p.download_length_s},
            "upload_max": upload_count * len(up_sizes),
        })
        self.lat_lon = (0.0, 0.0)
        return self.config

    def get_best_server(self, servers: Optional[list] = None) -> dict:
        """Upstream's latency test (3 GETs of latency.txt per server, score = sum / 6), on bound connections."""
        if not servers:
            if not self.closest:
                self.get_closest_servers()
            servers = self.closest
        http_cls, https_cls = self._opener.connection_classes  # type: ignore[attr-defined]
        results = {}
        for server in servers:
            cum = []
            url = os.path.dirname(server["url"])
            stamp = int(time.time() * 1000)
            for i in range(3):
                parts = urlparse(f"{url}/latency.txt?x={stamp}.{i}")
                cls = https_cls if parts.scheme == "https" else http_cls
                try:
                    h = cls(parts.netloc, timeout=self._timeout)
                    start = timeit.default_timer()
                    h.request("GET", f"{parts.path}?{parts.query}", headers={"User-Agent": _st.build_user_agent()})
                    r = h.getresponse()
                    total = timeit.default_timer() - start
                    ok = r.status == 200 and r.read(9) == b"test=test"
                    h.close()
                except (OSError, http.client.HTTPException):
                    ok = False
                cum.append(total if ok else 3600)
                if ok:
                    self.q_latency_samples_ms.append(round(total * 1000, 3))
            if any(c != 3600 for c in cum):
                results[round((sum(cum) / 6) * 1000.0, 3)] = server
        if not results:
            raise self.q_errors.first_error() or ServerUnreachableError(
                "latency test failed on every server", phase="latency")
        fastest = sorted(results)[0]
        best = results[fastest]
        best["latency"] = fastest
        self.results.ping = fastest
        self.results.server = best
        self._best.update(best)
        return best


def _raise_recorded(errors: _ErrorLog, phase: str) -> None:
    for stage, exc in errors:
        if isinstance(exc, SpeedTestError):
            exc.phase = exc.phase or phase
            raise exc


def run_speedtest_cli(server: str, binding: Binding, p: SpeedtestCliParams, result: SpeedTestResult,
                      progress: Any = None) -> None:
    """Blocking run (the registry calls it in a worker thread); fills ``result``, raises SpeedTestError."""
    errors = _ErrorLog()
    online = server.startswith("speedtest.net:")
    try:
        st = QamtuSpeedtest(binding, p, local_config=not online, errors=errors,
                            secure=p.secure if online else server.startswith("https:"))
        if online:
            try:
                sid = int(server.split(":", 1)[1])
            except ValueError:
                raise ProtocolError(f"pinned server must be speedtest.net:<numeric id>, got {server!r}") from None
            st.get_servers([sid])
            st.get_best_server()
        else:
            st.set_mini_server(server if "://" in server else "http://" + server)
            st.get_best_server(st.servers)
    except _st.SpeedtestException as exc:
        _raise_recorded(errors, "connect")
        if isinstance(exc, (_st.InvalidSpeedtestMiniServer, _st.SpeedtestConfigError, _st.NoMatchedServers)):
            raise ProtocolError(f"{type(exc).__name__}: {exc}", phase="connect") from exc
        raise ServerUnreachableError(f"{type(exc).__name__}: {exc}", phase="connect") from exc
    _raise_recorded(errors, "latency")

    def callback(phase: str, length: float) -> Any:
        t0 = timeit.default_timer()

        def inner(i: int, count: int, start: bool = False, end: bool = False) -> None:
            if progress is not None and end:
                progress(phase, min(timeit.default_timer() - t0, length), length, None)
        return inner

    if p.download:
        st.download(callback=callback("download", p.download_length_s), threads=p.download_threads)
        result.bytes_received = st.results.bytes_received
        _raise_recorded(errors, "download")
    if p.upload:
        st.upload(callback=callback("upload", p.upload_length_s), pre_allocate=p.pre_allocate, threads=p.upload_threads)
        # speedtest-cli counts upload bytes when it reads them into a request, also those never sent
        # when its time is up; the egress check needs bytes that left, so it gets the bytes the server
        # confirmed (a lower bound). speedtest-cli's own count stays in raw and in the upload phase.
        result.bytes_sent = errors.confirmed_upload_bytes
        result.notes.append(f"bytes_sent = upload bytes confirmed by the server ({errors.confirmed_upload_bytes}); "
                            f"speedtest-cli counted {st.results.bytes_sent}")
        _raise_recorded(errors, "upload")

    r = st.results
    samples = st.q_latency_samples_ms
    result.server_info = {k: v for k, v in r.server.items() if k in ("id", "sponsor", "name", "url", "latency", "d")}
    result.latency = LatencyResult(
        samples_ms=samples, median_ms=float(r.ping), min_ms=min(samples), max_ms=max(samples),
        jitter_ms=((sum(abs(a - b) for a, b in zip(samples, samples[1:])) / (len(samples) - 1))
                   if len(samples) > 1 else 0.0),
        kind="speedtest-cli ping: sum of 3 HTTP round trips / 6, as speedtest-cli reports it")
    for direction, bps, nbytes, threads, length in (
            ("download", r.download, r.bytes_received, p.download_threads, p.download_length_s),
            ("upload", r.upload, r.bytes_sent, p.upload_threads, p.upload_length_s)):
        if not getattr(p, direction):
            continue
        if not nbytes or not bps:
            raise ProtocolError(f"speedtest-cli moved no data in the {direction} phase", phase=direction)
        elapsed = nbytes * 8 / bps
        setattr(result, direction, PhaseResult(
            direction=direction, streams=threads, warmup_s=0.0, planned_s=length, measured_s=round(elapsed, 6),
            bytes=int(nbytes), total_bytes=int(nbytes), mbps=bps / 1e6, clock="speedtest-cli"))
    result.raw = {"speedtest_cli": {k: v for k, v in r.dict().items() if k != "client"}}
