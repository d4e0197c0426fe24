"""Pydantic readings produced by the device layer.

All times are UTC. Units are in the field names: ``*_dbm`` (dBm), ``*_db`` (dB), ``*_mhz`` (MHz),
``*_deg`` (WGS84 decimal degrees), ``*_m`` (metres), ``*_mps`` (metres per second). A value
the device did not report (``-``, ``99``, ``255``, empty) is ``None``, never 0. ``model_dump(mode="json")``
is stable: field order is the declaration order and enums dump as their string values, so the
probe can hash-chain the dumps.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


class Technology(StrEnum):
    """Radio access technology of the serving network as the modem reports it."""

    NONE = "none"
    GSM = "GSM"
    UMTS = "UMTS"
    LTE = "LTE"
    NR_NSA = "NR-NSA"
    NR_SA = "NR-SA"


class Rat(StrEnum):
    """Technology of one measured cell (a NSA reading has one LTE and one NR cell)."""

    GSM = "GSM"
    UMTS = "UMTS"
    LTE = "LTE"
    NR = "NR"


class RegState(StrEnum):
    """Network registration state (3GPP TS 27.007 ``<stat>`` of +CREG/+CGREG/+CEREG/+C5GREG)."""

    NOT_REGISTERED = "not-registered"
    HOME = "home"
    SEARCHING = "searching"
    DENIED = "denied"
    UNKNOWN = "unknown"
    ROAMING = "roaming"

    @property
    def registered(self) -> bool:
        """True for home or roaming registration."""
        return self in (RegState.HOME, RegState.ROAMING)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RawExchange(_Model):
    """One AT command and every line the modem sent back for it, verbatim (without echo)."""

    command: str
    lines: list[str] = Field(default_factory=list, description="response lines before the final result code")
    final: str = Field("", description="final result code: OK, ERROR, +CME ERROR: n …")
    events: list[str] = Field(default_factory=list, description="unsolicited result codes seen meanwhile")


class Cell(_Model):
    """One serving cell as measured by the modem.

    ``cell_id`` is the full CI / ECI (28 bit) / NCI (36 bit); ``node_id`` the eNB-ID (ECI >> 8) or
    gNB-ID, ``local_cell_id`` the rest. ``area_code`` is the LAC (GSM/UMTS) or TAC (LTE/NR).
    ``channel`` is the ARFCN / UARFCN / EARFCN / NR-ARFCN. Signal values: ``rssi_dbm``, ``rsrp_dbm``
    and ``rscp_dbm`` in dBm; ``rsrq_db``, ``sinr_db`` and ``ecio_db`` in dB.
    """

    rat: Rat
    mcc: str | None = None
    mnc: str | None = None
    area_code: int | None = None
    cell_id: int | None = None
    node_id: int | None = None
    local_cell_id: int | None = None
    pci: int | None = None
    band: str | None = Field(None, description="e.g. 'B3', 'n78', 'GSM900'")
    channel: int | None = None
    bandwidth_mhz: float | None = None
    rssi_dbm: float | None = None
    rsrp_dbm: float | None = None
    rsrq_db: float | None = None
    sinr_db: float | None = None
    rscp_dbm: float | None = None
    ecio_db: float | None = None


class ModemReading(_Model):
    """One radio reading of one modem: registration, operator, serving cell(s) and the raw answers.

    "No service" is a valid reading: ``technology == NONE``, ``cells == []``.
    ``notes`` records assumptions made while scaling (e.g. which SINR table entry was used).
    """

    time_utc: datetime
    port: str
    driver: str
    technology: Technology = Technology.NONE
    registration: RegState = RegState.UNKNOWN
    operator_mcc: str | None = None
    operator_mnc: str | None = None
    operator_name: str | None = None
    cells: list[Cell] = Field(default_factory=list)
    csq_rssi_dbm: float | None = Field(None, description="RSSI from AT+CSQ, dBm (lower bin edge)")
    notes: list[str] = Field(default_factory=list)
    raw: list[RawExchange] = Field(default_factory=list)

    @property
    def serving(self) -> Cell | None:
        """The anchor cell: the LTE cell of a NSA reading, otherwise the first cell."""
        for c in self.cells:
            if c.rat == Rat.LTE:
                return c
        return self.cells[0] if self.cells else None

    @property
    def has_service(self) -> bool:
        """True when the modem is registered (home or roaming)."""
        return self.registration.registered


class ModemInfo(_Model):
    """Identity of a modem and its SIM, from ATI / +CGMI / +CGMM / +CGMR / +CGSN / +CIMI / ICCID."""

    port: str
    driver: str
    manufacturer: str | None = None
    model: str | None = None
    firmware: str | None = None
    imei: str | None = None
    imsi: str | None = None
    iccid: str | None = None
    sim_mcc: str | None = None
    sim_mnc: str | None = None
    sim_operator: str | None = None
    raw: list[RawExchange] = Field(default_factory=list)


class FixMode(StrEnum):
    """GNSS fix dimension."""

    NONE = "none"
    FIX_2D = "2D"
    FIX_3D = "3D"


class GnssFix(_Model):
    """One GNSS position.

    ``time_utc`` is the receiver's time of fix (``None`` if it sent none); ``age_s`` the seconds
    since the source received it, when this object was made; ``stale`` is true when ``age_s``
    exceeds the source's ``max_age_s``. ``mode == NONE`` is a valid "no fix" answer with
    ``lat_deg``/``lon_deg`` None. ``source`` is ``nmea:<port>``, ``gpsd://…``, ``modem:<port>`` or ``fixed``.
    """

    time_utc: datetime | None = None
    lat_deg: float | None = None
    lon_deg: float | None = None
    alt_m: float | None = None
    mode: FixMode = FixMode.NONE
    satellites: int | None = None
    hdop: float | None = None
    speed_mps: float | None = None
    course_deg: float | None = None
    source: str = ""
    age_s: float = 0.0
    stale: bool = False
    notes: list[str] = Field(default_factory=list, description="values refused or nulled at parse time, and why")
    raw: list[str] = Field(default_factory=list)

    @property
    def has_fix(self) -> bool:
        """True when there is a 2D or 3D position."""
        return self.mode != FixMode.NONE and self.lat_deg is not None and self.lon_deg is not None
