"""District summary for printed reports: an XLSX workbook and a static PNG map per district.

The workbook has the roll-up the regional office reports (district, settlements total, measured,
without mobile service, without mobile internet ...) for the best of operators and for each
operator, the settlement table, and the rule set with its version, period and sources. Headers are
in Kazakh and Russian. Each PNG shows one district's settlements coloured like the web map.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from .. import package_path
from ..safeio import write_bytes
from ..textsafe import xlsx_text_only
from ..mapping.classify import Classification, operator_names
from ..mapping.coverage_map import INTERNET_STYLE, MOBILE_STYLE
from ..mapping.exports import meta_table, settlements_table
from ..mapping.gazetteer import Gazetteer
from .common import save_png
from .coverage import SYNTHETIC_NOTE, Progress, classify_store
from .errors import ReportError

ROLLUP_HEADERS = {
    "district_name_kk": "Аудан (қаз.)", "district_name_ru": "Район (рус.)", "district_kato": "КАТО / КАТО",
    "settlements": "Елді мекендер барлығы / Всего НП", "measured": "Өлшенген / Измерено",
    "judged": "Бағаланған / Оценено", "thin_data": "Деректер аз / Мало данных",
    "unmeasured": "Өлшенбеген / Не измерено", "without_mobile": "Ұялы байланыссыз / Без мобильной связи",
    "only_2g": "Тек 2G / Только 2G", "without_internet": "Мобильді интернетсіз / Без мобильного интернета",
    "internet_below_standard": "Интернет нормадан төмен / Интернет ниже нормы",
    "internet_meets_standard": "Интернет нормаға сай / Интернет соответствует норме",
}


def _sheet_name(text: str) -> str:
    for ch in "[]:*?/\\":
        text = text.replace(ch, "-")
    return text[:31]


def rules_table(cl: Classification) -> pd.DataFrame:
    """Rule-set values with their sources, for the workbook."""
    r = cl.rules
    rows = [("rule set / ережелер / правила", r.version, r.status), ("valid from", r.valid_from, ""),
            ("period / кезең / период", cl.period.label,
             f"{cl.period.start.isoformat()} .. {cl.period.end.isoformat()}"),
            ("window days", r.window.days, r.window.source),
            ("min samples", r.evidence.min_samples, r.evidence.source),
            ("min speed tests", r.evidence.min_speedtests, r.evidence.source),
            ("min days", r.evidence.min_days, r.evidence.source),
            ("mobile min share", r.mobile.min_share, r.mobile.min_share_source),
            ("internet max share below", r.internet.max_share_below, r.internet.max_share_below_source),
            ("internet min level", r.internet.min_level, r.internet.min_level_source)]
    for tech, rule in r.mobile.signal.items():
        rows.append((f"signal {tech} {rule.metric} coverage min dBm",
                     "none" if rule.coverage_min_dbm is None else rule.coverage_min_dbm,
                     rule.source + (f" — {rule.uncertainty}" if rule.uncertainty else "")))
    for tech, mbps in r.internet.download_min_mbps.items():
        rows.append((f"download {tech} min Mbit/s", mbps, r.internet.sources[tech]))
    if r.internet.uncertainty:
        rows.append(("internet thresholds uncertainty", "", r.internet.uncertainty))
    return pd.DataFrame(rows, columns=["value / мән / значение", "setting", "source / дереккөз / источник"])


def write_district_workbook(cl: Classification, out: Path | str, notes: list[str] | None = None) -> dict[str, Any]:
    """Write the XLSX district summary of ``cl`` to ``out``."""
    out = Path(out)
    title = (f"Ұялы байланыс пен мобильді интернет аудандар бойынша / "
             f"Мобильная связь и мобильный интернет по районам — "
             f"{cl.period.label}; ережелер / правила {cl.rules.version}")
    sheets = {}
    buf = io.BytesIO()  # built in memory, then written all or nothing
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        scopes = ["all", *cl.operators]
        for scope in scopes:
            part = cl.districts[cl.districts["scope"] == scope][list(ROLLUP_HEADERS)].rename(columns=ROLLUP_HEADERS)
            name = _sheet_name("Барлығы - Итого" if scope == "all" else f"{operator_names().get(scope, scope)} {scope}")
            part.to_excel(xw, sheet_name=name, index=False, startrow=3)
            ws = xw.sheets[name]
            ws["A1"] = title
            ws["A2"] = ("Операторлардың үздігі / Лучший из операторов" if scope == "all"
                        else f"Оператор: {operator_names().get(scope, scope)} ({scope})")
            if notes:
                ws["N1"] = " · ".join(notes)
            ws["A3"] = ("Тек бағаланған елді мекендер есептеледі; деректері аздары бөлек / "
                        "Считаются только оценённые НП; с малым объёмом данных — отдельно")
            for col, width in zip("ABCDEFGHIJKLM", (22, 24, 12, 14, 11, 11, 12, 12, 14, 10, 16, 16, 16)):
                ws.column_dimensions[col].width = width
            sheets[name] = len(part)
        table = settlements_table(cl)
        table.to_excel(xw, sheet_name="Елді мекендер - НП", index=False)
        sheets["Елді мекендер - НП"] = len(table)
        rules_table(cl).to_excel(xw, sheet_name="Ережелер - Правила", index=False)
        meta_table(cl).to_excel(xw, sheet_name="Ережелер - Правила", index=False, startcol=4)
        sheets["Ережелер - Правила"] = len(rules_table(cl))
        xlsx_text_only(xw.book)  # data text starting with "=" stays text
    write_bytes(out, buf.getvalue(), what="workbook")
    return {"path": str(out), "sheets": sheets, "rule_set": cl.rules.version}


def write_district_pngs(cl: Classification, out_dir: Path | str, *, districts: Iterable[str] | None = None,
                        districts_path: Path | str | None = None, progress: Progress | None = None,
                        dpi: int = 110, notes: list[str] | None = None) -> list[str]:
    """One PNG map per district (``<district_kato>.png``): settlements coloured by best-of status."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from shapely.geometry import shape

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    src = Path(districts_path) if districts_path else package_path("mapping", "data", "districts.geojson")
    try:
        feats = json.loads(src.read_text(encoding="utf-8"))["features"]
    except (OSError, ValueError, KeyError) as exc:
        raise ReportError(f"{src}: cannot read district polygons ({exc})") from None
    wanted = set(districts) if districts else None
    regions = set(cl.districts["region_kato"])
    s = cl.settlements
    written = []
    chosen = [f for f in feats if (f["properties"]["district_kato"] in wanted if wanted is not None
                                   else f["properties"].get("region_kato") in regions)]
    for n, f in enumerate(chosen, 1):
        p = f["properties"]
        geom = shape(f["geometry"])
        fig, ax = plt.subplots(figsize=(8.27, 8.0), dpi=dpi)
        polys = getattr(geom, "geoms", [geom])
        for poly in polys:
            x, y = poly.exterior.xy
            ax.fill(x, y, color="#f3f1ea", zorder=0)
            ax.plot(x, y, color="#444", lw=1.2, ls="--" if p.get("approximate") else "-", zorder=1)
        part = s[(s["district_kato"] == p["district_kato"]) & s["lat"].notna()]
        for status, (fill, _kk, _ru) in MOBILE_STYLE.items():
            sel = part[part["mobile_status"] == status]
            if not len(sel):
                continue
            edge = [INTERNET_STYLE[i][0] if status != "unmeasured" else "#9e9e9e" for i in sel["internet_status"]]
            ax.scatter(sel["lon"], sel["lat"], s=[70 if k == "city" else 34 for k in sel["kind"]], c=fill,
                       edgecolors=edge, linewidths=1.6, alpha=0.95 if status != "unmeasured" else 0.6, zorder=3)
        bad = part[(part["mobile_status"] == "no_service") | (part["internet_status"] == "none")]
        for r in bad.itertuples(index=False):
            ax.annotate(r.name_kk, (r.lon, r.lat), xytext=(4, 3), textcoords="offset points", fontsize=7, zorder=4)
        roll = cl.districts[(cl.districts["scope"] == "all") & (cl.districts["district_kato"] == p["district_kato"])]
        stats = ""
        if len(roll):
            r0 = roll.iloc[0]
            stats = (f"НП/елді мекен: {r0.settlements} · өлшенген/измерено: {r0.measured} · "
                     f"байланыссыз/без связи: {r0.without_mobile} · интернетсіз/без интернета: {r0.without_internet}")
        ax.set_title(f"{p['name_kk']} / {p['name_ru']}\n{stats}", fontsize=10)
        handles = [Line2D([], [], marker="o", ls="", markerfacecolor=c, markeredgecolor="#555", markersize=7,
                          label=f"{kk} / {ru}" if kk != ru else kk) for c, kk, ru in MOBILE_STYLE.values()]
        handles += [Line2D([], [], marker="o", ls="", markerfacecolor="white", markeredgecolor=c, markeredgewidth=2,
                           markersize=7, label=f"{kk} / {ru}") for c, kk, ru in INTERNET_STYLE.values()]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.06), ncol=2, fontsize=7, frameon=False)
        note = "Шекарасы: 2024 ж. (geokz, CC BY 4.0) / Граница: 2024 г. (geokz, CC BY 4.0)"
        if p.get("approximate"):
            note += "; шамамен (үзік сызық) / приблизительная (пунктир)"
        if notes:
            fig.text(0.01, 0.965, " · ".join(notes), fontsize=8, color="#b71c1c", weight="bold")
        fig.text(0.01, 0.01, f"{note}\nЕрежелер / Правила: {cl.rules.version} · Кезең / Период: {cl.period.label}",
                 fontsize=6.5, color="#333")
        ax.set_aspect(1 / max(0.2, math.cos(math.radians(geom.centroid.y))))
        ax.set_xticks([])
        ax.set_yticks([])
        fig.subplots_adjust(left=0.03, right=0.97, top=0.92, bottom=0.2)
        path = out_dir / f"{p['district_kato']}.png"
        save_png(fig, path)
        written.append(str(path))
        if progress:
            progress("district maps", n, len(chosen))
    return written


def district_report_from_store(db: Path | str, out: Path | str, *, png_dir: Path | str | None = None,
                               period: str | None = None, operators: list[str] | None = None,
                               rules_path: Path | str | None = None, gazetteer: Gazetteer | None = None,
                               progress: Progress | None = None) -> dict[str, Any]:
    """Classify the store and write the XLSX district summary (and the PNG maps into ``png_dir``)."""
    cl, inputs = classify_store(db, period=period, operators=operators, rules_path=rules_path, gazetteer=gazetteer,
                                progress=progress)
    notes = [SYNTHETIC_NOTE.format(n=inputs.synthetic_sessions)] if inputs.synthetic_sessions else []
    result = write_district_workbook(cl, out, notes=notes)
    result["pngs"] = write_district_pngs(cl, png_dir, progress=progress, notes=notes) if png_dir else []
    result["synthetic_sessions"] = inputs.synthetic_sessions
    result["period"] = cl.period.label
    result["summary"] = cl.districts[cl.districts["scope"] == "all"].to_dict(orient="records")
    return result
