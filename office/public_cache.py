"""Finished public answers kept in memory: the settlement page and Open311 ``GET requests``, as bytes.

A public GET that anyone may see (no sign-in, no personal data: what :mod:`.public_data` reads) is
built once per key (the route and what the answer depends on: a settlement's KATO and the page
language; an Open311 query) and then served from memory on the event loop, without a thread hop,
a database query or a template render. Each kept answer carries:

* its body, gzip-compressed once (level 6) when that is smaller: sent to clients that accept gzip
  (browsers on a village's mobile link, Open311 clients; a 1,000-request answer of 700 kB is 53 kB);
* an ``ETag`` (a hash of the body): a client sending ``If-None-Match`` with it gets 304, no body.

Freshness: an answer is fresh for ``ttl`` seconds (10 s by default: the figure docs/office.md states,
"public data may be a few seconds old"). After that the first request starts one rebuild in a
thread and, while it runs, the old answer is still served, for at most ``max_stale`` more seconds;
older than that, requests wait for the rebuild. Only one rebuild per key runs at a time: requests
for a key being built wait for it instead of building it again (no stampede on a cold key).
:meth:`PublicCache.clear` (called by :func:`qamtu.office.public_data.forget` after a registration
through the app) drops every answer at once.

Memory is bounded by :data:`MAX_BYTES` (oldest answers dropped first): the keys come from query
strings a stranger chooses. Pages of signed-in staff never come from here (they carry the user's
name and CSRF token): the views only call :meth:`PublicCache.serve` for signed-out visitors.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Hashable, Optional

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

log = logging.getLogger("qamtu.office")

#: seconds a kept answer is fresh
TTL_SECONDS = 10.0
#: seconds past ``ttl`` an old answer may still be served while its rebuild runs
MAX_STALE_SECONDS = 30.0
#: bytes of bodies (plain + gzip) kept at most, over all keys
MAX_BYTES = 64 * 1024 * 1024
#: bodies shorter than this are not compressed (bytes)
GZIP_MIN = 1024


@dataclass(frozen=True)
class Answer:
    """One finished answer: status, body, media type and extra headers; ``keep`` False for a refusal
    (404, 400) that is answered but not kept."""

    body: bytes
    media_type: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    keep: bool = True


@dataclass
class _Entry:
    answer: Answer
    gz: Optional[bytes]
    etag: str
    made: float

    @property
    def size(self) -> int:
        return len(self.answer.body) + len(self.gz or b"")


def _entry(answer: Answer, now: float) -> _Entry:
    body = answer.body
    gz = gzip.compress(body, 6, mtime=0) if len(body) >= GZIP_MIN else None
    if gz is not None and len(gz) >= len(body):
        gz = None
    return _Entry(answer, gz, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"', now)


class PublicCache:
    """Public answers by key (see the module docstring). One per :class:`~qamtu.office.app.Office`."""

    def __init__(self, ttl: float = TTL_SECONDS, max_stale: float = MAX_STALE_SECONDS, max_bytes: int = MAX_BYTES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.max_stale, self.max_bytes, self.clock = ttl, max_stale, max_bytes, clock
        self._entries: dict[Hashable, _Entry] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self._building: dict[Hashable, asyncio.Future[_Entry]] = {}
        self._generation = 0
        self._tasks: set[asyncio.Task] = set()
        #: counters for tests and the bench: answers built, served from memory, served stale
        self.stats = {"built": 0, "hits": 0, "stale": 0}

    def clear(self) -> None:
        """Drop every kept answer (the store changed in a way the public must see at once)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self._generation += 1
            self._building = {}  # a build begun before now may read old data: later requests start their own

    def __len__(self) -> int:
        return len(self._entries)

    async def serve(self, request: Request, key: Hashable, build: Callable[[], Answer],
                    cache_control: str) -> Response:
        """The answer of ``key`` for ``request``: kept, or built by ``build()`` (run in a thread, once per
        key at a time), with ``Cache-Control: cache_control``."""
        now = self.clock()
        entry = self._entries.get(key)
        if entry is not None and now - entry.made < self.ttl:
            self.stats["hits"] += 1
        elif entry is not None and now - entry.made < self.ttl + self.max_stale:
            self.stats["stale"] += 1
            if key not in self._building:
                self._start(key, build)
        else:
            fut = self._building.get(key) or self._start(key, build)
            entry = await asyncio.shield(fut)
        return _respond(request, entry, cache_control)

    def _start(self, key: Hashable, build: Callable[[], Answer]) -> asyncio.Future[_Entry]:
        fut: asyncio.Future[_Entry] = asyncio.get_running_loop().create_future()
        self._building[key] = fut
        generation = self._generation

        async def run() -> None:
            try:
                entry = await run_in_threadpool(lambda: _entry(build(), self.clock()))
                answer = entry.answer
                self.stats["built"] += 1
                if answer.keep and answer.status == 200:
                    self._keep(key, entry, generation)
                fut.set_result(entry)
            except Exception as exc:  # the waiting requests get the error (the guard turns it into a 500)
                log.warning("public answer %s: building failed (%s)", key[0] if isinstance(key, tuple) else "?",
                            type(exc).__name__)  # the type only: a message may hold data
                fut.set_exception(exc)
                fut.exception()  # a rebuild nobody waits for must not log "exception never retrieved"
            except BaseException:
                fut.cancel()
                raise
            finally:
                if self._building.get(key) is fut:
                    del self._building[key]

        task = asyncio.ensure_future(run())
        self._tasks.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(self._tasks.discard)
        return fut

    def _keep(self, key: Hashable, entry: _Entry, generation: int) -> None:
        with self._lock:
            if generation != self._generation:  # cleared while it was built: it may hold data from before
                return
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._entries[key] = entry
            self._bytes += entry.size
            while self._bytes > self.max_bytes and self._entries:
                first = next(iter(self._entries))
                self._bytes -= self._entries.pop(first).size


def _respond(request: Request, entry: _Entry, cache_control: str) -> Response:
    a = entry.answer
    vary = ", ".join(v for v in (a.headers.get("Vary"), "Accept-Encoding") if v)
    headers = {**a.headers, "Cache-Control": cache_control, "Vary": vary}
    if a.status == 200:
        headers["ETag"] = entry.etag
        tags = _etags(request.headers.get("if-none-match", ""))
        if entry.etag in tags or "*" in tags:
            return Response(status_code=304, headers=headers)
    if entry.gz is not None and _accepts_gzip(request.headers.get("accept-encoding", "")):
        headers["Content-Encoding"] = "gzip"
        return Response(entry.gz, status_code=a.status, media_type=a.media_type, headers=headers)
    return Response(a.body, status_code=a.status, media_type=a.media_type, headers=headers)


def _etags(header: str) -> set[str]:
    """The entity tags of an ``If-None-Match`` header (weak ones compared by their opaque part)."""
    return {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}


def _accepts_gzip(header: str) -> bool:
    """Whether an ``Accept-Encoding`` header allows gzip (``gzip;q=0`` refuses it)."""
    for part in header.lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False
