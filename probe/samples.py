"""What the probe stores: samples, speed-test records and events, as pydantic payloads.

A *record* is one row of the session's hash chain (see :mod:`qamtu.store.chain`); its payload is
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
    reason: str = Field(..., description="tagged, invalid_coordinate, outside_kazakhstan, no_settlement_in_reach, "
                                         "no_fix")
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


def _serving(cells: list[dict]) -> Optional[dict]:
    """The anchor cell of a dumped reading: its LTE cell (NSA), else the first (as ModemReading.serving)."""
    return next((c for c in cells if c.get("rat") == "LTE"), cells[0] if cells else None)


#: Projection columns holding identifiers as integers: a value outside signed 64 bits (SQLite's and
#: PostgreSQL's INTEGER/BIGINT) stays in the payload and is projected as null.
INTEGER_IDS = ("area_code", "cell_id", "pci", "channel")
#: Operator-code columns and the digit counts they may have (MCC: 3, MNC: 2 or 3, ITU-T E.212). Anything
#: else (a rogue base station may broadcast any text) stays in the payload and is projected as null.
OPERATOR_CODES = {"operator_mcc": (3,), "operator_mnc": (2, 3)}
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def _clean(values: dict[str, Any], notes: list[str] | None) -> dict[str, Any]:
    """Null the projected values a store must not hold as they are; say why in ``notes`` (if given)."""
    for col, lengths in OPERATOR_CODES.items():
        v = values.get(col)
        if v is not None and not (isinstance(v, str) and v.isascii() and v.isdigit() and len(v) in lengths):
            values[col] = None
            if notes is not None:
                notes.append(f"{col} {str(v)[:40]!r} is not a {' or '.join(map(str, lengths))}-digit code: "
                             "kept in the payload, projected as null")
    for col in INTEGER_IDS:
        v = values.get(col)
        # a JSON reader may give a 20-digit integer as a float: anything but an int in range is left out
        if v is not None and not (type(v) is int and _INT_MIN <= v <= _INT_MAX):
            values[col] = None
            if notes is not None:
                notes.append(f"{col} {str(v)[:40]} is not an integer within 64 bits: kept in the payload, "
                             "projected as null")
    return values


def projection_notes(kind: str, p: dict[str, Any]) -> list[str]:
    """Why values of this record's payload are projected as null (operator codes not digits, integers too
    large); empty when the projection holds the payload's values as they are."""
    notes: list[str] = []
    if kind == "sample":
        _clean(_sample_values(p), notes)
    elif kind == "speedtest":
        _clean(_speedtest_values(p), notes)
    return notes


def sample_columns(p: dict[str, Any], notes: list[str] | None = None) -> dict[str, Any]:
    """The flat, queryable columns of a sample, from its JSON payload (``Sample.model_dump(mode="json")``).

    Works on the dumped form so that checks and merges derive the columns from the stored,
    hash-chained text without rebuilding models. Operator codes that are not digits and
    identifiers outside 64 bits are projected as null; ``notes`` (if given) gets why, as
    :func:`projection_notes` says it, in the same pass.
    """
    return _clean(_sample_values(p), notes)


def _sample_values(p: dict[str, Any]) -> dict[str, Any]:
    """The flat, queryable columns of a sample, from its JSON payload (``Sample.model_dump(mode="json")``).

    Works on the dumped form so that checks and merges derive the columns from the stored,
    hash-chained text without rebuilding models.
    """
    r = p.get("reading")
    cells = r["cells"] if r else []
    cell = _serving(cells)
    nr = next((c for c in cells if c.get("rat") == "NR"), None)
    fix = p.get("fix")
    located = fix if (fix and fix.get("mode") != "none" and fix.get("lat_deg") is not None
                      and not fix.get("stale")) else None
    modem, tag, ctx = p["modem"], p["settlement"], p["context"]
    mcc, mnc = ((r["operator_mcc"], r["operator_mnc"]) if r and r.get("operator_mcc")
                else (modem.get("sim_mcc"), modem.get("sim_mnc")))
    rssi = cell.get("rssi_dbm") if cell else None
    return {
        "status": p["status"],
        "port": modem["port"],
        "imei": modem.get("imei"),
        "sim_operator": modem.get("sim_operator"),
        "operator_mcc": mcc,
        "operator_mnc": mnc,
        "technology": r["technology"] if r else None,
        "registration": r["registration"] if r else None,
        "rsrp_dbm": cell.get("rsrp_dbm") if cell else None,
        "rsrq_db": cell.get("rsrq_db") if cell else None,
        "sinr_db": cell.get("sinr_db") if cell else None,
        "rssi_dbm": rssi if rssi is not None else (r.get("csq_rssi_dbm") if r else None),
        "rscp_dbm": cell.get("rscp_dbm") if cell else None,
        "ecio_db": cell.get("ecio_db") if cell else None,
        "nr_rsrp_dbm": nr.get("rsrp_dbm") if nr else None,
        "nr_sinr_db": nr.get("sinr_db") if nr else None,
        "area_code": cell.get("area_code") if cell else None,
        "cell_id": cell.get("cell_id") if cell else None,
        "pci": cell.get("pci") if cell else None,
        "band": cell.get("band") if cell else None,
        "channel": cell.get("channel") if cell else None,
        "lat": located["lat_deg"] if located else None,
        "lon": located["lon_deg"] if located else None,
        "hdop": located.get("hdop") if located else None,
        "fix_mode": fix["mode"] if fix else "none",
        "kato": tag.get("kato"),
        "kato_distance_m": tag.get("distance_m"),
        "tag_reason": tag["reason"],
        "inspector": ctx["inspector"],
        "inspection_id": ctx.get("inspection_id"),
    }


def speedtest_columns(p: dict[str, Any], notes: list[str] | None = None) -> dict[str, Any]:
    """The flat columns of a speed-test record, from its JSON payload (the ``speedtests`` table);
    operator codes that are not digits are projected as null, as for samples (why into ``notes``)."""
    return _clean(_speedtest_values(p), notes)


def _speedtest_values(p: dict[str, Any]) -> dict[str, Any]:
    res = p["result"]
    fix = p.get("fix")
    located = fix if fix and fix.get("mode") != "none" and fix.get("lat_deg") is not None else None
    failure = res.get("failure") or {}
    modem = p["modem"]
    return {
        "trigger": p["trigger"],
        "port": modem["port"],
        "imei": modem.get("imei"),
        "operator_mcc": p.get("operator_mcc") or modem.get("sim_mcc"),
        "operator_mnc": p.get("operator_mnc") or modem.get("sim_mnc"),
        "technology": p.get("technology"),
        "method": res.get("method"),
        "method_version": res.get("method_version"),
        "consumer_comparable_only": int(bool(res.get("consumer_comparable_only", False))),
        "valid": int(bool(res.get("valid", False))),
        "download_mbps": res.get("download_mbps"),
        "upload_mbps": res.get("upload_mbps"),
        "latency_ms": res.get("latency_ms"),
        "failure_cause": failure.get("cause"),
        "lat": located["lat_deg"] if located else None,
        "lon": located["lon_deg"] if located else None,
        "kato": p["settlement"].get("kato"),
        "inspector": p["context"]["inspector"],
        "inspection_id": p["context"].get("inspection_id"),
    }


def event_columns(p: dict[str, Any], notes: list[str] | None = None) -> dict[str, Any]:
    """The flat columns of an event, from its JSON payload (the ``events`` table; nothing is left out)."""
    return {"type": p["type"], "message": p.get("message", ""), "port": p.get("modem_port")}


def time_text(t: datetime) -> str:
    """UTC time as stored: ISO 8601 with microseconds and 'Z', so text order is time order.

    Naive datetimes are refused: a time without a zone cannot be evidence.
    """
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"time {t!r} has no time zone; Qamtu stores UTC times only")
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
