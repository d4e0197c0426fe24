"""The ``simcom`` driver (SIM7600/SIM7906/SIM8200, A76XX/SIM7670, SIM7000/SIM7080): ``AT+CPSI?``.

How +CPSI prints LTE RSRQ, RSRP and RSSI depends on the model family, looked up in ``data/scaling.toml``
``simcom.families`` (a table of model prefixes, not a pattern): tenths of a dB on SIM7600 and its
relatives (field-anchors.md 5.5), plain dB on the A76XX (SIM7670) and SIM7000 families [M]. The system
modes ``LTE``, ``LTE CAT-M1`` and ``LTE NB-IOT`` share one layout; ``GSM`` lines carry the RSSI in dBm.
Unknown modes and extra fields are kept in the raw answer and noted, never fatal for the reading.
"""

from __future__ import annotations

import re

from .errors import ParseError
from .generic import GenericModem
from .models import Cell, Rat, RawExchange, Technology
from .parse_3gpp import Operator, Registration
from .values import (clean, lte_bandwidth_mhz, model_family, note, payload, scale, split_eci, split_fields, split_plmn,
                     table, to_float, to_hex, to_int)

C = "AT+CPSI?"


def simcom_family(model: str | None) -> dict:
    """The ``simcom.families`` entry of ``model``; the SIM7600 family (tenths) when unknown, with a note."""
    families = table("scaling")["simcom"]["families"]
    entry = model_family(families, model)
    if entry is None:
        entry = families[0]
        note(f"SIMCom model {model!r} not in scaling.toml simcom.families: +CPSI levels read as "
             f"{entry['family']} ({entry['cpsi_levels']}), unverified")
    return entry


def _level(field: str, levels: str) -> float | None:
    v = to_float(field, command=C)
    return scale(v, table("scaling")["simcom"]["cpsi"]["tenths"]) if levels == "tenths" else v


def parse_cpsi(line: str, model: str | None = None) -> Cell | None:
    """Parse ``+CPSI: <SystemMode>,<OperationMode>,<MCC>-<MNC>,<TAC>,<SCellID>,<PCellID>,<band>,<EARFCN>,
    <DLbw>,<ULbw>,<RSRQ>,<RSRP>,<RSSI>,<RSSNR>`` (LTE, LTE CAT-M1, LTE NB-IOT) or
    ``+CPSI: GSM,<OperationMode>,<MCC>-<MNC>,<LAC>,<CellID>,<ARFCN band>,<RxLev dBm>,<TrackLO>,<C1-C2>``.
    ``model`` (+CGMM) picks the level scaling. Returns None for ``NO SERVICE``."""
    f = split_fields(payload(line, "+CPSI:", command=C))
    mode = f[0].strip().upper()
    if mode in ("NO SERVICE", "NOSERVICE"):
        return None
    if len(f) < 5:
        raise ParseError(C, line, f"too few fields ({len(f)})")
    mcc, mnc = split_plmn(f[2])
    if mode.startswith("LTE"):
        if len(f) < 14:
            raise ParseError(C, line, f"LTE line needs 14 fields, got {len(f)}")
        family = simcom_family(model)
        levels = family["cpsi_levels"]
        eci = to_int(f[4], command=C)
        node, local = split_eci(eci)
        m = re.search(r"BAND\s*(\d+)", f[6], re.I)
        if len(f) > 14:
            note(f"+CPSI: {len(f) - 14} extra field(s) kept raw and ignored")
        if mode != "LTE":
            note(f"+CPSI system mode {f[0].strip()!r} read with the LTE layout")
        return Cell(rat=Rat.LTE, mcc=mcc, mnc=mnc, area_code=to_hex(f[3], command=C), cell_id=eci, node_id=node,
                    local_cell_id=local, pci=to_int(f[5], command=C), band=f"B{m.group(1)}" if m else clean(f[6]),
                    channel=to_int(f[7], command=C), bandwidth_mhz=lte_bandwidth_mhz(to_int(f[8], command=C)),
                    rsrq_db=_level(f[10], levels), rsrp_dbm=_level(f[11], levels), rssi_dbm=_level(f[12], levels),
                    sinr_db=to_float(f[13], command=C))
    if mode == "WCDMA":
        return Cell(rat=Rat.UMTS, mcc=mcc, mnc=mnc, area_code=to_hex(f[3], command=C), cell_id=to_int(f[4], command=C))
    if mode == "GSM":
        rssi = to_float(f[6], command=C) if len(f) > 6 else None
        m = re.match(r"\s*(\d+)", f[5]) if len(f) > 5 else None
        return Cell(rat=Rat.GSM, mcc=mcc, mnc=mnc, area_code=to_hex(f[3], command=C), cell_id=to_int(f[4], command=C),
                    channel=int(m.group(1)) if m else None, rssi_dbm=rssi)
    raise ParseError(C, line, f"system mode {f[0]!r} not supported by this parser")


class SimcomModem(GenericModem):
    """SIMCom modules: serving cell from ``AT+CPSI?``."""

    name = "simcom"

    def measure_cells(self, raw: list[RawExchange], notes: list[str], op: Operator,
                      regs: dict[str, Registration]) -> tuple[list[Cell], Technology | None, float | None]:
        resp = self.cmd(C, raw)
        for ln in resp.prefixed("+CPSI:"):
            try:
                cell = parse_cpsi(ln, self.identity.model)
            except ParseError as exc:
                notes.append(f"parse error: {exc}")
                continue
            if cell is None:
                return [], Technology.NONE, None
            if cell.rat == Rat.LTE:
                fam = simcom_family(self.identity.model)
                how = "tenths of dB" if fam["cpsi_levels"] == "tenths" else "dB as printed"
                flag = "" if fam.get("verified") else " [M]"
                notes.append(f"CPSI RSRQ/RSRP/RSSI read as {how} (family {fam['family']}{flag}); RSSNR taken as dB [M]")
            return [cell], None, None
        return super().measure_cells(raw, notes, op, regs)
