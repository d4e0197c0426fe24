"""The ``telit`` driver (LE910Cx, LM960, LN940/LN920): ``AT#RFSTS`` or ``AT^RFSTS`` in LTE.

LE910 and LM960 differ in the optional TXPWR field (field-anchors.md 5.7), so the parser anchors on
the hex cell id followed by the quoted 15-digit IMSI instead of on positions after the TAC. Which
command a model answers and how it prints SINR come from ``data/scaling.toml`` ``telit.families``
(LN940 answers ``^RFSTS`` with SINR in dB; LE910/LM960 ``#RFSTS`` with a raw SINR index) [M].
"""

from __future__ import annotations

import re

from .errors import ParseError
from .generic import GenericModem
from .models import Cell, Rat, RawExchange, Technology
from .parse_3gpp import Operator, Registration
from .values import model_family, payload, scale, split_eci, split_fields, split_plmn, table, to_float, to_hex, to_int

C = "AT#RFSTS"


def telit_family(model: str | None) -> dict:
    """The ``telit.families`` entry for ``model`` (+CGMM); the LE910 family when the model is unknown."""
    families = table("scaling")["telit"]["families"]
    return model_family(families, model) or families[0]


def parse_rfsts_lte(line: str, model: str | None = None) -> Cell:
    """``#RFSTS: "<PLMN>",<EARFCN>,<RSRP>,<RSSI>,<RSRQ>,<TAC>,<RAC>,[<TXPWR>,]<DRX>,<MM>,<RRC>,<CID>,"<IMSI>",
    ["<NetName>",]<SD>,<ABND>[,<SINR>]``."""
    family = telit_family(model)
    prefix = "^RFSTS:" if line.strip().startswith("^") else "#RFSTS:"
    f = split_fields(payload(line, prefix, command=C))
    imsi_i = next((i for i, x in enumerate(f) if re.fullmatch(r'"\d{15}"', x)), None)
    if imsi_i is None or imsi_i < 10:
        raise ParseError(C, line, "no quoted 15-digit IMSI after the cell id")
    mcc, mnc = split_plmn(f[0])
    eci = to_hex(f[imsi_i - 1], command=C)
    node, local = split_eci(eci)
    rest = f[imsi_i + 1:]
    if rest and rest[0].startswith('"'):
        rest = rest[1:]  # network name
    band = to_int(rest[1], command=C) if len(rest) > 1 else None
    sinr = to_float(rest[2], command=C) if len(rest) > 2 else None
    return Cell(rat=Rat.LTE, mcc=mcc, mnc=mnc, channel=to_int(f[1], command=C), rsrp_dbm=to_float(f[2], command=C),
                rssi_dbm=to_float(f[3], command=C), rsrq_db=to_float(f[4], command=C),
                area_code=to_hex(f[5], command=C),
                cell_id=eci, node_id=node, local_cell_id=local, band=None if band is None else f"B{band}",
                sinr_db=scale(sinr, family["sinr"]))


class TelitModem(GenericModem):
    """Telit modules: LTE serving cell from ``AT#RFSTS``; 2G/3G via 27.007."""

    name = "telit"

    def measure_cells(self, raw: list[RawExchange], notes: list[str], op: Operator,
                      regs: dict[str, Registration]) -> tuple[list[Cell], Technology | None, float | None]:
        eps = regs.get("AT+CEREG?")
        if op.act in (7, 9, 10, 13) or (eps is not None and eps.state.registered):
            fam = telit_family(self.identity.model)
            for ln in self.cmd(fam["command"], raw).prefixed(fam["prefix"]):
                try:
                    cell = parse_rfsts_lte(ln, self.identity.model)
                except ParseError as exc:
                    notes.append(f"parse error: {exc}")
                    continue
                if cell.sinr_db is not None:
                    k = fam["sinr"]
                    notes.append(f"{fam['prefix'][:-1]} SINR scaled x{k['factor']:g}{k['offset']:+g} dB "
                                 f"(family {fam['family']}, field-anchors.md 5.7 [M])")
                return [cell], None, None
        return super().measure_cells(raw, notes, op, regs)
