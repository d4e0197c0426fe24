"""Parsers for the portable 3GPP TS 27.007 answers: +CSQ, +CESQ, +COPS?, +CREG?/+CGREG?/+CEREG?/+C5GREG?.

Formats and bins: field-anchors.md 5.1 and 5.2. Every parser takes one response line and returns
plain values; it raises only :class:`~qamtu.device.errors.ParseError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ParseError
from .models import RegState, Technology
from .values import payload, scale, split_fields, split_plmn, table, to_hex, to_int

#: 27.007 <stat> of +CREG and friends (field-anchors.md 5.2).
REG_STATES = {0: RegState.NOT_REGISTERED, 1: RegState.HOME, 2: RegState.SEARCHING, 3: RegState.DENIED,
              4: RegState.UNKNOWN, 5: RegState.ROAMING, 6: RegState.HOME, 7: RegState.ROAMING,
              8: RegState.UNKNOWN, 9: RegState.HOME, 10: RegState.ROAMING, 11: RegState.UNKNOWN}

#: 27.007 <AcT> of +COPS / +CxREG (field-anchors.md 5.2).
ACT_TECHNOLOGY = {0: Technology.GSM, 1: Technology.GSM, 2: Technology.UMTS, 3: Technology.GSM,
                  4: Technology.UMTS, 5: Technology.UMTS, 6: Technology.UMTS, 7: Technology.LTE,
                  8: Technology.GSM, 9: Technology.LTE, 10: Technology.LTE, 11: Technology.NR_SA,
                  12: Technology.NR_SA, 13: Technology.NR_NSA}


@dataclass(frozen=True)
class Registration:
    """A parsed +CREG/+CGREG/+CEREG/+C5GREG answer; ``area_code`` is LAC or TAC, ``cell_id`` CI/ECI/NCI."""

    state: RegState
    area_code: int | None = None
    cell_id: int | None = None
    act: int | None = None

    @property
    def technology(self) -> Technology | None:
        """Technology named by the AcT field, if any."""
        return None if self.act is None else ACT_TECHNOLOGY.get(self.act)


@dataclass(frozen=True)
class Operator:
    """A parsed +COPS? answer."""

    mode: int | None
    mcc: str | None = None
    mnc: str | None = None
    name: str | None = None
    act: int | None = None


def parse_csq(line: str) -> float | None:
    """``+CSQ: <rssi>,<ber>`` -> RSSI in dBm (lower bin edge), None when 99/unknown."""
    fields = split_fields(payload(line, "+CSQ:", command="AT+CSQ"))
    if len(fields) != 2:
        raise ParseError("AT+CSQ", line, "expected 2 fields")
    raw = to_int(fields[0], command="AT+CSQ")
    to_int(fields[1], command="AT+CSQ")
    return scale(raw, table("scaling")["csq"]["rssi"])


def parse_cesq(line: str) -> dict[str, float | None]:
    """``+CESQ: rxlev,ber,rscp,ecno,rsrq,rsrp[,ss_rsrq,ss_rsrp,ss_sinr]`` -> bin edges with units.

    Keys: ``rxlev_dbm``, ``rscp_dbm``, ``ecno_db``, ``rsrq_db``, ``rsrp_dbm``. The NR fields of newer
    releases are accepted and ignored (their bins are not in the cited table).
    """
    fields = split_fields(payload(line, "+CESQ:", command="AT+CESQ"))
    if len(fields) not in (6, 9):
        raise ParseError("AT+CESQ", line, "expected 6 or 9 fields")
    rules = table("scaling")["cesq"]
    raw = [to_int(f, command="AT+CESQ") for f in fields[:6]]
    return {"rxlev_dbm": scale(raw[0], rules["rxlev"]), "rscp_dbm": scale(raw[2], rules["rscp"]),
            "ecno_db": scale(raw[3], rules["ecno"]), "rsrq_db": scale(raw[4], rules["rsrq"]),
            "rsrp_dbm": scale(raw[5], rules["rsrp"])}


def parse_cops(line: str) -> Operator:
    """``+COPS: <mode>[,<format>,"<oper>"[,<AcT>]]``; the numeric format gives MCC and MNC."""
    fields = split_fields(payload(line, "+COPS:", command="AT+COPS?"))
    if not 1 <= len(fields) <= 5:
        raise ParseError("AT+COPS?", line, "expected 1 to 4 fields")
    mode = to_int(fields[0], command="AT+COPS?")
    if len(fields) < 3:
        return Operator(mode)
    fmt = to_int(fields[1], command="AT+COPS?")
    oper = fields[2].strip().strip('"')
    act = to_int(fields[3], command="AT+COPS?") if len(fields) > 3 else None
    if fmt == 2:
        mcc, mnc = split_plmn(oper)
        if mcc is None:
            raise ParseError("AT+COPS?", line, "numeric operator is not an MCC-MNC")
        return Operator(mode, mcc, mnc, None, act)
    return Operator(mode, None, None, oper or None, act)


def parse_creg(line: str, *, query: bool = True) -> Registration:
    """Parse ``+CREG:``, ``+CGREG:``, ``+CEREG:`` or ``+C5GREG:`` (query answer, or URC when ``query=False``).

    Query form: ``<n>,<stat>[,<lac/tac>,<ci>[,<AcT>…]]``; URC form omits ``<n>``.
    """
    s = line.strip()
    prefix = s.split(":", 1)[0].upper() + ":" if ":" in s else ""
    if prefix not in ("+CREG:", "+CGREG:", "+CEREG:", "+C5GREG:"):
        raise ParseError("AT+CREG?", line, "not a registration line")
    command = f"AT{prefix[:-1]}?"
    fields = split_fields(payload(s, prefix, command=command))
    if query:
        if len(fields) < 2:
            raise ParseError(command, line, "expected at least 2 fields")
        fields = fields[1:]
    stat = to_int(fields[0], command=command)
    if stat is None or stat not in REG_STATES:
        raise ParseError(command, line, f"unknown registration state {fields[0]!r}")
    area = to_hex(fields[1], command=command) if len(fields) > 1 else None
    cell = to_hex(fields[2], command=command) if len(fields) > 2 else None
    act = to_int(fields[3], command=command) if len(fields) > 3 else None
    return Registration(REG_STATES[stat], area, cell, act)
