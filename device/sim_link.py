"""A simulated radio data link: a TCP relay on loopback whose rate follows a simulated modem.

Speed tests in simulations (``qamtu demo``, tests) run the real client against a real
``qamtu server``, but through this relay, so the rate they measure is the rate the scenario gives
the operator at that moment, and a modem without service really fails to connect. ``rate()`` is
asked on every chunk and returns ``(down_bit_s, up_bit_s)``, or ``None`` for "no data connection"
(new connections are refused, open ones are cut). Each direction is a token bucket shared by all
connections of the link.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Callable, Optional

Rate = Callable[[], Optional[tuple[float, float]]]
CHUNK = 16384
BUFFER_BYTES = 32768


class _Bucket:
    """Token bucket in bytes; ``bit_s`` is read on every refill so the rate can change mid-transfer."""

    def __init__(self) -> None:
        self.tokens = 0.0
        self.at = time.monotonic()

    async def take(self, n: int, bit_s: float) -> None:
        rate = max(bit_s / 8.0, 1.0)
        while True:
            now = time.monotonic()
            self.tokens = min(self.tokens + (now - self.at) * rate, rate * 0.05 + CHUNK)
            self.at = now
            if self.tokens >= n:
                self.tokens -= n
                return
            await asyncio.sleep(min((n - self.tokens) / rate, 0.05))


class SimLink:
    """``with SimLink(rate, "127.0.0.1", server_port) as link: link.url`` -> ``http://127.0.0.1:<port>``."""

    def __init__(self, rate: Rate, target_host: str, target_port: int, host: str = "127.0.0.1") -> None:
        self.rate = rate
        self.target = (target_host, target_port)
        self.host = host
        self.port = 0
        self._down, self._up = _Bucket(), _Bucket()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._server: Optional[asyncio.base_events.Server] = None
        self.refused = 0
        self.rx_bytes = 0  # bytes the radio delivered to the laptop (download), like the modem's own counter
        self.tx_bytes = 0  # bytes the laptop sent over the radio (upload)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, bucket: _Bucket,
                    index: int) -> None:
        try:
            while True:
                data = await reader.read(CHUNK)
                if not data:
                    break
                rate = self.rate()
                if rate is None:
                    break  # service lost mid-transfer: the connection breaks
                await bucket.take(len(data), rate[index])
                if index == 0:
                    self.rx_bytes += len(data)
                else:
                    self.tx_bytes += len(data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            await self._relay(client_r, client_w)
        except asyncio.CancelledError:  # the link is being stopped
            client_w.transport.abort()

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        # Small socket buffers, like a modem's: otherwise the sender queues megabytes that drain
        # long after it stopped sending, which no radio link does.
        sock = client_w.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, BUFFER_BYTES)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, BUFFER_BYTES)
        if self.rate() is None:
            self.refused += 1
            client_w.transport.abort()  # like a modem without a data bearer: reset, no answer
            return
        try:
            up_r, up_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            return
        await asyncio.gather(self._pipe(up_r, client_w, self._down, 0), self._pipe(client_r, up_w, self._up, 1))

    def counters(self) -> tuple[int, int]:
        """``(rx_bytes, tx_bytes)`` carried so far: what a simulated modem reports as its data counters."""
        return self.rx_bytes, self.tx_bytes

    def start(self) -> "SimLink":
        ready = threading.Event()

        def main() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, self.host, 0, limit=BUFFER_BYTES))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()
            self._server.close()
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.run_until_complete(self._server.wait_closed())
            self._loop.close()

        self._thread = threading.Thread(target=main, name="sim-link", daemon=True)
        self._thread.start()
        ready.wait(5)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "SimLink":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def radio_rate(tech: Optional[str], sinr_db: Optional[float]) -> Optional[tuple[float, float]]:
    """A plausible (down, up) bit/s for a simulated radio state; None without service.

    Simulation only (no measurement meaning): LTE/NR scale with SINR, 3G and 2G are flat.
    """
    if tech in (None, "none", "NONE"):
        return None
    if tech == "GSM":
        return 150e3, 60e3
    if tech == "UMTS":
        return 2.5e6, 0.8e6
    sinr = 5.0 if sinr_db is None else sinr_db
    down = max(0.3, min(60.0, 1.6 * (sinr + 6))) * 1e6
    if tech and tech.startswith("NR"):
        down *= 3
    return down, down / 4
