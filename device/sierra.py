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
_NOT_NR = r"(?<!NR5G )(?<!NR )"
_LABELS = {
    "mode": r"System mode:\s*([^\t\r\n]+?)\s*(?:\t|  |$)",
    "band": r"LTE band:\s*B?(\d+)",
    "bw": r"LTE bw:\s*([\d.]+)\s*MHz",
    "chan": r"LTE Rx chan:\s*(\d+)",
    "rssi": _NOT_NR + r"(?:PCC Rx[M0] RSSI|RSSI \(dBm\))\s*:\s*(-?\d+(?:\.\d+)?)",
    "rsrp": _NOT_NR + r"(?:PCC Rx[M0] RSRP|RSRP \(dBm\))\s*:\s*(-?\d+(?:\.\d+)?)",
    "rsrq": _NOT_NR + r"RSRQ \(dB\)\s*:\s*(-?\d+(?:\.\d+)?)",
    "sinr": _NOT_NR + r"SINR \(dB\)\s*:\s*(-?\d+(?:\.\d+)?)",
    "tac": r"\bTAC:\s*([0-9A-Fa-f]+)",
    "cid": r"Cell ID:\s*([0-9A-Fa-f]+)",
    # EM919x (5G) adds an NR5G block in EN-DC and SA [M: layout from the EM919x AT reference, unverified]
    "nr_band": r"NR5G band:\s*n?(\d+)",
    "nr_bw": r"NR5G bw:\s*([\d.]+)\s*MHz",
    "nr_chan": r"NR5G Rx chan:\s*(\d+)",
    "nr_rsrp": r"NR5G RSRP \(dBm\)\s*:\s*(-?\d+(?:\.\d+)?)",
    "nr_rsrq": r"NR5G RSRQ \(dB\)\s*:\s*(-?\d+(?:\.\d+)?)",
    "nr_sinr": r"NR5G SINR \(dB\)\s*:\s*(-?\d+(?:\.\d+)?)",
}
#: "System mode" values that carry an LTE (anchor) cell: LTE, LTE CA, and EN-DC as the EM919x prints it
_LTE_MODES = re.compile(r"^(LTE|ENDC|EN-DC|LTE\s*\+\s*NR)", re.I)
_NR_MODES = re.compile(r"^(NR5G|NR\b|5G)", re.I)


def parse_gstatus(lines: list[str]) -> tuple[str | None, Cell | None]:
    """``(system mode text, serving cell or None)`` from ``AT!GSTATUS?``; see :func:`parse_gstatus_cells`."""
    mode, cells = parse_gstatus_cells(lines)
    return mode, cells[0] if cells else None


def parse_gstatus_cells(lines: list[str]) -> tuple[str | None, list[Cell]]:
    """``(system mode text, cells)``: the LTE cell in LTE and EN-DC (``System mode: ENDC``), plus the NR
    cell when an NR5G block is present (EN-DC or SA). Labels that are missing give None fields."""
    text = "\n".join(lines)
    vals: dict[str, str | None] = {}
    for key, rx in _LABELS.items():
        m = re.search(rx, text, re.I | re.M)
        vals[key] = m.group(1) if m else None
    mode = vals["mode"]
    if mode is None:
        raise ParseError(C, text[:200], "no 'System mode:' label")
    cells: list[Cell] = []
    if _LTE_MODES.match(mode):
        eci = to_hex(vals["cid"], command=C)
        node, local = split_eci(eci)
        cells.append(Cell(rat=Rat.LTE, area_code=to_hex(vals["tac"], command=C), cell_id=eci, node_id=node,
                          local_cell_id=local, band=None if vals["band"] is None else f"B{vals['band']}",
                          channel=to_int(vals["chan"], command=C), bandwidth_mhz=to_float(vals["bw"], command=C),
                          rssi_dbm=to_float(vals["rssi"], command=C), rsrp_dbm=to_float(vals["rsrp"], command=C),
                          rsrq_db=to_float(vals["rsrq"], command=C), sinr_db=to_float(vals["sinr"], command=C)))
    if (cells or _NR_MODES.match(mode)) and (vals["nr_rsrp"] is not None or vals["nr_band"] is not None):
        cells.append(Cell(rat=Rat.NR, band=None if vals["nr_band"] is None else f"n{vals['nr_band']}",
                          channel=to_int(vals["nr_chan"], command=C), bandwidth_mhz=to_float(vals["nr_bw"], command=C),
                          rsrp_dbm=to_float(vals["nr_rsrp"], command=C), rsrq_db=to_float(vals["nr_rsrq"], command=C),
                          sinr_db=to_float(vals["nr_sinr"], command=C)))
    return mode, cells


class SierraModem(GenericModem):
    """Sierra Wireless modules: LTE serving cell from ``AT!GSTATUS?``; 2G/3G via 27.007."""

    name = "sierra"

    def measure_cells(self, raw: list[RawExchange], notes: list[str], op: Operator,
                      regs: dict[str, Registration]) -> tuple[list[Cell], Technology | None, float | None]:
        resp = self.cmd(C, raw)
        if resp.ok:
            try:
                mode, cells = parse_gstatus_cells(resp.lines)
            except ParseError as exc:
                notes.append(f"parse error: {exc}")
            else:
                if cells:
                    return [c.model_copy(update={"mcc": op.mcc, "mnc": op.mnc}) for c in cells], None, None
                if mode and re.match(r"no service|none|searching", mode, re.I):
                    return [], Technology.NONE, None
        return super().measure_cells(raw, notes, op, regs)
