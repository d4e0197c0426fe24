"""The AT channel: send one command, collect its response up to the final result code.

Works over any pyserial URL: ``/dev/ttyUSB2``, ``COM7``, ``socket://host:port``, ``loop://`` or a
pty path, because the port is opened with :func:`serial.serial_for_url`. Tolerates echo on or off,
blank lines, garbage bytes, partial lines and unsolicited result codes (URCs) interleaved with the
answer; URCs are kept as events. Never waits longer than the per-command timeout, and closes the
port before raising on a broken port.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field

import serial

from .errors import ATCommandError, ATTimeout, PortBusy, PortError, PortNotFound, PortVanished
from .models import RawExchange
from .ports import busy_advice, port_holders
from .values import cme_meaning

logger = logging.getLogger(__name__)

#: Lines that start like these are unsolicited result codes unless they answer the command itself.
URC_PREFIXES = (
    "+CREG:", "+CGREG:", "+CEREG:", "+C5GREG:", "RING", "+CRING:", "NO CARRIER", "+CMTI:", "+CDSI:",
    "^RSSI:", "^HCSQ:", "^MODE:", "^BOOT:", "^SRVST:", "^SIMST:", "^SYSSTART", "^CERSSI:", "+QIND:",
    "+QUSIM:", "+QGPSURC:", "+QNWINFO:", "RDY", "+CPIN:", "+CFUN:", "+PACSP", "*PSNWID:", "*PSUTTZ:",
    "DST:", "+CTZE:", "+CTZV:", "+CGEV:", "+SIMCARD:", "SMS DONE", "PB DONE", "#QSS:", "+CIEV:",
)
_FINAL_OK = "OK"
_FINAL_ERR = re.compile(r"^(ERROR|\+CME ERROR:\s*(.*)|\+CMS ERROR:\s*(.*)|COMMAND NOT SUPPORT|NO CARRIER|"
                        r"TOO MANY PARAMETERS)$")


@dataclass
class ATResponse:
    """The answer to one command: ``lines`` without echo, URCs or garbage; ``final`` result code."""

    command: str
    lines: list[str] = field(default_factory=list)
    final: str = ""
    events: list[str] = field(default_factory=list)
    garbage: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the final result code is ``OK``."""
        return self.final == _FINAL_OK

    def prefixed(self, prefix: str) -> list[str]:
        """The lines starting with ``prefix`` (case-insensitive), e.g. ``'+QENG:'``."""
        p = prefix.upper()
        return [ln for ln in self.lines if ln.upper().startswith(p)]

    def raw(self) -> RawExchange:
        """The exchange as stored with readings."""
        return RawExchange(command=self.command, lines=list(self.lines), final=self.final, events=list(self.events))


def response_prefix(command: str) -> str | None:
    """The prefix of answer lines to ``command``: ``AT+CSQ`` -> ``+CSQ:``, ``AT^HCSQ?`` -> ``^HCSQ:``."""
    m = re.match(r"^AT([+^#$!*%][A-Za-z0-9]+)", command.strip(), re.I)
    return (m.group(1).upper() + ":") if m else None


def _is_garbage(line: str) -> bool:
    return any(ch == "\ufffd" or (ord(ch) < 32 and ch != "\t") or 127 <= ord(ch) < 160 for ch in line)


class ATChannel:
    """An open AT port. Use as a context manager, or call :meth:`close`.

    :param url: pyserial URL or device name.
    :param timeout_s: default per-command timeout in seconds.
    :param baudrate: ignored by USB CDC/ACM modems and ptys, used by real UARTs.
    :param exclusive: lock the port (POSIX ``flock``) so that two Qamtu processes never share it.
    :param late_s: after a timeout, how long the next command first waits for the late answer.
    """

    def __init__(self, url: str, *, timeout_s: float = 5.0, baudrate: int = 115200, exclusive: bool = True,
                 late_s: float = 1.0) -> None:
        self.url = url
        self.late_s = late_s
        self.timeout_s = timeout_s
        self.events: list[str] = []
        self._after_timeout = False
        self._lock = threading.Lock()
        self._buf = b""
        self._ser = open_port(url, baudrate=baudrate, exclusive=exclusive)

    # ------------------------------------------------------------------ opening and closing
    @property
    def is_open(self) -> bool:
        """True while the port is open."""
        return bool(self._ser is not None and self._ser.is_open)

    def close(self) -> None:
        """Close the port (idempotent)."""
        ser, self._ser = self._ser, None
        if ser is not None:
            try:
                ser.close()
            except Exception:  # noqa: BLE001 - closing a vanished device may fail; it is closed anyway
                pass

    def __enter__(self) -> "ATChannel":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ I/O
    def _fail(self, exc: BaseException, command: str) -> PortError:
        self.close()
        return PortVanished(self.url, f"device went away during {command}: {exc}")

    def _read_some(self, command: str) -> bytes:
        if self._ser is None:
            raise PortError(self.url, "port is closed")
        try:
            n = self._ser.in_waiting
            return self._ser.read(max(1, min(n, 4096)))
        except (serial.SerialException, OSError) as exc:
            raise self._fail(exc, command) from exc

    def drain(self) -> list[str]:
        """Read what is waiting without sending anything; complete lines are kept as events."""
        with self._lock:
            end = time.monotonic() + 0.5  # a port that never stops talking must not hold us
            while time.monotonic() < end:
                chunk = self._read_some("(idle)")
                if not chunk:
                    break
                self._buf += chunk
            lines = self._take_lines()
            events = [ln for ln in lines if ln and not _is_garbage(ln)]
            self.events.extend(events)
            return events

    def _settle(self, command: str) -> list[str]:
        """After a timeout: wait (at most ``late_s``) for the late final result code of the command that
        timed out and drop it; the late lines become events."""
        end = time.monotonic() + self.late_s
        events: list[str] = []
        while time.monotonic() < end:
            chunk = self._read_some(command)
            if not chunk:
                continue
            self._buf += chunk
            for ln in self._take_lines():
                if ln == _FINAL_OK or _FINAL_ERR.match(ln):
                    return events
                if ln and not _is_garbage(ln):
                    events.append(ln)
        return events

    def _take_lines(self) -> list[str]:
        parts = re.split(rb"\r\n|\r|\n", self._buf)
        self._buf = parts.pop()  # the trailing partial line stays buffered
        return [p.decode("utf-8", errors="replace").strip() for p in parts]

    def command(self, command: str, *, timeout_s: float | None = None, check: bool = True) -> ATResponse:
        """Send ``command`` (``"AT+CSQ"``) and return its :class:`ATResponse`.

        :raises ATTimeout: no final result code within ``timeout_s``.
        :raises ATCommandError: the final result code is an error (only when ``check``).
        :raises PortVanished: the device disappeared (the port is then closed).
        """
        timeout = self.timeout_s if timeout_s is None else timeout_s
        prefix = response_prefix(command)
        with self._lock:
            if self._ser is None:
                raise PortError(self.url, f"port is closed; cannot send {command}")
            resp = ATResponse(command=command)
            if self._after_timeout:
                # The answer to the command that timed out may still arrive: let it pass, so that its
                # final result code is not taken for ours.
                self._after_timeout = False
                resp.events.extend(self._settle(command))
            start = time.monotonic()
            # Complete lines already waiting belong to no command: they are events.
            try:
                pending = self._ser.in_waiting
            except (serial.SerialException, OSError) as exc:
                raise self._fail(exc, command) from exc
            if pending:
                self._buf += self._read_some(command)
            resp.events.extend(ln for ln in self._take_lines() if ln and not _is_garbage(ln))
            self._buf = b""
            try:
                self._ser.write(command.encode("ascii", errors="replace") + b"\r")
            except (serial.SerialException, OSError) as exc:
                raise self._fail(exc, command) from exc
            deadline = start + timeout
            echo_pending = True
            while True:
                chunk = self._read_some(command)
                if chunk:
                    self._buf += chunk
                for line in self._take_lines():
                    if resp.final:  # a URC right after the final result code
                        if line and not _is_garbage(line):
                            resp.events.append(line)
                        continue
                    if not line:
                        continue
                    if _is_garbage(line):
                        resp.garbage.append(line)
                        continue
                    if echo_pending and line.upper() == command.strip().upper():
                        echo_pending = False
                        continue
                    if line == _FINAL_OK or _FINAL_ERR.match(line):
                        resp.final = line
                        continue
                    upper = line.upper()
                    if upper.startswith(URC_PREFIXES) and not (prefix and upper.startswith(prefix)):
                        resp.events.append(line)
                    else:
                        resp.lines.append(line)
                if resp.final:
                    break
                if time.monotonic() >= deadline:
                    self.events.extend(resp.events)
                    received = resp.lines + ([self._buf.decode("utf-8", "replace")] if self._buf else [])
                    self._after_timeout = True
                    raise ATTimeout(self.url, command, timeout, received)
            resp.elapsed_s = time.monotonic() - start
            self.events.extend(resp.events)
            # Anything after the final result code (rare) stays buffered for the next command.
        if check and not resp.ok:
            raise error_from_final(self.url, command, resp.final)
        logger.debug("%s %s -> %s %s", self.url, command, resp.lines, resp.final)
        return resp


def open_port(url: str, *, baudrate: int = 115200, exclusive: bool = True,
              timeout_s: float = 0.02) -> serial.SerialBase:
    """Open a serial port by name or pyserial URL, turning failures into PortNotFound / PortBusy / PortError."""
    kwargs: dict = {"baudrate": baudrate, "timeout": timeout_s, "write_timeout": 2.0}
    if exclusive and "://" not in url:
        kwargs["exclusive"] = True
    try:
        return serial.serial_for_url(url, **kwargs)
    except ValueError as exc:  # unknown URL scheme / bad parameter
        raise PortNotFound(url, f"not a usable port name or URL ({exc})") from exc
    except serial.SerialException as exc:
        text = str(exc)
        errno_ = getattr(exc, "errno", None)
        low = text.lower()
        if errno_ in (2, 6, 19) or "no such file" in low or "filenotfounderror" in low or "cannot find" in low:
            raise PortNotFound(url, "no such device; is the modem plugged in? (`qamtu devices` lists ports)") from exc
        if errno_ in (11, 13, 16) or "lock" in low or "busy" in low or "permission" in low or "access is denied" in low:
            holders = port_holders(url)
            raise PortBusy(url, busy_advice(url, holders, text), holders) from exc
        raise PortError(url, f"cannot open: {text}") from exc


def error_from_final(port: str, command: str, final: str) -> ATCommandError:
    """The :class:`ATCommandError` for a final result code such as ``+CME ERROR: 10``."""
    m = re.match(r"^\+(CME|CMS) ERROR:\s*(.*)$", final)
    if m:
        kind, text = m.group(1), m.group(2).strip()
        code = int(text) if text.isdigit() else None
        meaning = cme_meaning(kind, code) if code is not None else (text or None)
        return ATCommandError(port, command, kind, code, meaning, final)
    return ATCommandError(port, command, final or "ERROR", None, None, final or "ERROR")
