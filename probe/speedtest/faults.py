"""Fault injection for tests and field QA: a TCP proxy that resets connections mid-transfer.

``ResettingProxy`` forwards a local port to a server and, once one connection has carried
``after_bytes`` in the chosen direction, aborts it with a TCP RST (SO_LINGER 0), as a dropped
radio bearer or a middlebox would. Real sockets, no mocks: the client sees a genuine reset.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from typing import Literal, Optional


class ResettingProxy:
    """``with ResettingProxy("127.0.0.1", 8080, after_bytes=2_000_000) as proxy: ... proxy.url``."""

    def __init__(self, target_host: str, target_port: int, after_bytes: int,
                 direction: Literal["download", "upload"] = "download", host: str = "127.0.0.1"):
        self.target_host, self.target_port, self.after_bytes, self.direction = (target_host, target_port,
                                                                                after_bytes, direction)
        self.host, self.port = host, 0
        self.resets = 0
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._server: Optional[asyncio.base_events.Server] = None
        self._thread: Optional[threading.Thread] = None
        self._stop: Optional[asyncio.Event] = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def _handle(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        try:
            sr, sw = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            cw.close()
            return
        done = asyncio.Event()

        def reset() -> None:
            sock = cw.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.resets += 1
            cw.transport.abort()
            sw.transport.abort()
            done.set()

        async def pump(r: asyncio.StreamReader, w: asyncio.StreamWriter, counted: bool) -> None:
            moved = 0
            try:
                while not done.is_set():
                    data = await r.read(65536)
                    if not data:
                        break
                    moved += len(data)
                    if counted and moved >= self.after_bytes:
                        reset()
                        return
                    w.write(data)
                    await w.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                done.set()

        down = self.direction == "download"
        try:
            await asyncio.gather(pump(sr, cw, down), pump(cr, sw, not down))
        except asyncio.CancelledError:
            pass
        for w in (cw, sw):
            w.transport.abort() if not w.transport.is_closing() else None

    def start(self) -> "ResettingProxy":
        ready = threading.Event()

        async def main() -> None:
            self._stop = asyncio.Event()
            self._server = await asyncio.start_server(self._handle, self.host, 0)
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            await self._stop.wait()
            self._server.close()
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in others:
                t.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(main())
            except asyncio.CancelledError:
                pass
            finally:
                self._loop.close()

        self._thread = threading.Thread(target=run, name="qamtu-resetting-proxy", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._server is not None and self._thread is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(10)

    def __enter__(self) -> "ResettingProxy":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
