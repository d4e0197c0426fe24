"""Modem driver registry and the functions the probe and the CLI call.

Drivers are registered by name as ``(module, class)`` strings and imported lazily, like
python-can's ``BACKENDS``. :func:`open_modem` opens the port, identifies the modem (ATI, +CGMI,
+CGMM, +CGMR) and picks the driver from the vendor patterns of ``data/usb_models.toml`` unless one
is forced by name. The port is closed again on every error.
"""

from __future__ import annotations

import importlib
import os
import re

from .at import ATChannel
from .errors import DriverError, PortBusy, PortError, PortNotFound
from .generic import GenericModem, Identity, identify
from .models import ModemInfo, ModemReading
from .values import model_family, table

#: driver name -> (module, class name)
DRIVERS: dict[str, tuple[str, str]] = {
    "generic": ("qamtu.device.generic", "GenericModem"),
    "quectel": ("qamtu.device.quectel", "QuectelModem"),
    "huawei": ("qamtu.device.huawei", "HuaweiModem"),
    "simcom": ("qamtu.device.simcom", "SimcomModem"),
    "sierra": ("qamtu.device.sierra", "SierraModem"),
    "telit": ("qamtu.device.telit", "TelitModem"),
    "modemmanager": ("qamtu.device.modemmanager", "MMModem"),
    "qmi": ("qamtu.device.qmi_mbim", "QmiModem"),
    "mbim": ("qamtu.device.qmi_mbim", "MbimModem"),
}

#: port string prefix -> the driver that owns such ports (they are not serial ports: no AT identification)
PORT_SCHEMES: dict[str, str] = {"modemmanager:": "modemmanager", "qmi:": "qmi", "mbim:": "mbim"}


def port_scheme_driver(url: str) -> str | None:
    """The driver name a port string belongs to (``modemmanager:0`` -> ``modemmanager``), None for serial ports."""
    return next((name for prefix, name in PORT_SCHEMES.items() if url.startswith(prefix)), None)


def driver_names() -> list[str]:
    """Registered driver names, sorted."""
    return sorted(DRIVERS)


def driver_class(name: str) -> type[GenericModem]:
    """The driver class registered as ``name``.

    :raises DriverError: unknown name (the message lists the valid ones) or import failure.
    """
    try:
        module_name, class_name = DRIVERS[name]
    except KeyError:
        raise DriverError(f"unknown modem driver {name!r}; valid drivers: {', '.join(driver_names())}") from None
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DriverError(f"cannot import module {module_name} for modem driver {name!r}: {exc}") from exc
    try:
        return getattr(module, class_name)
    except AttributeError:
        raise DriverError(f"module {module_name} has no class {class_name} for modem driver {name!r}") from None


def at_driver_names() -> list[str]:
    """Drivers that speak AT over a serial port (those a ``--driver`` can force on ``/dev/ttyUSB2``)."""
    return sorted(n for n in DRIVERS if n not in PORT_SCHEMES.values())


def choose_driver(identity: Identity) -> str:
    """The driver name for an identified modem: the first vendor whose patterns match +CGMI, +CGMM or ATI."""
    text = " ".join(x for x in (identity.manufacturer, identity.model, identity.ati) if x)
    for vendor in table("usb_models")["vendors"].values():
        if any(re.search(p, text, re.I) for p in vendor["patterns"]):
            return vendor["driver"]
    # a model whose maker does not name itself: the model-family tables (scaling.toml) know its prefix
    for vendor, families in ((v, t.get("families")) for v, t in table("scaling").items() if isinstance(t, dict)):
        if families and model_family(families, identity.model):
            return vendor
    return "generic"


def open_modem(url: str, driver: str | None = None, *, timeout_s: float = 5.0) -> GenericModem:
    """Open ``url`` and return a ready driver (use it as a context manager, it closes the port).

    :param driver: a name from :func:`driver_names`; chosen from the modem's identity when None.
    :raises DriverError, PortError, ATError: the port is closed before any of these is raised.
    """
    cls = driver_class(driver) if driver else None  # validate the name before touching the port
    scheme = port_scheme_driver(url)
    if scheme is not None or driver in PORT_SCHEMES.values():
        if driver and scheme != driver:
            wanted = next((p for p, n in PORT_SCHEMES.items() if n == driver), "")
            raise DriverError(f"driver {driver!r} cannot open port {url!r}: "
                              + (f"{scheme}: ports use the {scheme!r} driver" if scheme else
                                 f"{driver!r} takes ports like {wanted}…"))
        return driver_class(scheme).open(url, timeout_s=timeout_s)
    try:
        channel = ATChannel(url, timeout_s=timeout_s)
    except PortError as exc:
        raise _modemmanager_advice(url, exc) from exc
    try:
        channel.drain()
        identity = identify(channel)
        if cls is None:
            cls = driver_class(choose_driver(identity))
        return cls(channel, identity)
    except BaseException:
        channel.close()
        raise


def _modemmanager_advice(url: str, exc: PortError) -> PortError:
    """``exc``, or a PortBusy naming the ``modemmanager:`` port to use when ModemManager owns ``url``."""
    if isinstance(exc, PortNotFound) and not os.path.exists(url):
        return exc
    try:
        from .modemmanager import mm_port_for

        mm = mm_port_for(url)
    except Exception:  # noqa: BLE001 - no D-Bus, no jeepney: keep the original error
        mm = None
    if mm is None:
        return exc
    return PortBusy(url, f"ModemManager owns this modem; read it through ModemManager instead: "
                         f"`qamtu modem read --port {mm}` (or stop ModemManager to use the AT port directly). "
                         f"Original error: {exc}", getattr(exc, "holders", None))


def read_modem(url: str, driver: str | None = None, *, timeout_s: float = 5.0) -> ModemReading:
    """Open, take one reading, close."""
    with open_modem(url, driver, timeout_s=timeout_s) as modem:
        return modem.read()


def modem_info(url: str, driver: str | None = None, *, timeout_s: float = 5.0) -> ModemInfo:
    """Open, read manufacturer/model/firmware/IMEI/SIM, close."""
    with open_modem(url, driver, timeout_s=timeout_s) as modem:
        return modem.info()
