"""The ``sierra`` driver (MC73xx, EM74xx, EM75xx): ``AT!GSTATUS?`` parsed by label, not position.

The layout varies by firmware (field-anchors.md 5.6): older MC7304 lines ``RSSI (dBm):``/``RSRP (dBm):``,
newer ``PCC RxM RSSI:``/``PCC RxM RSRP:`` with SCC blocks. The first (RxM / PCC) value wins.
"""

from __future__ import annotations

import re

from .errors import ParseError
from .generic import GenericModem
from .models import Cell, Rat, RawExchange, Technology
from .parse_3gpp import Operator, Registration
from .values import split_eci, to_float, to_hex, to_int

C = "AT!GSTATUS?"
_LABELS = {
    "mode": r"System mode:\s*([^\t\r\n]+?)\s*(?:\t|  |$)",
    "band": r"LTE band:\s*B?(\d+)",
    "bw": r"LTE bw:\s*([\d.]+)\s*MHz",
    "chan": r"LTE Rx chan:\s*(\d+)",
    "rssi": r"(?:PCC RxM RSSI|RSSI \(dBm\))\s*:\s*(-?\d+(?:\.\d+)?)",
    "rsrp": r"(?:PCC RxM RSRP|RSRP \(dBm\))\s*:\s*(-?\d+(?:\.\d+)?)",
    "rsrq": r"RSRQ \(dB\)\s*:\s*(-?\d+(?:\.\d+)?)",
    "sinr": r"SINR \(dB\)\s*:\s*(-?\d+(?:\.\d+)?)",
    "tac": r"\bTAC:\s*([0-9A-Fa-f]+)",
    "cid": r"Cell ID:\s*([0-9A-Fa-f]+)",
}


def parse_gstatus(lines: list[str]) -> tuple[str | None, Cell | None]:
    """``(system mode text, LTE cell or None)`` from the lines of ``AT!GSTATUS?``."""
    text = "\n".join(lines)
    vals: dict[str, str | None] = {}
    for key, rx in _LABELS.items():
        m = re.search(rx, text, re.I | re.M)
        vals[key] = m.group(1) if m else None
    mode = vals["mode"]
    if mode is None:
        raise ParseError(C, text[:200], "no 'System mode:' label")
    if not mode.upper().startswith("LTE"):
        return mode, None
    eci = to_hex(vals["cid"], command=C)
    node, local = split_eci(eci)
    return mode, Cell(rat=Rat.LTE, area_code=to_hex(vals["tac"], command=C), cell_id=eci, node_id=node,
                      local_cell_id=local, band=None if vals["band"] is None else f"B{vals['band']}",
                      channel=to_int(vals["chan"], command=C), bandwidth_mhz=to_float(vals["bw"], command=C),
                      rssi_dbm=to_float(vals["rssi"], command=C), rsrp_dbm=to_float(vals["rsrp"], command=C),
                      rsrq_db=to_float(vals["rsrq"], command=C), sinr_db=to_float(vals["sinr"], command=C))


class SierraModem(GenericModem):
    """Sierra Wireless modules: LTE serving cell from ``AT!GSTATUS?``; 2G/3G via 27.007."""

    name = "sierra"

    def measure_cells(self, raw: list[RawExchange], notes: list[str], op: Operator,
                      regs: dict[str, Registration]) -> tuple[list[Cell], Technology | None, float | None]:
        resp = self.cmd(C, raw)
        if resp.ok:
            try:
                mode, cell = parse_gstatus(resp.lines)
            except ParseError as exc:
                notes.append(f"parse error: {exc}")
            else:
                if cell is not None:
                    return [cell.model_copy(update={"mcc": op.mcc, "mnc": op.mnc})], None, None
                if mode and re.match(r"no service|none|searching", mode, re.I):
                    return [], Technology.NONE, None
        return super().measure_cells(raw, notes, op, regs)
