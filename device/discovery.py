"""Port discovery: serial ports with their USB VID:PID, the known modem model, and the port's role
(AT or NMEA) from the cited table ``data/usb_models.toml``.
"""

from __future__ import annotations

import re
from typing import Iterable

from pydantic import BaseModel, ConfigDict
from serial.tools import list_ports

from .ports import port_holders
from .values import table


class PortInfo(BaseModel):
    """One serial port. ``role`` is ``AT``, ``NMEA``, ``other`` (a known modem's other interface) or None."""

    model_config = ConfigDict(frozen=True)
    device: str
    description: str | None = None
    vid: str | None = None
    pid: str | None = None
    serial_number: str | None = None
    manufacturer: str | None = None
    product: str | None = None
    usb_interface: int | None = None
    vendor: str | None = None
    model: str | None = None
    driver: str | None = None
    role: str | None = None
    holders: list[str] = []


def usb_interface_number(location: str | None) -> int | None:
    """USB interface number from a pyserial location such as ``1-1.2:1.3`` (-> 3); None if absent."""
    if not location:
        return None
    m = re.search(r":\d+\.(\d+)$", location)
    return int(m.group(1)) if m else None


def classify(vid: int | None, pid: int | None, interface: int | None) -> dict[str, str | None]:
    """Vendor, model, driver and role of a USB serial interface, from ``data/usb_models.toml``."""
    out: dict[str, str | None] = {"vendor": None, "model": None, "driver": None, "role": None}
    if vid is None:
        return out
    vid_s, pid_s = f"{vid:04x}", None if pid is None else f"{pid:04x}"
    data = table("usb_models")
    for name, vendor in data["vendors"].items():
        if vendor["vid"] == vid_s:
            out["vendor"], out["driver"] = name, vendor["driver"]
    for m in data["models"]:
        if m["vid"] == vid_s and m["pid"] == pid_s:
            out["model"] = m["name"]
            if interface is not None:
                if interface == m.get("at_interface"):
                    out["role"] = "AT"
                elif interface == m.get("nmea_interface"):
                    out["role"] = "NMEA"
                else:
                    out["role"] = "other"
    return out


def list_serial_ports(ports: Iterable | None = None, *, with_holders: bool = True) -> list[PortInfo]:
    """Every serial port the OS knows (``serial.tools.list_ports.comports``), classified.

    :param ports: ``ListPortInfo``-like objects to classify instead of the system's (for tests).
    :param with_holders: also name the processes holding each port (Linux; e.g. ModemManager).
    """
    out: list[PortInfo] = []
    for p in (list_ports.comports() if ports is None else ports):
        iface = usb_interface_number(getattr(p, "location", None))
        info = classify(getattr(p, "vid", None), getattr(p, "pid", None), iface)
        holders = [f"{name} (pid {pid})" for pid, name in port_holders(p.device)] if with_holders else []
        vid, pid = getattr(p, "vid", None), getattr(p, "pid", None)
        out.append(PortInfo(device=p.device, description=getattr(p, "description", None),
                            vid=None if vid is None else f"{vid:04x}", pid=None if pid is None else f"{pid:04x}",
                            serial_number=getattr(p, "serial_number", None),
                            manufacturer=getattr(p, "manufacturer", None), product=getattr(p, "product", None),
                            usb_interface=iface, holders=holders, **info))
    return sorted(out, key=lambda x: x.device)
