"""Exception tree of :mod:`qamtu.device`.

Everything the device layer raises on purpose derives from :class:`DeviceError`, itself a
:class:`qamtu.QamtuError`, so callers can write ``except DeviceError``. Messages name the port,
the AT command and the error code where there is one::

    DeviceError
    ├── PortError                 a serial port could not be used         (.port)
    │   ├── PortNotFound          no such device / URL
    │   ├── PortBusy              another process holds it (ModemManager…) (.holders)
    │   └── PortVanished          the device disappeared while in use
    ├── ATError                   an AT command failed                    (.port, .command)
    │   ├── ATTimeout             no final result code within the timeout
    │   └── ATCommandError        ERROR / +CME ERROR: n / +CMS ERROR: n   (.code, .kind)
    ├── ParseError                a response could not be understood      (.command, .line)
    ├── DriverError               unknown or unusable driver name
    ├── GnssError                 a GNSS source failed
    └── ScenarioError             a simulator profile, route or transcript is invalid

Parsers raise only :class:`ParseError`; the hypothesis tests hold them to that.
"""

from __future__ import annotations

from .. import QamtuError


class DeviceError(QamtuError):
    """Root of every error raised by the device layer."""


class PortError(DeviceError):
    """A serial port (device path, ``COM7``, ``socket://``, ``loop://``, pty) could not be used."""

    def __init__(self, port: str, message: str) -> None:
        self.port = port
        super().__init__(f"port {port}: {message}")


class PortNotFound(PortError):
    """The port does not exist (unplugged modem, wrong name, bad URL)."""


class PortBusy(PortError):
    """Another process holds the port; ``holders`` lists ``(pid, process name)`` when known."""

    def __init__(self, port: str, message: str, holders: list[tuple[int, str]] | None = None) -> None:
        self.holders = list(holders or [])
        super().__init__(port, message)


class PortVanished(PortError):
    """The device went away while in use (USB reset, modem reboot, cable pulled)."""


class ATError(DeviceError):
    """An AT command did not succeed."""

    def __init__(self, port: str, command: str, message: str) -> None:
        self.port = port
        self.command = command
        super().__init__(f"{command} on {port}: {message}")


class ATTimeout(ATError):
    """No final result code (``OK``, ``ERROR``, ``+CME ERROR``…) arrived within the timeout."""

    def __init__(self, port: str, command: str, timeout_s: float, received: list[str] | None = None) -> None:
        self.timeout_s = timeout_s
        self.received = list(received or [])
        got = f"; received {self.received!r}" if self.received else "; nothing received"
        super().__init__(port, command, f"no final result code within {timeout_s:g} s{got}")


class ATCommandError(ATError):
    """The modem answered ``ERROR``, ``+CME ERROR: <code>``, ``+CMS ERROR: <code>`` or a vendor refusal.

    ``kind`` is ``"ERROR"``, ``"CME"``, ``"CMS"`` or the vendor's text; ``code`` the numeric
    code (``None`` for a bare ``ERROR``); ``meaning`` the 27.007/27.005 text when known.
    """

    def __init__(self, port: str, command: str, kind: str, code: int | None = None, meaning: str | None = None,
                 final: str = "") -> None:
        self.kind = kind
        self.code = code
        self.meaning = meaning
        self.final = final
        text = final or kind
        if meaning:
            text += f" ({meaning})"
        super().__init__(port, command, f"failed: {text}")


class ParseError(DeviceError):
    """A response line could not be parsed. The only exception a parser may raise."""

    def __init__(self, command: str, line: str, reason: str) -> None:
        self.command = command
        self.line = line
        self.reason = reason
        super().__init__(f"cannot parse the answer to {command}: {reason}: {line[:120]!r}")


class DriverError(DeviceError):
    """A modem driver name is unknown, or its module cannot be imported."""


class GnssError(DeviceError):
    """A GNSS source could not be opened or read."""


class ScenarioError(DeviceError):
    """A simulator profile, scenario/route file or transcript is invalid."""
