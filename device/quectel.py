"""The ``quectel`` driver (EC25, EG25, EM06/EM12, RM500Q, RM520N) and its parsers.

``AT+QENG="servingcell"`` in all documented forms (field-anchors.md 5.3): GSM, WCDMA, LTE one-line
(EC25) and two-line (RM5xx), EN-DC (LTE + ``NR5G-NSA``) and ``NR5G-SA``; ``AT+QNWINFO``; ``AT+QCSQ``
(whose field count varies by mode). The SINR scaling is looked up per model and firmware in
``data/scaling.toml`` and the entry used is written into the reading's notes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import ParseError
from .generic import GenericModem
from .models import Cell, Rat, RawExchange, Technology
from .parse_3gpp import Operator, Registration
from .values import (clean, lte_bandwidth_mhz, mcc_mnc, model_family, nr_bandwidth_mhz, payload, scale, split_eci,
                     split_fields, split_nci, split_plmn, table, to_float, to_hex, to_int, to_magnitude_dbm)

CMD_QENG = 'AT+QENG="servingcell"'
_RATS = ("LTE", "NR5G-SA", "NR5G-NSA", "WCDMA", "GSM", "CAT-M", "EMTC", "CAT-NB", "NBIOT")
_STATES = ("SEARCH", "LIMSRV", "NOCONN", "CONNECT")


@dataclass
class QengResult:
    """Parsed ``+QENG: "servingcell"`` answer: the modem state word and the serving cells."""

    state: str | None = None
    cells: list[Cell] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def quectel_family(model: str | None) -> str | None:
    """The model family (``RM500Q`` for RM500Q, RG500Q, RM502Q…) from ``scaling.toml`` ``quectel.families``."""
    entry = model_family(table("scaling")["quectel"]["families"], model)
    return entry["family"] if entry else None


def sinr_rule(model: str | None, firmware: str | None, rat: str) -> dict:
    """The ``quectel.qeng.sinr`` table entry for this model's family, firmware and RAT (``LTE`` or ``NR``)."""
    family = quectel_family(model)
    for rule in table("scaling")["quectel"]["qeng"]["sinr"]:
        if rule["family"] in ("*", family) and re.search(rule["firmware"], firmware or "", re.I) \
                and re.fullmatch(rule["rat"], rat):
            return rule
    raise ParseError(CMD_QENG, "", f"no SINR scaling entry for {model} {firmware} {rat}")  # pragma: no cover


def _sinr(raw: str, model: str | None, firmware: str | None, rat: str, notes: list[str]) -> float | None:
    v = to_float(raw, command=CMD_QENG)
    if v is None:
        return None
    rule = sinr_rule(model, firmware, rat)
    note = (f"{rat} SINR raw {raw.strip()} scaled x{rule['factor']:g}{rule['offset']:+g} dB "
            f"(family {rule['family']}): {rule['source']}")
    notes.append(note)
    return scale(v, rule)


def _need(fields: list[str], n: int, line: str) -> None:
    if len(fields) < n:
        raise ParseError(CMD_QENG, line, f"expected at least {n} fields, got {len(fields)}")


def _lte(f: list[str], line: str, model, firmware, notes) -> Cell:
    # is_tdd, MCC, MNC, cellID, PCID, EARFCN, band, UL_bw, DL_bw, TAC, RSRP, RSRQ, RSSI, SINR, CQI, tx_power, srxlev
    _need(f, 15, line)
    c = CMD_QENG
    mcc, mnc = mcc_mnc(f[1], f[2])
    eci = to_hex(f[3], command=c)
    node, local = split_eci(eci)
    band = to_int(f[6], command=c)
    return Cell(rat=Rat.LTE, mcc=mcc, mnc=mnc, area_code=to_hex(f[9], command=c), cell_id=eci, node_id=node,
                local_cell_id=local, pci=to_int(f[4], command=c), band=None if band is None else f"B{band}",
                channel=to_int(f[5], command=c), bandwidth_mhz=lte_bandwidth_mhz(to_int(f[8], command=c)),
                rsrp_dbm=to_float(f[10], command=c), rsrq_db=to_float(f[11], command=c),
                rssi_dbm=to_float(f[12], command=c), sinr_db=_sinr(f[13], model, firmware, "LTE", notes))


def _nsa(f: list[str], line: str, model, firmware, notes) -> Cell:
    # MCC, MNC, PCID, RSRP, SINR, RSRQ[, ARFCN, band, NR_DL_bw, scs]: RM500Q firmware prints only the first
    # six (Quectel RM500Q AT manual, +QENG "NR5G-NSA"); RM520N adds ARFCN, band, bandwidth and SCS.
    _need(f, 6, line)
    c = CMD_QENG
    mcc, mnc = mcc_mnc(f[0], f[1])
    band = to_int(f[7], command=c) if len(f) > 7 else None
    if len(f) < 8:
        notes.append("NR5G-NSA line without ARFCN/band (6-field firmware layout): NR channel and band unknown")
    return Cell(rat=Rat.NR, mcc=mcc, mnc=mnc, pci=to_int(f[2], command=c), rsrp_dbm=to_float(f[3], command=c),
                sinr_db=_sinr(f[4], model, firmware, "NR", notes), rsrq_db=to_float(f[5], command=c),
                channel=to_int(f[6], command=c) if len(f) > 6 else None, band=None if band is None else f"n{band}",
                bandwidth_mhz=nr_bandwidth_mhz(to_int(f[8], command=c)) if len(f) > 8 else None)


def _sa(f: list[str], line: str, model, firmware, notes) -> Cell:
    # duplex, MCC, MNC, cellID, PCID, TAC, ARFCN, band, NR_DL_bw, RSRP, RSRQ, SINR, scs, srxlev
    _need(f, 12, line)
    c = CMD_QENG
    mcc, mnc = mcc_mnc(f[1], f[2])
    nci = to_hex(f[3], command=c)
    node, local = split_nci(nci)
    band = to_int(f[7], command=c)
    return Cell(rat=Rat.NR, mcc=mcc, mnc=mnc, cell_id=nci, node_id=node, local_cell_id=local,
                pci=to_int(f[4], command=c), area_code=to_hex(f[5], command=c), channel=to_int(f[6], command=c),
                band=None if band is None else f"n{band}", bandwidth_mhz=nr_bandwidth_mhz(to_int(f[8], command=c)),
                rsrp_dbm=to_float(f[9], command=c), rsrq_db=to_float(f[10], command=c),
                sinr_db=_sinr(f[11], model, firmware, "NR", notes))


def _wcdma(f: list[str], line: str) -> Cell:
    # MCC, MNC, LAC, cellID, UARFCN, PSC, RAC, RSCP, ecio, ...
    _need(f, 9, line)
    c = CMD_QENG
    mcc, mnc = mcc_mnc(f[0], f[1])
    return Cell(rat=Rat.UMTS, mcc=mcc, mnc=mnc, area_code=to_hex(f[2], command=c), cell_id=to_hex(f[3], command=c),
                channel=to_int(f[4], command=c), pci=to_int(f[5], command=c), rscp_dbm=to_float(f[7], command=c),
                ecio_db=to_float(f[8], command=c))


def _gsm(f: list[str], line: str, notes) -> Cell:
    # MCC, MNC, LAC, cellID, BSIC, ARFCN, band, rxlev, ...
    _need(f, 8, line)
    c = CMD_QENG
    mcc, mnc = mcc_mnc(f[0], f[1])
    rx = to_float(f[7], command=c)
    if rx is not None and rx >= 0:
        notes.append("GSM rxlev is a 27.007 index: -111 + n dBm (field-anchors.md 5.1)")
        rx = scale(rx, table("scaling")["cesq"]["rxlev"])
    # <band> is a Quectel code whose meaning is not in the cited sources: kept in the raw answer only.
    return Cell(rat=Rat.GSM, mcc=mcc, mnc=mnc, area_code=to_hex(f[2], command=c), cell_id=to_hex(f[3], command=c),
                pci=to_int(f[4], command=c), channel=to_int(f[5], command=c), rssi_dbm=rx)


def parse_qeng(lines: list[str], model: str | None = None, firmware: str | None = None) -> QengResult:
    """Parse every ``+QENG:`` line of an ``AT+QENG="servingcell"`` answer.

    :raises ParseError: a line with an unknown layout or a malformed value.
    """
    res = QengResult()
    for line in lines:
        if not line.strip().upper().startswith("+QENG:"):
            continue
        f = split_fields(payload(line, "+QENG:", command=CMD_QENG))
        words = [x.strip('"').upper() for x in f]
        if words and words[0] == "SERVINGCELL":
            _need(f, 2, line)
            res.state = words[1]
            if res.state not in _STATES:
                raise ParseError(CMD_QENG, line, f"unknown state {f[1]!r}")
            f, words = f[2:], words[2:]
            if not f:
                continue
        rat = words[0] if words else ""
        rest = f[1:]
        try:
            _one_line(res, rat, rest, line, model, firmware)
        except ParseError as exc:
            if not rat.startswith(_RATS):
                raise  # an unknown layout: the whole answer is not understood
            res.notes.append(f"parse error: {exc}")  # the other lines of the answer are kept
    if res.state is None and not res.cells:
        raise ParseError(CMD_QENG, " | ".join(lines), "no +QENG servingcell line")
    return res


def _one_line(res: QengResult, rat: str, rest: list[str], line: str, model, firmware) -> None:
    """Parse one technology line of a +QENG answer into ``res``."""
    if rat == "LTE" or rat.startswith(("CAT-M", "EMTC")):
        res.cells.append(_lte(rest, line, model, firmware, res.notes))
    elif rat == "NR5G-NSA":
        res.cells.append(_nsa(rest, line, model, firmware, res.notes))
    elif rat == "NR5G-SA":
        res.cells.append(_sa(rest, line, model, firmware, res.notes))
    elif rat == "WCDMA":
        res.cells.append(_wcdma(rest, line))
    elif rat == "GSM":
        res.cells.append(_gsm(rest, line, res.notes))
    elif rat.startswith(("CAT-NB", "NBIOT")):
        res.notes.append(f"NB-IoT serving cell not parsed: {line}")
    else:
        raise ParseError(CMD_QENG, line, f"unknown technology {rat!r}")


@dataclass(frozen=True)
class NetworkInfo:
    """Parsed ``+QNWINFO: <act>,<oper>,<band>,<channel>``; all None for ``No Service``."""

    act: str | None = None
    mcc: str | None = None
    mnc: str | None = None
    band: str | None = None
    channel: int | None = None


def parse_qnwinfo(line: str) -> NetworkInfo:
    """``+QNWINFO: "FDD LTE","40102","LTE BAND 3",1300`` or ``+QNWINFO: No Service``."""
    p = payload(line, "+QNWINFO:", command="AT+QNWINFO")
    if p.strip('"').strip().lower() in ("no service", "noservice"):
        return NetworkInfo()
    f = split_fields(p)
    if len(f) != 4:
        raise ParseError("AT+QNWINFO", line, "expected 4 fields")
    mcc, mnc = split_plmn(f[1])
    return NetworkInfo(clean(f[0]), mcc, mnc, clean(f[2]), to_int(f[3], command="AT+QNWINFO"))


def parse_qcsq(line: str) -> Cell | None:
    """``+QCSQ: "NOSERVICE" | "GSM",rssi | "WCDMA",rssi,rscp,ecio | "LTE",rssi,rsrp,sinr,rsrq``.

    The field count depends on the mode (field-anchors.md 5.3). None means no service.
    """
    c = "AT+QCSQ"
    f = split_fields(payload(line, "+QCSQ:", command=c))
    mode = f[0].strip('"').upper()
    n = {"NOSERVICE": 1, "GSM": 2, "WCDMA": 4, "TDSCDMA": 2, "LTE": 5, "CAT-M1": 5, "CAT-NB1": 5, "EMTC": 5,
         "NBIOT": 5}.get(mode)
    if n is None or len(f) != n:
        raise ParseError(c, line, f"unknown mode {mode!r} or wrong field count {len(f)}")
    if mode == "NOSERVICE":
        return None
    rssi = to_magnitude_dbm(to_float(f[1], command=c), "+QCSQ RSSI")  # EG21-G prints 77 for -77 dBm
    if mode in ("GSM", "TDSCDMA"):
        return Cell(rat=Rat.GSM if mode == "GSM" else Rat.UMTS, rssi_dbm=rssi)
    if mode == "WCDMA":
        return Cell(rat=Rat.UMTS, rssi_dbm=rssi, rscp_dbm=to_float(f[2], command=c),
                    ecio_db=to_float(f[3], command=c))
    return Cell(rat=Rat.LTE, rssi_dbm=rssi, rsrp_dbm=to_float(f[2], command=c),
                sinr_db=scale(to_float(f[3], command=c), table("scaling")["quectel"]["qcsq"]["sinr"]),
                rsrq_db=to_float(f[4], command=c))


class QuectelModem(GenericModem):
    """Quectel modules: serving cell from ``AT+QENG="servingcell"``, ``AT+QCSQ`` as fallback."""

    name = "quectel"
    counter_command = "AT+QGDCNT?"

    def measure_cells(self, raw: list[RawExchange], notes: list[str], op: Operator,
                      regs: dict[str, Registration]) -> tuple[list[Cell], Technology | None, float | None]:
        resp = self.cmd(CMD_QENG, raw)
        if resp.ok:
            try:
                res = parse_qeng(resp.lines, self.identity.model, self.identity.firmware)
            except ParseError as exc:
                notes.append(f"parse error: {exc}")
            else:
                notes.extend(dict.fromkeys(res.notes))
                if res.state == "SEARCH" and not res.cells:
                    return [], Technology.NONE, None
                return res.cells, None, None
        qcsq = self.cmd("AT+QCSQ", raw)
        for ln in qcsq.prefixed("+QCSQ:"):
            try:
                cell = parse_qcsq(ln)
            except ParseError as exc:
                notes.append(f"parse error: {exc}")
                continue
            if cell is None:
                return [], Technology.NONE, None
            upd: dict = {"mcc": op.mcc, "mnc": op.mnc}
            for info_line in self.cmd("AT+QNWINFO", raw).prefixed("+QNWINFO:"):
                try:
                    nw = parse_qnwinfo(info_line)
                except ParseError as exc:
                    notes.append(f"parse error: {exc}")
                    continue
                m = re.search(r"BAND\s*(\d+)", nw.band or "", re.I)
                if m:
                    upd["band"] = ("n" if "NR" in (nw.band or "").upper() else "B") + m.group(1)
                upd["channel"] = nw.channel
                upd["mcc"], upd["mnc"] = nw.mcc or op.mcc, nw.mnc or op.mnc
            reg = regs.get("AT+CEREG?") if cell.rat == Rat.LTE else regs.get("AT+CREG?")
            if reg is not None and reg.state.registered:
                upd.update(area_code=reg.area_code, cell_id=reg.cell_id)
                if cell.rat == Rat.LTE:
                    upd["node_id"], upd["local_cell_id"] = split_eci(reg.cell_id)
            if cell.sinr_db is not None:
                notes.append("QCSQ SINR scaled v/5-20 dB (field-anchors.md 5.3 [M])")
            return [cell.model_copy(update=upd)], None, None
        return super().measure_cells(raw, notes, op, regs)
