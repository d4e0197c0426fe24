"""Connection limits that aiohttp does not have, for ``qamtu server`` on the open internet.

aiohttp bounds a request's size and each transfer's duration (:mod:`.server`), but a client that
opens connections and sends its headers a byte at a time (slowloris) holds a socket for as long
as it likes. :class:`ConnectionGuard` closes such connections and caps how many are open:

* a connection must finish its first request's headers within ``header_timeout_s`` seconds, and
  after each request, send the next one's headers (or go away) within ``idle_timeout_s`` seconds;
* at most ``per_client`` connections are open from one address, and ``total`` in all; one more is
  closed as soon as it is accepted (the client sees a reset and can retry).

It wraps the application's protocol factory (:meth:`ConnectionGuard.protocol_factory`, the
callable ``asyncio.loop.create_server`` takes) and learns that a request's headers were parsed
from its middleware (:meth:`ConnectionGuard.middleware`), so it needs nothing private of aiohttp.
What it did is counted in :attr:`ConnectionGuard.stats` (the server's ``/stats``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Optional, cast

from aiohttp import web

logger = logging.getLogger(__name__)


class ConnectionGuard:
    """Deadlines for request headers and caps on open connections (times in seconds)."""

    def __init__(self, *, header_timeout_s: float, idle_timeout_s: float, per_client: int, total: int) -> None:
        self.header_timeout_s, self.idle_timeout_s = header_timeout_s, idle_timeout_s
        self.per_client, self.total = per_client, total
        self.open: dict[str, int] = {}                      # client address -> open connections
        self._by_transport: dict[Any, _GuardedProtocol] = {}
        self.stats = {"connections_refused": 0, "connections_timed_out": 0}

    def protocol_factory(self, factory: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """``factory`` (aiohttp's ``runner.server``) with every protocol it makes under this guard."""
        return lambda: _GuardedProtocol(factory(), self)

    @web.middleware
    async def middleware(self, request: web.Request,
                         handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        """Marks the connection busy while a request (its headers parsed) is handled."""
        conn = self._by_transport.get(request.transport)
        if conn is not None:
            conn.busy()
        try:
            return await handler(request)
        finally:
            if conn is not None:
                conn.idle(self.idle_timeout_s)

    # ------------------------------------------------------------ bookkeeping for the protocols
    def _admit(self, conn: "_GuardedProtocol", transport: asyncio.BaseTransport) -> bool:
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if peer else "?"
        if self.open.get(address, 0) >= self.per_client or len(self._by_transport) >= self.total:
            self.stats["connections_refused"] += 1
            logger.info("connection from %s refused: %d open from it, %d in all (limits %d and %d)",
                        address, self.open.get(address, 0), len(self._by_transport), self.per_client, self.total)
            return False
        conn.address = address
        self.open[address] = self.open.get(address, 0) + 1
        self._by_transport[transport] = conn
        return True

    def _release(self, conn: "_GuardedProtocol", transport: Optional[asyncio.BaseTransport]) -> None:
        if transport is None or self._by_transport.pop(transport, None) is None:
            return
        left = self.open.get(conn.address, 1) - 1
        if left > 0:
            self.open[conn.address] = left
        else:
            self.open.pop(conn.address, None)


class _GuardedProtocol(asyncio.Protocol):
    """One connection: aiohttp's request handler, closed when its headers come too slowly."""

    def __init__(self, inner: asyncio.Protocol, guard: ConnectionGuard) -> None:
        self.inner: Optional[asyncio.Protocol] = inner
        self.guard = guard
        self.address = "?"
        self.transport: Optional[asyncio.BaseTransport] = None
        self.timer: Optional[asyncio.TimerHandle] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self.guard._admit(self, transport):
            self.inner = None
            cast(asyncio.Transport, transport).abort()
            return
        self.transport = transport
        self._arm(self.guard.header_timeout_s)
        if self.inner is not None:
            self.inner.connection_made(transport)

    def busy(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def idle(self, seconds: float) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._arm(seconds)

    def _arm(self, seconds: float) -> None:
        self.busy()
        self.timer = asyncio.get_running_loop().call_later(seconds, self._too_slow, seconds)

    def _too_slow(self, seconds: float) -> None:
        self.timer = None
        if self.transport is not None and not self.transport.is_closing():
            self.guard.stats["connections_timed_out"] += 1
            logger.info("connection from %s closed: no complete request headers within %g s", self.address, seconds)
            cast(asyncio.Transport, self.transport).abort()

    def data_received(self, data: bytes) -> None:
        if self.inner is not None:
            self.inner.data_received(data)

    def eof_received(self) -> Optional[bool]:
        return self.inner.eof_received() if self.inner is not None else None

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self.busy()
        self.guard._release(self, self.transport)
        if self.inner is not None:
            self.inner.connection_lost(exc)


__all__ = ["ConnectionGuard"]
