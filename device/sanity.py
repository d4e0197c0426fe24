"""Parse-time sanity of readings: identifiers in their legal ranges, numbers finite.

Real firmware (and a rogue base station) can print anything: a 16-hex-digit cell id, a 20-digit
EARFCN, an RSRP of 400 digits that parses to infinity. Such a value becomes None and the reading
gets a note naming the field, so the sample is still recorded (issue 18 items 3 and 4). Ranges per
technology are in ``data/identifiers.toml`` with their 3GPP sources.
"""

from __future__ import annotations

import math

from .models import Cell, FixMode, GnssFix
from .values import table

_FLOATS = ("bandwidth_mhz", "rssi_dbm", "rsrp_dbm", "rsrq_db", "sinr_db", "rscp_dbm", "ecio_db")


def check_cell(cell: Cell, notes: list[str]) -> Cell:
    """``cell`` with out-of-range identifiers and non-finite values set to None (each noted)."""
    ranges = table("identifiers").get(cell.rat.value, {})
    update: dict = {}
    for name, (lo, hi) in ranges.items():
        v = getattr(cell, name)
        if v is not None and not lo <= v <= hi:
            update[name] = None
            _add(notes, f"{cell.rat.value} {name} {str(v)[:24]} outside {lo}..{hi}: recorded as null")
    if "cell_id" in update:  # derived from the cell id
        update.update(node_id=None, local_cell_id=None)
    for name in _FLOATS:
        v = getattr(cell, name)
        if v is not None and not math.isfinite(v):
            update[name] = None
            _add(notes, f"{cell.rat.value} {name} non-finite ({v!r}): recorded as null")
    return cell.model_copy(update=update) if update else cell


def check_cells(cells: list[Cell], notes: list[str]) -> list[Cell]:
    """:func:`check_cell` on each."""
    return [check_cell(c, notes) for c in cells]


#: largest plausible values for a GNSS fix (WGS84 ranges; altitude and speed bound a ground vehicle's receiver)
_FIX_LIMITS = {"alt_m": (-1000.0, 20000.0), "hdop": (0.0, 100.0), "speed_mps": (0.0, 1000.0),
               "course_deg": (0.0, 360.0)}


def check_fix(fix: GnssFix) -> GnssFix:
    """``fix`` with non-finite or impossible values removed, each with a note; a position outside
    WGS84 (|lat| > 90, |lon| > 180, non-finite) is refused as a fix (mode none, with the reason)."""
    notes = list(fix.notes)
    update: dict = {}
    for name, (lo, hi) in _FIX_LIMITS.items():
        v = getattr(fix, name)
        if v is not None and (not math.isfinite(v) or not lo <= v <= hi):
            update[name] = None
            _add(notes, f"GNSS {name} {v!r} not finite or outside {lo:g}..{hi:g}: recorded as null")
    lat, lon = fix.lat_deg, fix.lon_deg
    if lat is not None or lon is not None:
        bad = lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)) \
            or not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0)
        if bad:
            update.update(lat_deg=None, lon_deg=None, alt_m=None, speed_mps=None, course_deg=None, mode=FixMode.NONE)
            _add(notes, f"GNSS position {lat!r}, {lon!r} outside WGS84 (|lat| <= 90, |lon| <= 180): not a fix")
    if not update:
        return fix
    update["notes"] = notes
    return fix.model_copy(update=update)


def _add(notes: list[str], text: str) -> None:
    if text not in notes:
        notes.append(text)
