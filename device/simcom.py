"""The ``simcom`` driver (SIM7600, SIM7906, SIM8200): ``AT+CPSI?``.

LTE RSRQ, RSRP and RSSI in +CPSI are tenths of a dB (field-anchors.md 5.5; ``data/scaling.toml``
``simcom.cpsi.tenths``). GSM and WCDMA lines are parsed for identity only [M].
"""

from __future__ import annotations

import re

from .errors import ParseError
from .generic import GenericModem
from .models import Cell, Rat, RawExchange, Technology
from .parse_3gpp import Operator, Registration
from .values import (clean, lte_bandwidth_mhz, payload, scale, split_eci, split_fields, split_plmn, table, to_float,
                     to_hex, to_int)

C = "AT+CPSI?"


def parse_cpsi(line: str) -> Cell | None:
    """Parse ``+CPSI: <SystemMode>,<OperationMode>,<MCC>-<MNC>,<TAC>,<SCellID>,<PCellID>,<band>,<EARFCN>,
    <DLbw>,<ULbw>,<RSRQ>,<RSRP>,<RSSI>,<RSSNR>``. Returns None for ``NO SERVICE``."""
    f = split_fields(payload(line, "+CPSI:", command=C))
    mode = f[0].strip().upper()
    if mode in ("NO SERVICE", "NOSERVICE"):
        return None
    if len(f) < 5:
        raise ParseError(C, line, f"too few fields ({len(f)})")
    mcc, mnc = split_plmn(f[2])
    tenths = table("scaling")["simcom"]["cpsi"]["tenths"]
    if mode == "LTE":
        if len(f) < 14:
            raise ParseError(C, line, f"LTE line needs 14 fields, got {len(f)}")
        eci = to_int(f[4], command=C)
        node, local = split_eci(eci)
        m = re.search(r"BAND\s*(\d+)", f[6], re.I)
        return Cell(rat=Rat.LTE, mcc=mcc, mnc=mnc, area_code=to_hex(f[3], command=C), cell_id=eci, node_id=node,
                    local_cell_id=local, pci=to_int(f[5], command=C), band=f"B{m.group(1)}" if m else clean(f[6]),
                    channel=to_int(f[7], command=C), bandwidth_mhz=lte_bandwidth_mhz(to_int(f[8], command=C)),
                    rsrq_db=scale(to_float(f[10], command=C), tenths), rsrp_dbm=scale(to_float(f[11], command=C), tenths),
                    rssi_dbm=scale(to_float(f[12], command=C), tenths), sinr_db=to_float(f[13], command=C))
    if mode == "WCDMA":
        return Cell(rat=Rat.UMTS, mcc=mcc, mnc=mnc, area_code=to_hex(f[3], command=C), cell_id=to_int(f[4], command=C))
    if mode == "GSM":
        return Cell(rat=Rat.GSM, mcc=mcc, mnc=mnc, area_code=to_hex(f[3], command=C), cell_id=to_int(f[4], command=C))
    raise ParseError(C, line, f"system mode {f[0]!r} not supported by this parser")


class SimcomModem(GenericModem):
    """SIMCom modules: serving cell from ``AT+CPSI?``."""

    name = "simcom"

    def measure_cells(self, raw: list[RawExchange], notes: list[str], op: Operator,
                      regs: dict[str, Registration]) -> tuple[list[Cell], Technology | None, float | None]:
        resp = self.cmd(C, raw)
        for ln in resp.prefixed("+CPSI:"):
            try:
                cell = parse_cpsi(ln)
            except ParseError as exc:
                notes.append(f"parse error: {exc}")
                continue
            if cell is None:
                return [], Technology.NONE, None
            if cell.rat == Rat.LTE:
                notes.append("CPSI RSRQ/RSRP/RSSI scaled from tenths of dB (field-anchors.md 5.5); RSSNR taken as dB [M]")
            return [cell], None, None
        return super().measure_cells(raw, notes, op, regs)
