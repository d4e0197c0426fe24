"""A device served on a real pseudo-terminal (``os.openpty``), in a background thread.

Clients open :attr:`PtyDevice.path`, a stable symlink to the current pty slave, with pyserial like
any modem. :meth:`PtyDevice.vanish` closes the pty and removes the link, as when a USB modem
resets; :meth:`PtyDevice.reappear` makes a new pty behind the same path. POSIX only.
"""

from __future__ import annotations

import atexit
import logging
import os
import select
import shutil
import tempfile
import threading
import time
from pathlib import Path

from .errors import ScenarioError

logger = logging.getLogger(__name__)


class PtyDevice:
    """Base class: subclasses implement :meth:`on_bytes` (input from the client) and :meth:`tick`."""

    tick_s = 0.05

    def __init__(self, name: str = "qamtu-sim", link_dir: str | Path | None = None) -> None:
        if os.name != "posix":  # pragma: no cover - Windows has no pty
            raise ScenarioError("simulated devices need a POSIX pty (Linux or macOS)")
        self.name = name
        self._own_dir = link_dir is None
        self._dir = Path(tempfile.mkdtemp(prefix="qamtu-sim-")) if link_dir is None else Path(link_dir)
        self.path = str(self._dir / name)
        self._master: int | None = None
        self._slave: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wlock = threading.Lock()
        self.vanished = False

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "PtyDevice":
        """Create the pty and start serving; returns self (``path`` is ready)."""
        self._open_pty()
        self._thread = threading.Thread(target=self._run, name=f"pty:{self.name}", daemon=True)
        self._thread.start()
        atexit.register(self.stop)  # remove the link even if the owner forgets to stop us
        return self

    def stop(self) -> None:
        """Stop the thread, close the pty and remove the link (idempotent)."""
        self._stop.set()
        atexit.unregister(self.stop)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        self._close_pty()
        if self._own_dir:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> "PtyDevice":
        return self.start() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def vanish(self) -> None:
        """The device disappears: the pty closes (clients get I/O errors) and the path goes away."""
        if not self.vanished:
            logger.info("%s vanishes", self.name)
            self.vanished = True
            self._close_pty()

    def reappear(self) -> None:
        """The device comes back under the same path, on a new pty."""
        if self.vanished:
            logger.info("%s reappears", self.name)
            self._open_pty()
            self.vanished = False
            self.on_reappear()

    # ------------------------------------------------------------------ pty plumbing
    def _open_pty(self) -> None:
        import tty  # POSIX only; imported here so that `import qamtu.device` works on Windows

        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        tmp = self.path + ".new"
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self.path)

    def _close_pty(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        with self._wlock:
            for fd in (self._master, self._slave):
                if fd is not None:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            self._master = self._slave = None

    def write(self, data: bytes) -> None:
        """Send bytes to the client (dropped while vanished)."""
        with self._wlock:
            fd = self._master
            if fd is None:
                return
            view = memoryview(data)
            deadline = time.monotonic() + 2.0
            while view and time.monotonic() < deadline:
                try:
                    n = os.write(fd, view)
                    view = view[n:]
                except BlockingIOError:
                    select.select([], [fd], [], 0.05)
                except OSError:
                    return

    def _run(self) -> None:
        next_tick = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_tick:
                try:
                    self.tick()
                except Exception:  # noqa: BLE001 - a simulator bug must not kill the thread silently
                    logger.exception("%s: tick failed", self.name)
                next_tick = now + self.tick_s
            fd = self._master
            if fd is None:
                time.sleep(min(self.tick_s, 0.02))
                continue
            try:
                ready, _, _ = select.select([fd], [], [], self.tick_s)
            except (OSError, ValueError):
                continue
            if not ready:
                continue
            try:
                data = os.read(fd, 4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                time.sleep(0.01)
                continue
            if data:
                try:
                    self.on_bytes(data)
                except Exception:  # noqa: BLE001
                    logger.exception("%s: failed to answer %r", self.name, data)

    # ------------------------------------------------------------------ to override
    def on_bytes(self, data: bytes) -> None:
        """Handle bytes written by the client."""

    def tick(self) -> None:
        """Called every ``tick_s`` seconds from the serving thread."""

    def on_reappear(self) -> None:
        """Called after :meth:`reappear` (a modem prints its boot URCs here)."""
