"""Writing output files all or nothing, with the umask applied, and a one-line error on failure.

Every command that writes a file people keep (maps, reports, bundles, exports, keys, documents)
goes through :func:`atomic_output`: the data is written to a hidden temporary file in the same
directory, flushed to disk and renamed over the target, so a full disk, ``kill -9`` or an exception
leaves either the previous file or the new one, never a truncated mix, and no temporary file
behind. An ``OSError`` becomes :class:`OutputError`, whose message names the file.

Files get the permissions a plain ``open(..., "w")`` would give (``0666`` minus the umask), so a
colleague on a shared office folder can open a bundle; private keys pass ``mode=0o600``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator, Optional

from . import QamtuError


class OutputError(QamtuError):
    """An output file could not be written (full disk, no permission, missing folder)."""


def current_umask() -> int:
    """The process umask, read without changing it where the platform allows (Linux /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)  # elsewhere: read it by setting it (briefly process-wide)
    os.umask(old)
    return old


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


@contextlib.contextmanager
def atomic_output(out: Path | str, *, mode: Optional[int] = None, what: str = "output",
                  also: tuple[type[BaseException], ...] = ()) -> Iterator[Path]:
    """Yield a temporary path beside ``out`` (same suffix, so tools that pick a format by extension
    work); on success it is fsynced and renamed to ``out``, on any failure it is removed.

    ``mode``: permission bits of the result (default ``0o666`` minus the umask). Raises
    :class:`OutputError` naming ``out`` for any ``OSError`` (including one raised by the writer), and
    for the exception types in ``also`` (a library's own "cannot write" errors, e.g. GDAL's).
    """
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial" + out.suffix, dir=out.parent)
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot write {what} {out}: {_reason(exc)}") from None
    tmp = Path(name)
    if mode is None:  # let the writer create it (GDAL refuses to write over an empty file)
        tmp.unlink()
    caught: tuple[type[BaseException], ...] = (OSError, *also)
    # with a mode, the file mkstemp made (0600) is kept, so a private key is never readable by others
    try:
        yield tmp
        os.chmod(tmp, (0o666 & ~current_umask()) if mode is None else mode)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except caught as exc:
        tmp.unlink(missing_ok=True)
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        reason = _reason(exc) if isinstance(exc, OSError) else text
        raise OutputError(f"cannot write {what} {out}: {reason}; any previous file is unchanged") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(out: Path | str, data: bytes, *, mode: Optional[int] = None, what: str = "output") -> Path:
    """Write ``data`` to ``out`` all or nothing (see :func:`atomic_output`)."""
    with atomic_output(out, mode=mode, what=what) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
    return Path(out)


def write_text(out: Path | str, text: str, *, encoding: str = "utf-8", mode: Optional[int] = None,
               what: str = "output") -> Path:
    """Write ``text`` to ``out`` all or nothing (see :func:`atomic_output`)."""
    return write_bytes(out, text.encode(encoding), mode=mode, what=what)


@contextlib.contextmanager
def atomic_dir(out: Path | str, *, what: str = "output folder") -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; on success its files are moved into ``out`` (each by
    rename), on failure it is removed. For commands that write several files at once."""
    import shutil

    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".partial-", dir=out))
    except OSError as exc:
        raise OutputError(f"cannot write {what} {out}: {_reason(exc)}") from None
    try:
        yield work
        umask = current_umask()
        for f in sorted(work.rglob("*")):
            if f.is_file():
                os.chmod(f, 0o666 & ~umask)
        for f in sorted(work.iterdir()):
            os.replace(f, out / f.name)
    except OSError as exc:
        raise OutputError(f"cannot write {what} {out}: {_reason(exc)}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
