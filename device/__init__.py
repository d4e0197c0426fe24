"""Talking to hardware only: AT channel, modem drivers, GNSS sources, port discovery, simulated devices.

Imports nothing from the other Qamtu packages. The probe uses:

* :func:`open_modem` / :func:`read_modem` / :func:`modem_info` -> :class:`ModemReading`, :class:`ModemInfo`
* :func:`open_gnss` / :func:`read_gnss` -> :class:`GnssFix`
* :func:`list_serial_ports` -> :class:`PortInfo`
* :class:`SimModem`, :class:`SimGnss`, :func:`load_route`, :class:`SimClock` for simulated drives
"""

from .at import ATChannel, ATResponse
from .discovery import PortInfo, list_serial_ports
from .drivers import DRIVERS, driver_class, driver_names, modem_info, open_modem, read_modem
from .errors import (ATCommandError, ATError, ATTimeout, DeviceError, DriverError, GnssError, ParseError, PortBusy,
                     PortError, PortNotFound, PortVanished, ScenarioError)
from .gnss import GnssSource, open_gnss, read_gnss
from .models import Cell, FixMode, GnssFix, ModemInfo, ModemReading, Rat, RawExchange, RegState, Technology
from .scenario import Route, SimClock, load_route, static_route
from .simulator import SimGnss, SimModem, TranscriptModem, profile_names, start_gnss, start_modem

__all__ = sorted([
    "ATChannel", "ATResponse", "PortInfo", "list_serial_ports", "DRIVERS", "driver_class", "driver_names",
    "modem_info", "open_modem", "read_modem", "ATCommandError", "ATError", "ATTimeout", "DeviceError", "DriverError",
    "GnssError", "ParseError", "PortBusy", "PortError", "PortNotFound", "PortVanished", "ScenarioError",
    "GnssSource", "open_gnss", "read_gnss", "Cell", "FixMode", "GnssFix", "ModemInfo", "ModemReading", "Rat",
    "RawExchange", "RegState", "Technology", "Route", "SimClock", "load_route", "static_route", "SimGnss",
    "SimModem", "TranscriptModem", "profile_names", "start_gnss", "start_modem",
])
