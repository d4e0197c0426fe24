"""Parsers for the portable 3GPP TS 27.007 answers: +CSQ, +CESQ, +COPS?, +CREG?/+CGREG?/+CEREG?/+C5GREG?.

Formats and bins: field-anchors.md 5.1 and 5.2. Every parser takes one response line and returns
plain values; it raises only :class:`~qamtu.device.errors.ParseError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ParseError
from .models import RegState, Technology
from .values import note, payload, scale, split_fields, split_plmn, table, to_hex, to_int

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
    """``+CESQ: rxlev,ber,rscp,ecno,rsrq,rsrp[,ss_rsrq,ss_rsrp,ss_sinr]`` -> bin lower edges with units.

    Keys: ``rxlev_dbm``, ``rscp_dbm``, ``ecno_db``, ``rsrq_db``, ``rsrp_dbm`` and, when the modem prints
    the Rel-15 NR fields, ``ss_rsrq_db``, ``ss_rsrp_dbm``, ``ss_sinr_db``. Fields beyond the ninth are
    kept raw and ignored (with a note).
    """
    fields = split_fields(payload(line, "+CESQ:", command="AT+CESQ"))
    if len(fields) < 6:
        raise ParseError("AT+CESQ", line, f"expected 6 or 9 fields, got {len(fields)}")
    if len(fields) not in (6, 9):
        note(f"+CESQ with {len(fields)} fields: fields beyond the known ones kept raw and ignored")
    rules = table("scaling")["cesq"]
    raw = [to_int(f, command="AT+CESQ") for f in fields[:6]]
    out = {"rxlev_dbm": scale(raw[0], rules["rxlev"]), "rscp_dbm": scale(raw[2], rules["rscp"]),
           "ecno_db": scale(raw[3], rules["ecno"]), "rsrq_db": scale(raw[4], rules["rsrq"]),
           "rsrp_dbm": scale(raw[5], rules["rsrp"])}
    if len(fields) >= 9:
        nr = [to_int(f, command="AT+CESQ") for f in fields[6:9]]
        out.update(ss_rsrq_db=scale(nr[0], rules["ss_rsrq"]), ss_rsrp_dbm=scale(nr[1], rules["ss_rsrp"]),
                   ss_sinr_db=scale(nr[2], rules["ss_sinr"]))
    return out


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
    area = _field_or_none(to_hex, fields, 1, command)
    cell = _field_or_none(to_hex, fields, 2, command)
    # <AcT> is the first unquoted small integer after the cell id. Some firmware puts a quoted RAC
    # before it (Novatel, Samsung) or appends RAC, cause and timer fields (Qualcomm Gobi): those are
    # kept raw and ignored, never a reason to lose the registration.
    act = None
    for f in fields[3:]:
        s2 = f.strip()
        if s2.isdigit() and int(s2) in ACT_TECHNOLOGY:
            act = int(s2)
            break
        if s2 and not s2.startswith('"'):
            break
    return Registration(REG_STATES[stat], area, cell, act)


def _field_or_none(conv, fields: list[str], i: int, command: str):
    """``conv(fields[i])``, None when absent; a malformed value is noted and None (the rest is kept)."""
    if len(fields) <= i:
        return None
    try:
        return conv(fields[i], command=command)
    except ParseError as exc:
        note(f"{command}: field {i + 1} ignored ({exc.args[0] if exc.args else exc})")
        return None
