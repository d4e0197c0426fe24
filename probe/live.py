"""The live view of ``qamtu probe``: one screen (80x24) in Kazakh, Russian or English.

Per modem: operator, technology, RSRP/RSRQ/SINR on a colour scale, cell and band; then GPS state
and the current settlement, counts, the last speed test, and warnings (stale fix, modem lost,
disk nearly full). Labels and colour bands come from ``probe/data/live.toml``.
"""

from __future__ import annotations

import locale
import os
import shutil
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Optional

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from .. import package_path
from ..textsafe import printable
from .capture import CaptureState

LANGUAGES = ("kk", "ru", "en")
DISK_LOW_BYTES = 200 * 1024 * 1024


@lru_cache(maxsize=1)
def _table() -> dict:
    return tomllib.loads(package_path("probe", "data", "live.toml").read_text(encoding="utf-8"))


def labels(lang: str) -> dict[str, str]:
    """Labels in ``lang`` (kk, ru or en)."""
    return _table()["labels"][lang if lang in LANGUAGES else "en"]


def default_language() -> str:
    """kk or ru when the system locale says so, else en."""
    for value in (os.environ.get("LC_ALL"), os.environ.get("LC_MESSAGES"), os.environ.get("LANG"),
                  (locale.getlocale()[0] or "")):
        if value:
            code = value.split("_")[0].split(".")[0].lower()
            if code in LANGUAGES:
                return code
            if code == "kaz":
                return "kk"
    return "en"


def _colour(value: Optional[float], bands: str) -> str:
    if value is None:
        return "dim"
    for lower, colour in sorted(((float(k), v) for k, v in _table()[bands].items()), reverse=True):
        if value >= lower:
            return colour
    return "red"


def _fmt(v: Optional[float], unit: str = "") -> str:
    return "–" if v is None else f"{v:.0f}{unit}"


def render(state: CaptureState, lang: str, db_path: Path | None = None, gazetteer=None):
    """A rich renderable of the current state."""
    L = labels(lang)
    t = Table(title=f"{L['title']} · {L['session']} {state.session_id[:8]}", expand=False, pad_edge=False)
    for col in (L["operator"], L["technology"], "RSRP", "RSRQ", "SINR", L["cell"], L["band"], L["samples"]):
        t.add_column(col, no_wrap=True)
    warnings: list[str] = []
    for port, m in state.modems.items():
        r = m.reading
        cell = r.serving if r is not None else None
        # operator names and bands come from the modem (a rogue cell can broadcast anything): printed literally
        op_text = m.identity.sim_operator or (f"{r.operator_mcc}-{r.operator_mnc}"
                                              if r is not None and r.operator_mcc else "?")
        op = printable(op_text, markup=True, keep_lines=True)
        if m.status == "modem_lost":
            tech = Text(L["modem_lost"], style="bold red")
            warnings.append(printable(f"{L['modem_lost']}: {op_text} ({Path(port).name})", keep_lines=True))
        elif m.status == "no_service":
            tech = Text(L["no_service"], style="red")
        else:
            tech = Text(r.technology.value if r is not None else "…")
        rsrp = cell.rsrp_dbm if cell else None
        t.add_row(op, tech,
                  Text(_fmt(rsrp), style=_colour(rsrp, "rsrp_colours")),
                  Text(_fmt(cell.rsrq_db if cell else None)),
                  Text(_fmt(cell.sinr_db if cell else None),
                       style=_colour(cell.sinr_db if cell else None, "sinr_colours")),
                  "–" if not cell or cell.cell_id is None else f"{cell.cell_id:X}",
                  printable(cell.band or "–", markup=True, keep_lines=True) if cell else "–",
                  f"{m.samples}")
    fix = state.fix
    if fix is not None and fix.has_fix and not fix.stale:
        gps = Text(f"{L['gps']}: {fix.lat_deg:.5f}, {fix.lon_deg:.5f} {fix.mode.value} sat {fix.satellites or '–'}",
                   style="green")
    else:
        gps = Text(f"{L['gps']}: {L['stale_fix'] if fix is not None and fix.stale else L['no_fix']}"
                   + (f" ({printable(state.fix_reason, keep_lines=True)})" if state.fix_reason else ""), style="yellow")
        warnings.append(L["stale_fix"] if fix is not None and fix.stale else L["no_fix"])
    tag = state.settlement
    if tag is not None and tag.kato and gazetteer is not None:
        s = gazetteer.get(tag.kato)
        name = s.name_kk if lang == "kk" else s.name_ru if lang == "ru" else (s.name_latin or s.name_ru)
        place = printable(f"{name} ({tag.kato}, {tag.distance_m:.0f} m)", keep_lines=True)
    else:
        place = L["outside"]
    counts = Text(f"{L['samples']}: {state.samples}   {L['no_service']}: {state.no_service}   "
                  f"{L['modem_lost']}: {state.modem_lost}   {L['speedtests']}: {state.speedtests}")
    last = next((m.last_speedtest for m in state.modems.values() if m.last_speedtest), None)
    parts: list[RenderableType] = [t, gps, Text(f"{L['settlement']}: {place}"), counts]
    if last:
        parts.append(Text(f"{L['last_speedtest']}: {last['method']} "
                          f"{L['download']} {_fmt(last['download_mbps'])} / {L['upload']} "
                          f"{_fmt(last['upload_mbps'])} Mbit/s"
                          + ("" if last["valid"] else f" ({last.get('failure_cause') or 'invalid'})")))
    if db_path is not None:
        try:
            if shutil.disk_usage(Path(db_path).resolve().parent).free < DISK_LOW_BYTES:
                warnings.append(L["disk_low"])
        except OSError:
            pass
    if warnings:
        parts.append(Text(f"{L['warnings']}: " + "; ".join(dict.fromkeys(warnings)), style="bold yellow"))
    return Group(*parts)
