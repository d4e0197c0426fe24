"""The ``generic`` modem driver (3GPP TS 27.007 only) and the base class of the vendor drivers.

A driver wraps an open :class:`~qamtu.device.at.ATChannel`. :meth:`GenericModem.read` asks for the
operator (+COPS?), registration (+CREG?/+CGREG?/+CEREG?/+C5GREG?) and the signal; vendor drivers
replace only :meth:`GenericModem.measure_cells`. A parse failure of one answer does not lose the
reading: it is noted in ``notes`` and the raw lines are kept for re-parsing.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from .at import ATChannel, ATResponse
from .errors import ParseError
from .models import Cell, ModemInfo, ModemReading, Rat, RawExchange, RegState, Technology, utc_now
from .parse_3gpp import ACT_TECHNOLOGY, Operator, Registration, parse_cesq, parse_cops, parse_creg, parse_csq
from .sanity import check_cells
from .values import clean, collecting_notes, finite, operator_name, split_eci, split_nci

logger = logging.getLogger(__name__)

_REG_COMMANDS = ("AT+C5GREG?", "AT+CEREG?", "AT+CGREG?", "AT+CREG?")


@dataclass(frozen=True)
class Identity:
    """What the modem says it is: ATI text, +CGMI, +CGMM, +CGMR."""

    manufacturer: str | None = None
    model: str | None = None
    firmware: str | None = None
    ati: str = ""


def _value_line(resp: ATResponse, prefix: str) -> str | None:
    """The single value of an identification answer, with an optional ``+CGMI:`` style prefix removed."""
    for ln in resp.lines:
        s = ln.strip()
        if s.upper().startswith(prefix.upper()):
            s = s[len(prefix):].strip()
        s = s.strip('"').strip()
        if s:
            return s
    return None


class GenericModem:
    """A modem spoken to with 3GPP TS 27.007 commands only.

    :param channel: the open AT channel (the driver does not own it: :meth:`close` closes it anyway,
        so that ``with open_modem(...)`` releases the port).
    :param identity: from :func:`identify`; read again when None.
    """

    name = "generic"
    #: AT command that returns the modem's data counters (data/counters: ``COUNTER_COMMANDS``), None if none
    counter_command: str | None = None

    def __init__(self, channel: ATChannel, identity: Identity | None = None) -> None:
        self.channel = channel
        self.identity = identity if identity is not None else identify(channel)
        self._unsupported: set[str] = set()
        self._errors: dict[str, int] = {}
        self._setup_done = False

    # ------------------------------------------------------------------ plumbing
    @property
    def port(self) -> str:
        """The port URL."""
        return self.channel.url

    def close(self) -> None:
        """Close the port."""
        self.channel.close()

    def __enter__(self) -> "GenericModem":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def cmd(self, command: str, raw: list[RawExchange] | None = None, *, timeout_s: float | None = None) -> ATResponse:
        """Send a command without raising on ERROR; record it in ``raw``. Commands that answered
        ERROR twice are remembered and skipped afterwards (returned as a synthetic ERROR)."""
        if command in self._unsupported:
            return ATResponse(command=command, final="ERROR")
        resp = self.channel.command(command, timeout_s=timeout_s, check=False)
        if raw is not None:
            raw.append(resp.raw())
        if resp.final in ("ERROR", "COMMAND NOT SUPPORT", "+CME ERROR: 4"):
            self._errors[command] = self._errors.get(command, 0) + 1
            if self._errors[command] >= 2:  # twice: not a glitch, the command is not supported
                self._unsupported.add(command)
        elif resp.ok:
            self._errors.pop(command, None)
        return resp

    def setup(self) -> None:
        """Once per session: numeric errors, numeric operator format, location info in +CxREG."""
        if self._setup_done:
            return
        for c in ("ATE0", "AT+CMEE=1", "AT+COPS=3,2", "AT+CREG=2", "AT+CGREG=2", "AT+CEREG=2", "AT+C5GREG=2"):
            self.cmd(c)
        self._setup_done = True

    def data_counters(self) -> tuple[int, int]:
        """The modem's own ``(rx_bytes, tx_bytes)``. Safe to call from another thread while the probe reads
        the modem: each AT command holds the channel's lock, so answers never interleave.

        :raises ParseError: the modem has no counter command, or its answer is not understood.
        :raises ATError, PortError: the modem does not answer.
        """
        from .counters import COUNTER_COMMANDS

        if self.counter_command is None:
            raise ParseError("data counters", "", f"the {self.name} driver has no data counter command")
        resp = self.channel.command(self.counter_command, check=True)
        return COUNTER_COMMANDS[self.counter_command]("\n".join(resp.lines))

    # ------------------------------------------------------------------ info
    def info(self) -> ModemInfo:
        """Manufacturer, model, firmware, IMEI, IMSI, ICCID and the SIM's home operator."""
        raw: list[RawExchange] = []
        imei = _digits(_value_line(self.cmd("AT+CGSN", raw), "+CGSN:"), 14, 16)
        imsi = _digits(_value_line(self.cmd("AT+CIMI", raw), "+CIMI:"), 6, 15)
        iccid = self.read_iccid(raw)
        sim_mcc = imsi[:3] if imsi else None
        # MNC length is not in the IMSI; Kazakhstan (401) uses 2-digit MNCs (data/operators.toml).
        sim_mnc = imsi[3:5] if imsi else None
        return ModemInfo(port=self.port, driver=self.name, manufacturer=self.identity.manufacturer,
                         model=self.identity.model, firmware=self.identity.firmware, imei=imei, imsi=imsi,
                         iccid=iccid, sim_mcc=sim_mcc, sim_mnc=sim_mnc, sim_operator=operator_name(sim_mcc, sim_mnc),
                         raw=raw)

    def read_iccid(self, raw: list[RawExchange]) -> str | None:
        """ICCID via the 27.007 +CCID or the common vendor spellings."""
        for c, p in (("AT+CCID", "+CCID:"), ("AT+ICCID", "+ICCID:"), ("AT+QCCID", "+QCCID:"),
                     ("AT^ICCID?", "^ICCID:"), ("AT+CICCID", "ICCID:")):
            resp = self.cmd(c, raw)
            if resp.ok:
                v = _digits(_value_line(resp, p), 18, 22, allow_f=True)
                if v:
                    return v
        return None

    # ------------------------------------------------------------------ reading
    def read(self) -> ModemReading:
        """One reading: operator, registration, technology and serving cell(s). Never raises for
        "no service"; raises :class:`~qamtu.device.errors.ATError`/``PortError`` when the modem does not answer."""
        self.setup()
        time_utc = utc_now()
        raw: list[RawExchange] = []
        notes: list[str] = []
        with collecting_notes(notes):
            return self._read(time_utc, raw, notes)

    def _read(self, time_utc, raw: list[RawExchange], notes: list[str]) -> ModemReading:
        op = Operator(None)
        resp = self.cmd("AT+COPS?", raw)
        for ln in resp.prefixed("+COPS:"):
            op = _safe(lambda: parse_cops(ln), notes, op)
        regs: dict[str, Registration] = {}
        for c in _REG_COMMANDS:
            r = self.cmd(c, raw)
            prefix = c[2:-1] + ":"
            for ln in r.prefixed(prefix):
                reg = _safe(lambda: parse_creg(ln), notes, None)
                if reg is not None:
                    regs[c] = reg
        state, reg = _best_registration(regs)
        cells, tech, csq_dbm = self.measure_cells(raw, notes, op, regs)
        cells = check_cells(cells, notes)
        csq_dbm = finite(csq_dbm, "+CSQ RSSI")
        if tech is None:
            tech = _technology(cells, op, reg, state)
        if not state.registered and tech is not Technology.NONE and not cells:
            tech = Technology.NONE
        mcc, mnc = op.mcc, op.mnc
        if mcc is None:
            for cell in cells:
                if cell.mcc:
                    mcc, mnc = cell.mcc, cell.mnc
                    break
        return ModemReading(time_utc=time_utc, port=self.port, driver=self.name, technology=tech,
                            registration=state, operator_mcc=mcc, operator_mnc=mnc,
                            operator_name=operator_name(mcc, mnc) or op.name, cells=cells, csq_rssi_dbm=csq_dbm,
                            notes=notes, raw=raw)

    def measure_cells(self, raw: list[RawExchange], notes: list[str], op: Operator,
                      regs: dict[str, Registration]) -> tuple[list[Cell], Technology | None, float | None]:
        """Serving cell(s) from +CSQ/+CESQ and the registration's TAC/CI. Vendor drivers override this.

        Returns ``(cells, technology or None to derive it, +CSQ RSSI in dBm)``.
        """
        csq = None
        for ln in self.cmd("AT+CSQ", raw).prefixed("+CSQ:"):
            csq = _safe(lambda: parse_csq(ln), notes, None)
        cesq: dict[str, float | None] = {}
        for ln in self.cmd("AT+CESQ", raw).prefixed("+CESQ:"):
            cesq = _safe(lambda: parse_cesq(ln), notes, {}) or {}
        state, reg = _best_registration(regs)
        if not state.registered:
            return [], Technology.NONE, csq
        tech = _technology([], op, reg, state)
        area = reg.area_code if reg else None
        cid = reg.cell_id if reg else None
        nr_values = {k: cesq.get(k) for k in ("ss_rsrp_dbm", "ss_rsrq_db", "ss_sinr_db")}
        has_nr = any(v is not None for v in nr_values.values())
        nr_signal = dict(rsrp_dbm=nr_values["ss_rsrp_dbm"], rsrq_db=nr_values["ss_rsrq_db"],
                         sinr_db=nr_values["ss_sinr_db"])
        if tech in (Technology.LTE, Technology.NR_NSA):
            node, local = split_eci(cid)
            cell = Cell(rat=Rat.LTE, mcc=op.mcc, mnc=op.mnc, area_code=area, cell_id=cid, node_id=node,
                        local_cell_id=local, rsrp_dbm=cesq.get("rsrp_dbm"), rsrq_db=cesq.get("rsrq_db"))
            if has_nr:  # EN-DC: the NR leg's SS-RSRP/RSRQ/SINR from the Rel-15 +CESQ fields
                notes.append("+CESQ values are 27.007 bin lower edges (field-anchors.md 5.1)")
                return [cell, Cell(rat=Rat.NR, mcc=op.mcc, mnc=op.mnc, **nr_signal)], Technology.NR_NSA, csq
        elif tech == Technology.NR_SA:
            node, local = split_nci(cid)
            cell = Cell(rat=Rat.NR, mcc=op.mcc, mnc=op.mnc, area_code=area, cell_id=cid, node_id=node,
                        local_cell_id=local, **nr_signal)
        elif tech == Technology.UMTS:
            cell = Cell(rat=Rat.UMTS, mcc=op.mcc, mnc=op.mnc, area_code=area, cell_id=cid,
                        rscp_dbm=cesq.get("rscp_dbm"), ecio_db=cesq.get("ecno_db"), rssi_dbm=csq)
        elif tech == Technology.GSM:
            cell = Cell(rat=Rat.GSM, mcc=op.mcc, mnc=op.mnc, area_code=area, cell_id=cid,
                        rssi_dbm=cesq.get("rxlev_dbm") if cesq.get("rxlev_dbm") is not None else csq)
        else:
            return [], tech, csq
        if cesq:
            notes.append("+CESQ values are 27.007 bin lower edges (field-anchors.md 5.1)")
        return [cell], tech, csq


# ---------------------------------------------------------------------- helpers
def identify(channel: ATChannel) -> Identity:
    """ATI, +CGMI, +CGMM, +CGMR; each may fail (the field is then None)."""
    ati = channel.command("ATI", check=False)
    cgmi = channel.command("AT+CGMI", check=False)
    cgmm = channel.command("AT+CGMM", check=False)
    cgmr = channel.command("AT+CGMR", check=False)
    manufacturer = _value_line(cgmi, "+CGMI:") if cgmi.ok else None
    model = _value_line(cgmm, "+CGMM:") if cgmm.ok else None
    firmware = _value_line(cgmr, "+CGMR:") if cgmr.ok else None
    ati_text = "\n".join(ati.lines) if ati.ok else ""
    if firmware is not None:
        firmware = re.sub(r"^Revision:\s*", "", firmware, flags=re.I) or None
    if firmware is None:
        m = re.search(r"Revision:\s*(\S+)", ati_text, re.I)
        firmware = m.group(1) if m else None
    if manufacturer is None:
        m = re.search(r"Manufacturer:\s*(.+)", ati_text, re.I)
        manufacturer = m.group(1).strip() if m else (ati.lines[0] if ati.ok and ati.lines else None)
    if model is None:
        m = re.search(r"Model:\s*(.+)", ati_text, re.I)
        model = m.group(1).strip() if m else None
    return Identity(manufacturer, model, firmware, ati_text)


def _digits(value: str | None, lo: int, hi: int, *, allow_f: bool = False) -> str | None:
    s = clean(value)
    if s is None:
        return None
    s = s.split(",")[0].strip().strip('"')
    pattern = r"[0-9Ff]" if allow_f else r"[0-9]"
    return s if re.fullmatch(f"{pattern}{{{lo},{hi}}}", s) else None


def _safe(fn, notes: list[str], default):
    try:
        return fn()
    except ParseError as exc:
        notes.append(f"parse error: {exc}")
        return default


def _best_registration(regs: dict[str, Registration]) -> tuple[RegState, Registration | None]:
    """The registered domain with the newest technology first (5GS, EPS, GPRS, CS); otherwise the most
    telling non-registered state (denied > searching > not registered > unknown)."""
    for c in _REG_COMMANDS:
        if c in regs and regs[c].state.registered:
            return regs[c].state, regs[c]
    rank = [RegState.DENIED, RegState.SEARCHING, RegState.NOT_REGISTERED, RegState.UNKNOWN]
    for st in rank:
        for c in _REG_COMMANDS:
            if c in regs and regs[c].state == st:
                return st, regs[c]
    return RegState.UNKNOWN, None


def _technology(cells: list[Cell], op: Operator, reg: Registration | None, state: RegState) -> Technology:
    rats = {c.rat for c in cells}
    if Rat.LTE in rats and Rat.NR in rats:
        return Technology.NR_NSA
    if rats:
        return {Rat.NR: Technology.NR_SA, Rat.LTE: Technology.LTE, Rat.UMTS: Technology.UMTS,
                Rat.GSM: Technology.GSM}[next(iter(rats))]
    if not state.registered:
        return Technology.NONE
    if op.act is not None and op.act in ACT_TECHNOLOGY:
        return ACT_TECHNOLOGY[op.act]
    if reg is not None and reg.technology is not None:
        return reg.technology
    return Technology.NONE
