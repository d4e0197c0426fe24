"""A small HTTP/1.1 client over asyncio streams, made for measuring.

Why not a general HTTP library: the measurement must own its sockets (bound to a device before
connecting), count payload bytes as they arrive with their time stamps, and turn every socket
failure into a typed :class:`SpeedTestError`. It speaks only what ``qamtu server`` answers:
``Content-Length`` or ``chunked`` bodies, keep-alive, no redirects, no compression.
"""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass, field
from typing import Callable, Optional
from urllib.parse import urlsplit

from ..errors import (ConnectionResetMidTestError, ProtocolError, ServerRefusedError, SpeedTestError,
                      SpeedTestTimeoutError)
from .binding import Binding, map_os_error

MAX_HEADER_BYTES = 64 * 1024
#: Largest body kept in memory (info, ping, upload reports, error texts); payload streams are not kept.
MAX_KEPT_BODY_BYTES = 4 << 20
READ_SIZE = 256 * 1024


@dataclass(frozen=True)
class ServerAddress:
    """Host, port and path prefix of an ``http[s]://host:port/prefix`` server URL."""

    url: str
    host: str
    port: int
    prefix: str
    tls: bool = False

    @classmethod
    def parse(cls, url: str) -> "ServerAddress":
        if "://" not in url:
            url = "http://" + url
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProtocolError(f"server URL must be http[s]://host[:port][/prefix], got {url!r}", server=url)
        try:
            port = parts.port
        except ValueError:
            raise ProtocolError(f"server URL {url!r}: bad port", server=url) from None
        tls = parts.scheme == "https"
        return cls(url=url.rstrip("/"), host=parts.hostname, port=port or (443 if tls else 80),
                   prefix=parts.path.rstrip("/"), tls=tls)


@dataclass
class Response:
    status: int
    reason: str
    headers: dict[str, str]


@dataclass
class Connection:
    """One TCP connection to the server, bound as the test requires."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    server: ServerAddress
    stall_timeout_s: float
    user_agent: str = ""  # empty: no User-Agent header (nothing that marks the flow as a test)
    bytes_in: int = 0  # payload bytes read from bodies
    bytes_out: int = 0  # payload bytes written in bodies
    samples: list[tuple[float, int]] = field(default_factory=list)  # (monotonic s, cumulative body bytes in)

    def limit_send_queue(self, notsent_bytes: int) -> None:
        """Keep little unsent data queued: TCP_NOTSENT_LOWAT in the kernel (Linux, macOS) and a small
        write buffer in asyncio. Throughput is not limited, since unacknowledged data in flight does not count."""
        sock = self.writer.get_extra_info("socket")
        opt = getattr(socket, "TCP_NOTSENT_LOWAT", None)
        if sock is not None and opt is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, opt, notsent_bytes)
            except OSError:
                pass  # older kernels: the drain after the window is longer, the figure is the same
        self.writer.transport.set_write_buffer_limits(high=64 * 1024)

    def close(self) -> None:
        """Close at once; unsent data is dropped (this is how a download is ended)."""
        transport = self.writer.transport
        if not transport.is_closing():
            transport.abort() if hasattr(transport, "abort") else transport.close()

    async def _io(self, awaitable, phase: str, what: str, timeout_s: Optional[float] = None):
        timeout_s = self.stall_timeout_s if timeout_s is None else timeout_s
        try:
            async with asyncio.timeout(timeout_s):  # unlike wait_for, never swallows a cancel
                return await awaitable
        except TimeoutError as exc:
            raise SpeedTestTimeoutError(f"no progress for {timeout_s:g} s while {what}", phase=phase) from exc
        except asyncio.IncompleteReadError as exc:
            raise ConnectionResetMidTestError(
                f"server closed the connection while {what} ({len(exc.partial)} bytes of {exc.expected} read)",
                phase=phase) from exc
        except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError) as exc:
            raise ConnectionResetMidTestError(f"connection reset while {what}: {exc.strerror or exc}",
                                              phase=phase) from exc
        except OSError as exc:
            raise ConnectionResetMidTestError(f"connection failed while {what}: {exc.strerror or exc}",
                                              phase=phase) from exc

    async def send_request(self, method: str, path: str, *, phase: str, headers: Optional[dict[str, str]] = None,
                           body: bytes = b"") -> None:
        lines = [f"{method} {self.server.prefix}{path} HTTP/1.1", f"Host: {self.server.host}:{self.server.port}"]
        if self.user_agent:
            lines.append(f"User-Agent: {self.user_agent}")
        lines.append("Accept-Encoding: identity")
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        if body or method == "POST" and "Transfer-Encoding" not in (headers or {}):
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body)
        await self._io(self.writer.drain(), phase, f"sending {method} {path}")

    async def read_response_head(self, *, phase: str, timeout_s: Optional[float] = None) -> Response:
        try:
            head = await self._io(self.reader.readuntil(b"\r\n\r\n"), phase, "reading the response header", timeout_s)
        except asyncio.LimitOverrunError as exc:  # pragma: no cover - our own server never does this
            raise ProtocolError("response header too long", phase=phase) from exc
        text = head.decode("latin-1")
        status_line, *header_lines = text.split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError(f"not an HTTP response: {status_line[:80]!r}", phase=phase)
        headers = {}
        for line in header_lines:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        return Response(int(parts[1]), parts[2] if len(parts) > 2 else "", headers)

    async def read_body(self, resp: Response, *, phase: str, record: bool = False,
                        on_bytes: Optional[Callable[[int], None]] = None, keep: bool = True,
                        until: Optional[float] = None) -> bytes:
        """Read the whole body (or until monotonic time ``until``). With ``record`` every read is
        time-stamped into ``samples``."""
        chunks: list[bytes] = []
        kept = 0

        class _Stop(Exception):
            pass

        def got(data: bytes) -> None:
            nonlocal kept
            self.bytes_in += len(data)
            if record:
                self.samples.append((time.monotonic(), self.bytes_in))
            if on_bytes is not None:
                on_bytes(len(data))
            if keep:
                kept += len(data)
                if kept > MAX_KEPT_BODY_BYTES:  # a hostile server (or a box on a plain-HTTP path) cannot fill memory
                    raise ProtocolError(f"answer body longer than {MAX_KEPT_BODY_BYTES} bytes: not a qamtu server",
                                        phase=phase)
                chunks.append(data)
            if until is not None and time.monotonic() >= until:
                raise _Stop

        try:
            await self._read_body(resp, phase, got)
        except _Stop:
            pass
        return b"".join(chunks)

    async def _read_body(self, resp: Response, phase: str, got: Callable[[bytes], None]) -> None:

        if resp.headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                line = await self._io(self.reader.readline(), phase, "reading a chunk size")
                if not line:
                    raise ConnectionResetMidTestError("server closed the connection inside a chunked body", phase=phase)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError as exc:
                    raise ProtocolError(f"bad chunk size line {line[:40]!r}", phase=phase) from exc
                if size == 0:
                    await self._io(self.reader.readline(), phase, "reading the last chunk")
                    break
                remaining = size
                while remaining:
                    data = await self._io(self.reader.read(min(remaining, READ_SIZE)), phase, "receiving data")
                    if not data:
                        raise ConnectionResetMidTestError(
                            f"server closed the connection mid-body after {self.bytes_in} bytes", phase=phase)
                    remaining -= len(data)
                    got(data)
                    await asyncio.sleep(0)  # buffered reads never suspend: let the other streams run
                await self._io(self.reader.readexactly(2), phase, "reading a chunk end")
        elif "content-length" in resp.headers:
            remaining = int(resp.headers["content-length"])
            while remaining:
                data = await self._io(self.reader.read(min(remaining, READ_SIZE)), phase, "receiving data")
                if not data:
                    raise ConnectionResetMidTestError(
                        f"server closed the connection mid-body after {self.bytes_in} bytes", phase=phase)
                remaining -= len(data)
                got(data)
                await asyncio.sleep(0)
        else:
            raise ProtocolError("response without Content-Length or chunked encoding", phase=phase)

    async def request(self, method: str, path: str, *, phase: str, body: bytes = b"") -> tuple[Response, bytes]:
        """A small request/response; raises :class:`ServerRefusedError` on an HTTP error status."""
        await self.send_request(method, path, phase=phase, body=body)
        resp = await self.read_response_head(phase=phase)
        data = await self.read_body(resp, phase=phase)
        check_status(resp, data, f"{method} {path}", phase)
        return resp, data

    async def write_chunk(self, data: bytes | memoryview, *, phase: str) -> None:
        """Send one chunk of a chunked request body and wait until the kernel has taken it."""
        self.writer.write(b"%x\r\n" % len(data))
        self.writer.write(data)
        self.writer.write(b"\r\n")
        self.bytes_out += len(data)
        await self._io(self.writer.drain(), phase, "sending data")
        await asyncio.sleep(0)  # drain() does not suspend below the high-water mark: be fair to other streams

    async def end_chunks(self, *, phase: str) -> None:
        self.writer.write(b"0\r\n\r\n")
        await self._io(self.writer.drain(), phase, "finishing the upload")


def check_status(resp: Response, body: bytes, what: str, phase: str) -> None:
    if resp.status >= 400:
        text = body[:300].decode("utf-8", "replace").strip()
        raise ServerRefusedError(f"server answered {resp.status} {resp.reason} to {what}: {text}", phase=phase)


async def connect(server: ServerAddress, binding: Binding, *, connect_timeout_s: float, stall_timeout_s: float,
                  phase: str, tls_pin: Optional[str] = None, user_agent: str = "") -> Connection:
    """Resolve, bind and connect one TCP connection (TLS for ``https``, the certificate checked against
    ``tls_pin`` before anything is sent); every failure becomes a :class:`SpeedTestError`."""
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(server.host, server.port, type=socket.SOCK_STREAM), connect_timeout_s)
    except (socket.gaierror, asyncio.TimeoutError) as exc:
        if isinstance(exc, asyncio.TimeoutError):
            exc = socket.gaierror(-3, f"no DNS answer within {connect_timeout_s:g} s")
        raise map_os_error(exc, host=server.host, port=server.port, interface=binding.interface,
                           phase="resolve") from exc
    last: Optional[BaseException] = None
    for family, socktype, proto, _, addr in infos:
        if binding.mode == "source_address" and family != socket.AF_INET:
            continue
        sock = socket.socket(family, socktype, proto)
        try:
            binding.apply(sock)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setblocking(False)
            await asyncio.wait_for(loop.sock_connect(sock, addr), connect_timeout_s)
            if server.tls:
                reader, writer = await _tls_open(sock, server, tls_pin, connect_timeout_s, phase)
            else:
                reader, writer = await asyncio.open_connection(sock=sock, limit=MAX_HEADER_BYTES)
            return Connection(reader, writer, server, stall_timeout_s, user_agent=user_agent)
        except SpeedTestError:
            sock.close()
            raise
        except (OSError, asyncio.TimeoutError) as exc:
            sock.close()
            last = TimeoutError() if isinstance(exc, asyncio.TimeoutError) else exc
    raise map_os_error(last or OSError("no usable address"), host=server.host, port=server.port,
                       interface=binding.interface, phase=phase)


async def _tls_open(sock: socket.socket, server: ServerAddress, pin: Optional[str], timeout_s: float, phase: str):
    """TLS handshake on a connected socket, then the pin check (before any request is written)."""
    import ssl

    from .tls import check_pin, client_context

    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(
            sock=sock, limit=MAX_HEADER_BYTES, ssl=client_context(pin), server_hostname=server.host,
            ssl_handshake_timeout=timeout_s), timeout_s + 1)
    except ssl.SSLError as exc:
        raise ProtocolError(f"TLS handshake with {server.host}:{server.port} failed ({exc.reason or exc}): is it a "
                            "qamtu server started with --tls-cert?", phase=phase, server=server.url) from None
    try:
        check_pin(writer.get_extra_info("ssl_object"), pin, server.url, phase)
    except SpeedTestError:
        writer.transport.abort()
        raise
    return reader, writer
