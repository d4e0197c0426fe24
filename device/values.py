"""Small value helpers shared by the parsers, and access to the data tables in ``device/data``.

The field-value rules of field-anchors.md 5.9: ``-``, ``--``, ``99``/``255`` where the table says
so, ``-32768`` and empty strings are *missing* (None), never numbers; MCC/MNC keep their leading
zeros; TAC/LAC/ECI/NCI are hex strings turned into ints.
"""

from __future__ import annotations

import math
import re
import tomllib
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from importlib import resources
from typing import Any

from .errors import ParseError

_MISSING = {"", "-", "--", "-32768", "NA", "N/A", "NONE", "FFFF", "FFFFFFF"}

#: notes collected while parsing one reading (see :func:`collecting_notes`)
_NOTES: ContextVar[list[str] | None] = ContextVar("qamtu_device_parse_notes", default=None)


@contextmanager
def collecting_notes(notes: list[str]):
    """While active, value problems met by the parsers (non-finite numbers, identifiers out of range)
    are appended to ``notes`` instead of being lost; the value itself becomes None."""
    token = _NOTES.set(notes)
    try:
        yield notes
    finally:
        _NOTES.reset(token)


def note(text: str) -> None:
    """Record a parse note in the active collector (no-op outside :func:`collecting_notes`)."""
    notes = _NOTES.get()
    if notes is not None and text not in notes:
        notes.append(text)


def finite(value: float | int | None, what: str = "value") -> float | int | None:
    """``value`` unless it is NaN or infinite (then None, with a note): the probe's hash chain and the
    store take finite numbers only (issue 18 item 3)."""
    if value is None or isinstance(value, int) or math.isfinite(value):
        return value
    note(f"{what}: non-finite number {value!r} recorded as null")
    return None


def data_text(name: str) -> str:
    """Text of a file shipped in ``qamtu/device/data``."""
    return resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def table(name: str) -> dict[str, Any]:
    """A TOML data table of ``device/data`` (cached; treat as read-only)."""
    return tomllib.loads(data_text(f"{name}.toml"))


def clean(field: str | None) -> str | None:
    """Strip spaces and quotes; None for a missing marker (``-``, ``--``, empty, ``-32768``)."""
    if field is None:
        return None
    s = field.strip().strip('"').strip()
    return None if s.upper() in _MISSING else s


def _odd(command: str, field: str | None, why: str) -> None:
    """A field that is not understood: inside a driver's reading (:func:`collecting_notes` active) it
    becomes None with a note, so one odd field never drops the whole answer; outside, ParseError."""
    if _NOTES.get() is None:
        raise ParseError(command, field or "", why)
    note(f"{command or 'value'}: {why}; field recorded as null")


def to_int(field: str | None, *, command: str = "", unknown: tuple[int, ...] = ()) -> int | None:
    """Decimal integer, None when missing or in ``unknown``; a malformed field is ParseError (or None with
    a note while a reading collects notes)."""
    s = clean(field)
    if s is None:
        return None
    try:
        v = int(s, 10)
    except ValueError:
        _odd(command, field, f"not an integer: {s[:40]!r}")
        return None
    return None if v in unknown else v


def to_float(field: str | None, *, command: str = "", unknown: tuple[float, ...] = ()) -> float | None:
    """Decimal number, None when missing or in ``unknown``; ParseError for anything else."""
    s = clean(field)
    if s is None:
        return None
    if s.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        note(f"{command or 'value'}: non-finite number {s!r} recorded as null")
        return None
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", s):
        _odd(command, field, f"not a number: {s[:40]!r}")
        return None
    v = finite(float(s), command or "value")
    if v is None:
        return None
    return None if v in unknown else v


def to_magnitude_dbm(value: float | None, what: str) -> float | None:
    """A power level in dBm that some firmware prints as a positive magnitude (``77`` for -77 dBm):
    a received level above 0 dBm is physically impossible at a modem, so the sign is restored with a note."""
    if value is not None and value > 0:
        note(f"{what} printed as a positive magnitude {value:g}; taken as {-value:g} dBm")
        return -value
    return value


def to_hex(field: str | None, *, command: str = "") -> int | None:
    """Hexadecimal identifier (``"3584"``, ``0x21F9``, ``00ef4a08``) as int; None when missing."""
    s = clean(field)
    if s is None:
        return None
    if s.lower().startswith("0x"):
        s = s[2:]
    if not re.fullmatch(r"[0-9A-Fa-f]{1,16}", s):
        _odd(command, field, f"not a hexadecimal identifier: {s[:40]!r}")
        return None
    v = int(s, 16)
    # All-ones values are "unknown" in 27.007 location fields.
    return None if s.upper() in ("FFFE", "FFFF", "FFFFFF", "FFFFFFF", "FFFFFFFF") else v


def mcc_mnc(mcc: str | None, mnc: str | None) -> tuple[str | None, str | None]:
    """Normalise MCC (3 digits) and MNC (2 or 3 digits, leading zeros kept)."""
    mcc, mnc = clean(mcc), clean(mnc)
    if mcc is not None and not re.fullmatch(r"\d{3}", mcc):
        mcc = None
    if mnc is not None:
        if not re.fullmatch(r"\d{1,3}", mnc):
            mnc = None
        elif len(mnc) == 1:
            mnc = "0" + mnc  # Quectel prints MNC 01 as "1" on some firmware
    return mcc, mnc


def split_plmn(plmn: str | None) -> tuple[str | None, str | None]:
    """``"40102"``, ``"401 02"``, ``"401-02"`` -> ``("401", "02")``; (None, None) if not a PLMN."""
    s = clean(plmn)
    if s is None:
        return None, None
    digits = re.sub(r"[\s\-]", "", s)
    if not re.fullmatch(r"\d{5,6}", digits):
        return None, None
    return digits[:3], digits[3:]


def operator_name(mcc: str | None, mnc: str | None) -> str | None:
    """Commercial name of a known operator (``data/operators.toml``), else None."""
    if mcc is None or mnc is None:
        return None
    entry = table("operators")["operators"].get(f"{mcc}-{mnc}")
    return entry["name"] if entry else None


def scale(raw: float | int | None, rule: dict[str, Any]) -> float | None:
    """Apply a scaling rule (``factor``, ``offset``, optional ``unknown``/``min``/``max``) to a raw value.

    Out-of-range raw values are treated as unknown (None), never clamped into a plausible number.
    """
    if raw is None or raw in rule.get("unknown", ()):
        return None
    if "min" in rule and raw < rule["min"]:
        return None
    if "max" in rule and raw > rule["max"]:
        return None
    return round(raw * rule.get("factor", 1.0) + rule.get("offset", 0.0), 3)


def lte_bandwidth_mhz(code: int | None) -> float | None:
    """LTE bandwidth from the 0..5 code (1.4..20 MHz); None when missing or unknown."""
    if code is None:
        return None
    return table("scaling")["lte_bandwidth_mhz"].get(str(code))


def nr_bandwidth_mhz(code: int | None) -> float | None:
    """NR bandwidth from the Quectel code (5..400 MHz); None when missing or unknown."""
    if code is None:
        return None
    v = table("scaling")["nr_bandwidth_mhz"].get(str(code))
    return None if v is None else float(v)


def split_eci(eci: int | None) -> tuple[int | None, int | None]:
    """LTE ECI (28 bit) -> (eNB-ID = ECI >> 8, local cell id = ECI & 0xFF)."""
    if eci is None:
        return None, None
    return eci >> 8, eci & 0xFF


def split_nci(nci: int | None, gnb_id_bits: int = 24) -> tuple[int | None, int | None]:
    """NR NCI (36 bit) -> (gNB-ID, local cell id). The gNB-ID length (22..32 bits) is operator
    configuration; 24 bits is a common choice and is what the probe records unless told otherwise."""
    if nci is None:
        return None, None
    shift = 36 - gnb_id_bits
    return nci >> shift, nci & ((1 << shift) - 1)


def cme_meaning(kind: str, code: int | None) -> str | None:
    """Text for a +CME/+CMS error code from ``data/errors.toml``."""
    if code is None:
        return None
    return table("errors").get(kind.lower(), {}).get(str(code))


def split_fields(payload: str) -> list[str]:
    """Split a comma-separated AT payload, keeping commas inside double quotes."""
    out: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in payload:
        if ch == '"':
            quoted = not quoted
            cur.append(ch)
        elif ch == "," and not quoted:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return out


def payload(line: str, prefix: str, *, command: str = "") -> str:
    """The part of ``line`` after ``prefix`` (e.g. ``+CSQ:``); ParseError if the prefix is absent."""
    s = line.strip()
    if not s.upper().startswith(prefix.upper()):
        raise ParseError(command or prefix, line, f"expected a line starting with {prefix}")
    return s[len(prefix):].strip()


def model_family(families: list[dict[str, Any]], model: str | None) -> dict[str, Any] | None:
    """The first family entry (``family``, ``models`` prefixes…) whose prefix starts ``model``.

    The comparison ignores case, a vendor prefix such as ``SIMCOM_`` or ``Quectel``, spaces and dashes
    (``SIMCOM_SIM7670G-MNGV`` and ``sim7670g`` both match the prefix ``SIM7670``). None when no family fits.
    """
    if not model:
        return None
    m = re.sub(r"^(SIMCOM[_ ]?|QUECTEL[_ ]?|TELIT[_ ]?|SIERRA WIRELESS[_ ]?)", "", model.strip().upper())
    m = re.sub(r"[\s\-_]", "", m)
    for entry in families:
        if any(m.startswith(re.sub(r"[\s\-_]", "", p.upper())) for p in entry["models"]):
            return entry
    return None
