"""Sending a test through one named interface, and proving afterwards that it did.

On Linux every socket of a test gets ``SO_BINDTODEVICE`` (the kernel then routes only through
that device, whatever the routing table says). Elsewhere, or when asked, the socket is bound to
the interface's IPv4 address instead, which the kernel may still route out of another
interface: that is speedtest-cli's ``--source`` trap, and why the egress is always verified by
the interface's byte counters before and after the test (:func:`check_egress`).
"""

from __future__ import annotations

import errno
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Optional

from ...device.counters import COUNTER_COMMANDS as MODEM_COUNTER_COMMANDS
from ...device.counters import parse_dsflowqry, parse_qgdcnt  # noqa: F401 - re-exported (moved to qamtu.device)
from ..errors import DnsFailureError, InterfaceDownError, ServerUnreachableError, SpeedTestError
from .models import EgressCheck, InterfaceCounters

SYS_NET = Path("/sys/class/net")
SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)
IFF_UP = 0x1
#: Counter deltas must cover at least this share of the payload (they are normally above 100 %:
#: headers, ACKs, retransmissions). Below it, some of the traffic went another way.
EGRESS_MIN_RATIO = 0.95

BindingMode = Literal["auto", "so_bindtodevice", "source_address"]


@dataclass(frozen=True)
class Binding:
    """How the sockets of one test are tied to an interface. ``interface=None`` means no binding."""

    interface: Optional[str] = None
    mode: str = "none"  # so_bindtodevice | source_address | none
    source_address: Optional[str] = None

    def target(self) -> str:
        """What the sockets are bound to: the interface name (mode ``so_bindtodevice``) or its IPv4 address
        (mode ``source_address``). Raises :class:`InterfaceDownError` when the binding lacks it (a
        :class:`Binding` not built by :func:`make_binding`) or binds nothing (mode ``none``)."""
        wanted = {"so_bindtodevice": ("interface", self.interface),
                  "source_address": ("source_address", self.source_address)}
        field_name, value = wanted.get(self.mode, ("interface", None))
        if not value:
            raise InterfaceDownError(f"binding mode {self.mode!r} has no {field_name}: build it with make_binding()",
                                     interface=self.interface, phase="connect")
        return value

    def apply(self, sock: socket.socket) -> None:
        """Bind ``sock`` (not yet connected) to the interface; raises :class:`InterfaceDownError`."""
        if self.mode == "so_bindtodevice":
            device = self.target()
            try:
                sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, device.encode() + b"\0")
            except OSError as exc:
                raise InterfaceDownError(f"cannot bind socket to device {self.interface}: {exc.strerror or exc}",
                                         interface=self.interface, phase="connect") from exc
        elif self.mode == "source_address":
            address = self.target()
            try:
                sock.bind((address, 0))
            except OSError as exc:
                raise InterfaceDownError(
                    f"cannot bind socket to {self.source_address} (address of {self.interface}): {exc.strerror or exc}",
                    interface=self.interface, phase="connect") from exc


def interface_exists(name: str) -> bool:
    """True if the kernel knows an interface of that name."""
    try:
        return any(n == name for _, n in socket.if_nameindex())
    except OSError:  # pragma: no cover - no interface API
        return (SYS_NET / name).exists()


def check_interface_up(name: str) -> None:
    """Raise :class:`InterfaceDownError` unless ``name`` exists and is administratively up (Linux)."""
    if not interface_exists(name):
        raise InterfaceDownError(f"no such interface {name!r}", interface=name, phase="resolve")
    flags_file = SYS_NET / name / "flags"
    if flags_file.exists():
        flags = int(flags_file.read_text().strip(), 16)
        if not flags & IFF_UP:
            raise InterfaceDownError(f"interface {name} is down (administratively)", interface=name, phase="resolve")
        carrier = SYS_NET / name / "carrier"
        try:
            if carrier.read_text().strip() == "0":
                raise InterfaceDownError(f"interface {name} has no carrier (link down)", interface=name,
                                         phase="resolve")
        except OSError:
            pass  # carrier is unreadable while the device is down or for some virtual devices


def interface_ipv4(name: str) -> str:
    """First IPv4 address of ``name`` (for source-address binding); raises :class:`InterfaceDownError`."""
    if sys.platform.startswith("linux"):
        import fcntl
        import struct

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                packed = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))  # SIOCGIFADDR
            except OSError as exc:
                raise InterfaceDownError(f"interface {name} has no IPv4 address", interface=name) from exc
        return socket.inet_ntoa(packed[20:24])
    try:  # other systems: psutil knows the addresses portably
        import psutil  # type: ignore[import-untyped]  # optional dependency, no stubs (types-psutil)
    except ImportError as exc:  # pragma: no cover - non-Linux only
        raise InterfaceDownError("binding by address outside Linux needs psutil: pip install psutil",
                                 interface=name) from exc
    for addr in psutil.net_if_addrs().get(name, []):  # pragma: no cover - non-Linux only
        if addr.family == socket.AF_INET:
            return addr.address
    raise InterfaceDownError(f"interface {name} has no IPv4 address", interface=name)  # pragma: no cover


def make_binding(interface: Optional[str], mode: BindingMode = "auto") -> Binding:
    """Check the interface and choose how to bind: SO_BINDTODEVICE on Linux, else the interface's address."""
    if not interface:
        return Binding()
    check_interface_up(interface)
    auto = mode == "auto"
    if auto:
        mode = "so_bindtodevice" if sys.platform.startswith("linux") else "source_address"
    if mode == "so_bindtodevice":
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            Binding(interface, "so_bindtodevice").apply(probe)
        except InterfaceDownError as exc:
            cause = exc.__cause__
            if not (auto and isinstance(cause, PermissionError)):
                raise
            # Unprivileged on an older kernel: bind by address instead; the counters still judge egress.
            return Binding(interface, "source_address", interface_ipv4(interface))
        finally:
            probe.close()
        return Binding(interface, "so_bindtodevice")
    return Binding(interface, "source_address", interface_ipv4(interface))


def read_counters(interface: str) -> InterfaceCounters:
    """The interface's rx/tx byte counters (Linux sysfs, else psutil)."""
    stats = SYS_NET / interface / "statistics"
    if stats.exists():
        return InterfaceCounters(rx_bytes=int((stats / "rx_bytes").read_text()),
                                 tx_bytes=int((stats / "tx_bytes").read_text()),
                                 source=str(stats))
    try:  # pragma: no cover - non-Linux only
        import psutil  # untyped like above; mypy reports a missing stub once per file (ignored above)
        c = psutil.net_io_counters(pernic=True)[interface]
        return InterfaceCounters(rx_bytes=c.bytes_recv, tx_bytes=c.bytes_sent, source="psutil.net_io_counters")
    except (ImportError, KeyError) as exc:  # pragma: no cover
        raise InterfaceDownError(f"no byte counters for interface {interface}", interface=interface) from exc


def check_egress(interface: str, binding: str, before: InterfaceCounters, after: InterfaceCounters,
                 payload_rx_bytes: int, payload_tx_bytes: int, min_ratio: float = EGRESS_MIN_RATIO) -> EgressCheck:
    """Compare the counter deltas with what the test moved. Verified only if both directions are covered."""
    rx = after.rx_bytes - before.rx_bytes
    tx = after.tx_bytes - before.tx_bytes
    problems = []
    if payload_rx_bytes and rx < min_ratio * payload_rx_bytes:
        problems.append(f"{interface} received {rx} bytes but the test received {payload_rx_bytes} payload bytes")
    if payload_tx_bytes and tx < min_ratio * payload_tx_bytes:
        problems.append(f"{interface} sent {tx} bytes but the test sent {payload_tx_bytes} payload bytes")
    if not payload_rx_bytes and not payload_tx_bytes:
        problems.append("the test moved no payload, nothing to verify")
    verified = not problems
    reason = ("counter deltas cover the payload in both directions" if verified
              else "; ".join(problems) + ": the traffic did not (all) go through this interface")
    return EgressCheck(interface=interface, binding=binding, before=before, after=after, rx_delta_bytes=rx,
                       tx_delta_bytes=tx, payload_rx_bytes=payload_rx_bytes, payload_tx_bytes=payload_tx_bytes,
                       min_ratio=min_ratio, verified=verified, reason=reason)


def map_os_error(exc: BaseException, *, host: str, port: int, interface: Optional[str], phase: str) -> SpeedTestError:
    """Translate a socket-level error into the most specific :class:`SpeedTestError`."""
    if isinstance(exc, SpeedTestError):
        return exc
    if isinstance(exc, socket.gaierror):
        return DnsFailureError(f"cannot resolve host {host!r}: {exc.strerror or exc}", phase="resolve")
    if isinstance(exc, ConnectionRefusedError):
        return ServerUnreachableError(f"connection to {host}:{port} refused (no server listening)", phase=phase)
    if isinstance(exc, TimeoutError):
        return ServerUnreachableError(f"no answer from {host}:{port} in time", phase=phase)
    if isinstance(exc, OSError) and exc.errno in (errno.ENETDOWN, errno.ENODEV, errno.ENXIO):
        return InterfaceDownError(f"network/interface down while connecting to {host}:{port}: {exc.strerror}",
                                  phase=phase)
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL):
        via = f" through {interface}" if interface else ""
        return ServerUnreachableError(f"no route to {host}:{port}{via}: {exc.strerror}", phase=phase)
    if isinstance(exc, OSError):
        return ServerUnreachableError(f"cannot connect to {host}:{port}: {exc.strerror or exc}", phase=phase)
    return SpeedTestError(f"unexpected error: {exc!r}", phase=phase)


def create_connection(host: str, port: int, binding: Binding, timeout_s: float) -> socket.socket:
    """Blocking connect through ``binding`` (used by the speedtest-cli adapter)."""
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise map_os_error(exc, host=host, port=port, interface=binding.interface, phase="resolve") from exc
    last: Optional[BaseException] = None
    for family, socktype, proto, _, addr in infos:
        if binding.mode == "source_address" and family != socket.AF_INET:
            continue
        sock = socket.socket(family, socktype, proto)
        try:
            binding.apply(sock)
            sock.settimeout(timeout_s)
            sock.connect(addr)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    raise map_os_error(last or OSError("no usable address"), host=host, port=port, interface=binding.interface,
                       phase="connect")


# --------------------------------------------------------------------------- modem counters (AT)
@dataclass
class ModemCounterReader:
    """Second witness: ask the modem for its own data counters. ``send`` sends one AT command and returns
    the raw answer (the probe passes its device layer's AT channel); ``command`` picks the parser."""

    send: Callable[[str], str]
    command: str = "AT+QGDCNT?"

    @classmethod
    def for_at_channel(cls, channel: object, command: str = "AT+QGDCNT?") -> "ModemCounterReader":
        """Read through a :mod:`qamtu.device` AT channel (anything with ``command(cmd).lines``)."""
        return cls(send=lambda cmd: "\n".join(channel.command(cmd).lines), command=command)  # type: ignore[attr-defined]

    @classmethod
    def for_modem(cls, modem: object) -> "ModemCounterReader":
        """Read through an open :mod:`qamtu.device` driver (``open_modem(...)``) that has a counter command;
        shares the driver's AT channel, whose per-command lock keeps the probe's readings intact."""
        command = getattr(modem, "counter_command", None)
        if command is None:
            raise ValueError(f"the {getattr(modem, 'name', '?')} driver has no data counter command")
        channel = modem.channel  # type: ignore[attr-defined]
        return cls(send=lambda cmd: "\n".join(channel.command(cmd).lines), command=command)

    def read(self) -> tuple[int, int]:
        """(rx_bytes, tx_bytes) as the modem counts them."""
        return MODEM_COUNTER_COMMANDS[self.command](self.send(self.command))
