"""Rate limits and size limits.

Rate limits: an in-memory token bucket per (bucket name, client address), in one process (the app
runs as one uvicorn worker; several workers would each count on their own). A bucket holds
``burst`` tokens and refills at ``per_minute`` a minute; a request takes one token or gets 429 with
``Retry-After``. The client address is the socket peer, or the first ``X-Forwarded-For`` hop only
when the app runs with ``--behind-proxy``. Buckets idle for an hour are dropped.

Body limits: :class:`BodyLimit` refuses a request whose ``Content-Length`` (or streamed body) is
over the limit of its path with 413, before the form parser sees it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

#: bytes: ordinary forms (sign-in, intake, transitions, public complaint)
FORM_LIMIT = 64 * 1024
#: bytes: an inspector's store file upload (``office serve --max-upload-mb`` overrides)
UPLOAD_LIMIT = 512 * 1024 * 1024


@dataclass(frozen=True)
class Rate:
    """``burst`` requests at once, refilled at ``per_minute`` a minute."""

    burst: int
    per_minute: float


#: named limits used by the route table
RATES: dict[str, Rate] = {
    "signin": Rate(burst=10, per_minute=6),         # 10 tries, then one every 10 s
    "public_post": Rate(burst=5, per_minute=2),     # complaint form, Open311 POST
    "lookup": Rate(burst=10, per_minute=10),        # talon look-up (against enumeration)
    "open311_post": Rate(burst=30, per_minute=30),  # Open311 POST (a keyed client may relay many residents)
}


class RateLimiter:
    """Token buckets keyed by (name, client address)."""

    def __init__(self, rates: dict[str, Rate] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.rates = dict(rates or RATES)
        self.clock = clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, name: str, client: str) -> float:
        """0 when the request may go on, else the seconds to wait."""
        rate = self.rates[name]
        now = self.clock()
        with self._lock:
            if len(self._buckets) > 50_000:
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 3600}
            tokens, last = self._buckets.get((name, client), (float(rate.burst), now))
            tokens = min(float(rate.burst), tokens + (now - last) * rate.per_minute / 60.0)
            if tokens >= 1.0:
                self._buckets[(name, client)] = (tokens - 1.0, now)
                return 0.0
            self._buckets[(name, client)] = (tokens, now)
            return (1.0 - tokens) * 60.0 / rate.per_minute


class BodyTooLarge(Exception):
    """Raised while reading a body over its limit."""


class BodyLimit:
    """ASGI middleware: 413 for a body over ``limit_for(path)`` bytes (declared or streamed)."""

    def __init__(self, app, limit_for: Callable[[str], int]) -> None:
        self.app, self.limit_for = app, limit_for

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope["path"])
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    declared = int(v)
                except ValueError:
                    declared = limit + 1
                if declared > limit:
                    return await _too_large(send, limit)
        seen = 0

        async def limited():
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge()
            return msg

        try:
            await self.app(scope, limited, send)
        except BodyTooLarge:
            await _too_large(send, limit)


async def _too_large(send, limit: int) -> None:
    body = f"413: request body over the limit of {limit} bytes".encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
