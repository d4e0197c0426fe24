"""The ``huawei`` driver (E3372 non-HiLink, ME909, ME906): ``AT^HCSQ?`` and ``AT^SYSINFOEX``.

Scalings (``data/scaling.toml`` ``huawei.hcsq``) and formats: field-anchors.md 5.4. Cell identity
(TAC, ECI) comes from +CEREG/+CREG, which the base driver already reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ParseError
from .generic import GenericModem
from .models import Cell, Rat, RawExchange, Technology
from .parse_3gpp import Operator, Registration
from .values import clean, payload, scale, split_eci, split_fields, table, to_int

_SUBMODE_TECH = {"LTE": Technology.LTE, "WCDMA": Technology.UMTS, "GSM": Technology.GSM, "TD-SCDMA": Technology.UMTS,
                 "NR": Technology.NR_SA, "NR5G": Technology.NR_SA, "EN-DC": Technology.NR_NSA}


def parse_hcsq(line: str) -> Cell | None:
    """``^HCSQ: "LTE",rssi,rsrp,sinr,rsrq`` / ``"WCDMA",rssi,rscp,ecio`` / ``"GSM",rssi`` / ``"NOSERVICE"``.

    Returns None for no service. Values scaled per field-anchors.md 5.4; 255 is unknown.
    """
    c = "AT^HCSQ?"
    f = split_fields(payload(line, "^HCSQ:", command=c))
    mode = f[0].strip('"').upper()
    rules = table("scaling")["huawei"]["hcsq"]
    want = {"NOSERVICE": 1, "GSM": 2, "WCDMA": 4, "LTE": 5}.get(mode)
    if want is None or len(f) < want:
        raise ParseError(c, line, f"unknown sysmode {mode!r} or too few fields ({len(f)})")
    v = [to_int(x, command=c) for x in f[1:want]]
    if mode == "NOSERVICE":
        return None
    if mode == "GSM":
        return Cell(rat=Rat.GSM, rssi_dbm=scale(v[0], rules["rssi"]))
    if mode == "WCDMA":
        return Cell(rat=Rat.UMTS, rssi_dbm=scale(v[0], rules["rssi"]), rscp_dbm=scale(v[1], rules["rscp"]),
                    ecio_db=scale(v[2], rules["ecio"]))
    return Cell(rat=Rat.LTE, rssi_dbm=scale(v[0], rules["rssi"]), rsrp_dbm=scale(v[1], rules["rsrp"]),
                sinr_db=scale(v[2], rules["sinr"]), rsrq_db=scale(v[3], rules["rsrq"]))


@dataclass(frozen=True)
class SysInfoEx:
    """Parsed ``^SYSINFOEX``: service status (0 none, 2 valid…), roaming, sysmode and submode names."""

    srv_status: int | None
    srv_domain: int | None
    roaming: bool | None
    sysmode_name: str | None
    submode_name: str | None

    @property
    def technology(self) -> Technology:
        """Technology from the sysmode name; NONE without service."""
        if self.srv_status in (None, 0, 4):
            return Technology.NONE
        return _SUBMODE_TECH.get((self.sysmode_name or "").upper(), Technology.NONE)


def parse_sysinfoex(line: str) -> SysInfoEx:
    """``^SYSINFOEX:2,3,0,1,,6,"LTE",101,"LTE"`` (field-anchors.md 5.4)."""
    c = "AT^SYSINFOEX"
    f = split_fields(payload(line, "^SYSINFOEX:", command=c))
    if len(f) < 9:
        raise ParseError(c, line, f"expected 9 fields, got {len(f)}")
    roam = to_int(f[2], command=c)
    return SysInfoEx(to_int(f[0], command=c), to_int(f[1], command=c), None if roam is None else roam == 1,
                     clean(f[6]), clean(f[8]))


class HuaweiModem(GenericModem):
    """Huawei modules with a PCUI AT port (not HiLink): signal from ``^HCSQ``, mode from ``^SYSINFOEX``."""

    name = "huawei"
    counter_command = "AT^DSFLOWQRY"

    def measure_cells(self, raw: list[RawExchange], notes: list[str], op: Operator,
                      regs: dict[str, Registration]) -> tuple[list[Cell], Technology | None, float | None]:
        tech: Technology | None = None
        for ln in self.cmd("AT^SYSINFOEX", raw).prefixed("^SYSINFOEX:"):
            try:
                tech = parse_sysinfoex(ln).technology
            except ParseError as exc:
                notes.append(f"parse error: {exc}")
        cells: list[Cell] = []
        for ln in self.cmd("AT^HCSQ?", raw).prefixed("^HCSQ:"):
            try:
                cell = parse_hcsq(ln)
            except ParseError as exc:
                notes.append(f"parse error: {exc}")
                continue
            if cell is None:
                return [], Technology.NONE, None
            reg = regs.get("AT+CEREG?") if cell.rat == Rat.LTE else regs.get("AT+CREG?")
            upd: dict = {"mcc": op.mcc, "mnc": op.mnc}
            if reg is not None and reg.state.registered:
                upd.update(area_code=reg.area_code, cell_id=reg.cell_id)
                if cell.rat == Rat.LTE:
                    upd["node_id"], upd["local_cell_id"] = split_eci(reg.cell_id)
            cells.append(cell.model_copy(update=upd))
            notes.append("^HCSQ values are bin lower edges, like +CESQ (docs/device.md, binned values)")
        if not cells and tech is None:
            return super().measure_cells(raw, notes, op, regs)
        return cells, tech, None
