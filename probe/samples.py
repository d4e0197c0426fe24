"""What the probe stores: samples, speed-test records and events, as pydantic payloads.

A *record* is one row of the session's hash chain (see :mod:`qamtu.probe.chain`); its payload is
one of the models below, dumped with ``model_dump(mode="json")``. "No service", "modem lost" and
"no fix" are recorded, never dropped: a sample always exists, with its status and reasons.
Units are in the field names: ``_dbm`` dBm, ``_db`` dB, ``_m`` metres, ``_s`` seconds,
``_mbps`` Mbit/s, ``_ms`` milliseconds; coordinates in WGS84 degrees.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from ..device.models import GnssFix, ModemInfo, ModemReading


class SampleStatus(StrEnum):
    """State of the radio in one sample."""

    OK = "ok"                  # registered, with service
    NO_SERVICE = "no_service"  # the modem answered: not registered / no network
    MODEM_LOST = "modem_lost"  # the modem did not answer (unplugged, port gone, time-out)


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModemIdentity(_Payload):
    """Which modem and SIM a record comes from (IMEI, model, firmware, SIM operator)."""

    port: str
    driver: Optional[str] = None
    manufacturer: Optional[str] = None
    model: Optional[str] = None
    firmware: Optional[str] = None
    imei: Optional[str] = None
    sim_mcc: Optional[str] = None
    sim_mnc: Optional[str] = None
    sim_operator: Optional[str] = None

    @classmethod
    def from_info(cls, info: ModemInfo) -> "ModemIdentity":
        return cls(port=info.port, driver=info.driver, manufacturer=info.manufacturer, model=info.model,
                   firmware=info.firmware, imei=info.imei, sim_mcc=info.sim_mcc, sim_mnc=info.sim_mnc,
                   sim_operator=info.sim_operator)


class SettlementTag(_Payload):
    """The settlement a position lies in (see :mod:`qamtu.mapping.tagging`), or why none."""

    kato: Optional[str] = None
    distance_m: Optional[float] = None
    reach_m: Optional[float] = None
    reason: str = Field(..., description="tagged, invalid_coordinate, outside_kazakhstan, no_settlement_in_reach, no_fix")
    rule_version: Optional[str] = None


class Context(_Payload):
    """Who measured, and for what."""

    inspector: str
    inspection_id: Optional[str] = None


class Sample(_Payload):
    """One radio reading of one modem with position and settlement: the unit of evidence."""

    status: SampleStatus
    modem: ModemIdentity
    reading: Optional[ModemReading] = Field(None, description="None only when the modem was lost")
    modem_error: Optional[str] = Field(None, description="why the modem did not answer")
    fix: Optional[GnssFix] = None
    no_fix_reason: Optional[str] = Field(None, description="set when there is no usable position")
    clock_offset_s: Optional[float] = Field(None, description="GNSS time minus system time, seconds")
    settlement: SettlementTag
    context: Context


class SpeedTestRecord(_Payload):
    """A speed test run through one modem, with the radio and position at its start."""

    trigger: Literal["interval", "distance", "settlement", "manual"]
    modem: ModemIdentity
    technology: Optional[str] = None
    operator_mcc: Optional[str] = None
    operator_mnc: Optional[str] = None
    fix: Optional[GnssFix] = None
    settlement: SettlementTag
    context: Context
    result: dict[str, Any] = Field(..., description="SpeedTestResult.model_dump(mode='json')")


class Event(_Payload):
    """Something that happened in a session: start, end, modem lost or back, a trigger, a warning."""

    type: str
    message: str = ""
    modem_port: Optional[str] = None
    details: dict[str, Any] = Field(default_factory=dict)


RecordKind = Literal["sample", "speedtest", "event"]
PAYLOAD_MODELS: dict[str, type[_Payload]] = {"sample": Sample, "speedtest": SpeedTestRecord, "event": Event}


def operator_of(sample: Sample) -> tuple[Optional[str], Optional[str]]:
    """MCC and MNC of the network in a sample: the registered network, else the SIM's."""
    r = sample.reading
    if r is not None and r.operator_mcc:
        return r.operator_mcc, r.operator_mnc
    return sample.modem.sim_mcc, sample.modem.sim_mnc


def sample_columns(sample: Sample) -> dict[str, Any]:
    """The flat, queryable columns derived from a sample's payload (the ``samples`` table)."""
    r = sample.reading
    cell = r.serving if r is not None else None
    nr = next((c for c in r.cells if c.rat.value == "NR"), None) if r is not None else None
    fix = sample.fix if sample.fix is not None and sample.fix.has_fix else None
    mcc, mnc = operator_of(sample)
    return {
        "status": sample.status.value,
        "port": sample.modem.port,
        "imei": sample.modem.imei,
        "sim_operator": sample.modem.sim_operator,
        "operator_mcc": mcc,
        "operator_mnc": mnc,
        "technology": r.technology.value if r is not None else None,
        "registration": r.registration.value if r is not None else None,
        "rsrp_dbm": cell.rsrp_dbm if cell else None,
        "rsrq_db": cell.rsrq_db if cell else None,
        "sinr_db": cell.sinr_db if cell else None,
        "rssi_dbm": (cell.rssi_dbm if cell and cell.rssi_dbm is not None else (r.csq_rssi_dbm if r else None)),
        "rscp_dbm": cell.rscp_dbm if cell else None,
        "ecio_db": cell.ecio_db if cell else None,
        "nr_rsrp_dbm": nr.rsrp_dbm if nr else None,
        "nr_sinr_db": nr.sinr_db if nr else None,
        "area_code": cell.area_code if cell else None,
        "cell_id": cell.cell_id if cell else None,
        "pci": cell.pci if cell else None,
        "band": cell.band if cell else None,
        "channel": cell.channel if cell else None,
        "lat": fix.lat_deg if fix else None,
        "lon": fix.lon_deg if fix else None,
        "hdop": fix.hdop if fix else None,
        "fix_mode": sample.fix.mode.value if sample.fix is not None else "none",
        "kato": sample.settlement.kato,
        "kato_distance_m": sample.settlement.distance_m,
        "tag_reason": sample.settlement.reason,
        "inspector": sample.context.inspector,
        "inspection_id": sample.context.inspection_id,
    }


def speedtest_columns(rec: SpeedTestRecord) -> dict[str, Any]:
    """The flat columns of a speed-test record (the ``speedtests`` table)."""
    res = rec.result
    fix = rec.fix if rec.fix is not None and rec.fix.has_fix else None
    failure = res.get("failure") or {}
    return {
        "trigger": rec.trigger,
        "port": rec.modem.port,
        "imei": rec.modem.imei,
        "operator_mcc": rec.operator_mcc or rec.modem.sim_mcc,
        "operator_mnc": rec.operator_mnc or rec.modem.sim_mnc,
        "technology": rec.technology,
        "method": res.get("method"),
        "method_version": res.get("method_version"),
        "consumer_comparable_only": bool(res.get("consumer_comparable_only", False)),
        "valid": bool(res.get("valid", False)),
        "download_mbps": res.get("download_mbps"),
        "upload_mbps": res.get("upload_mbps"),
        "latency_ms": res.get("latency_ms"),
        "failure_cause": failure.get("cause"),
        "lat": fix.lat_deg if fix else None,
        "lon": fix.lon_deg if fix else None,
        "kato": rec.settlement.kato,
        "inspector": rec.context.inspector,
        "inspection_id": rec.context.inspection_id,
    }


def event_columns(ev: Event) -> dict[str, Any]:
    """The flat columns of an event (the ``events`` table)."""
    return {"type": ev.type, "message": ev.message, "port": ev.modem_port}


def time_text(t: datetime) -> str:
    """UTC time as stored: ISO 8601 with microseconds and 'Z', so text order is time order.

    Naive datetimes are refused: a time without a zone cannot be evidence.
    """
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"time {t!r} has no time zone; Qamtu stores UTC times only")
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
