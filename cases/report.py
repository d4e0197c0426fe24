"""The 109-style table of complaints per district: received, closed on time, in progress, overdue.

Counted per complaint received in the period (each complainant is owed an answer), as of a day:

* ``closed_on_time``: answered on or before its due date (15 working days, or the extension);
* ``closed_late``: answered after it;
* ``in_progress``: not answered, due date not passed;
* ``overdue``: not answered, due date passed (a deemed refusal, APPK art. 91);
* ``on_time_share`` = closed_on_time / (closed_on_time + closed_late + overdue): open overdue
  complaints count against it, so a district cannot look good by not answering. Empty when
  nothing is closed or overdue yet.

The same counts by channel, operator and service (a complaint naming two operators counts for
each). Written as XLSX (sheets per breakdown, Kazakh and Russian headers) and PNG charts (kk, ru).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any, Optional

from ..safeio import atomic_output
from ..textsafe import xlsx_text_only
from .deadlines import compute
from .models import CHANNEL_LABELS, SERVICE_LABELS

COUNTS = ("received", "closed_on_time", "closed_late", "in_progress", "overdue")
HEAD = {
    "kk": {
        "district": "Аудан",
        "channel": "Арна",
        "operator": "Оператор",
        "service": "Қызмет",
        "received": "Түсті",
        "closed_on_time": "Мерзімінде жабылды",
        "closed_late": "Кешігіп жабылды",
        "in_progress": "Орындалуда",
        "overdue": "Мерзімі өтті",
        "on_time_share": "Мерзімінде үлесі",
        "total": "Барлығы",
        "unmatched": "Елді мекен анықталмаған",
        "title": "Өтініштер аудандар бойынша ({start} – {end}, {asof} жағдай бойынша)",
    },
    "ru": {
        "district": "Район",
        "channel": "Канал",
        "operator": "Оператор",
        "service": "Услуга",
        "received": "Поступило",
        "closed_on_time": "Закрыто в срок",
        "closed_late": "Закрыто с нарушением срока",
        "in_progress": "В работе",
        "overdue": "Просрочено",
        "on_time_share": "Доля в срок",
        "total": "Итого",
        "unmatched": "Населённый пункт не определён",
        "title": "Обращения по районам ({start} – {end}, на {asof})",
    },
}


def complaint_statuses(
    store, asof: date, cal, appeals: dict[str, Any], start: Optional[date] = None, end: Optional[date] = None
) -> list[dict[str, Any]]:
    """One row per complaint received in [start, end]: district, channel, operators, services, status."""
    out = []
    for r in store.query(
        "SELECT complaint_id, channel, received, district_kato, operators, services, extended_until, "
        "extension_decided, answered_on, demo FROM cases_complaints ORDER BY complaint_id"
    ):
        received = date.fromisoformat(r["received"])
        if (start and received < start) or (end and received > end) or received > asof:
            continue
        d = compute(
            cal,
            appeals,
            received,
            extended_until=date.fromisoformat(r["extended_until"]) if r["extended_until"] else None,
            extension_decided=date.fromisoformat(r["extension_decided"]) if r["extension_decided"] else None,
        )
        answered = (
            date.fromisoformat(r["answered_on"]) if r["answered_on"] and r["answered_on"] <= asof.isoformat() else None
        )
        st = d.status(asof, answered)
        status = {
            "answered_on_time": "closed_on_time",
            "answered_late": "closed_late",
            "overdue": "overdue",
            "due": "in_progress",
        }[st]
        out.append(
            {
                "complaint_id": r["complaint_id"],
                "channel": r["channel"],
                "district_kato": r["district_kato"],
                "operators": json.loads(r["operators"]) or ["?"],
                "services": json.loads(r["services"]) or ["?"],
                "status": status,
                "demo": bool(r["demo"]),
            }
        )
    return out


def _table(rows: list[dict[str, Any]], key) -> list[dict[str, Any]]:
    groups: dict[Any, dict[str, int]] = {}
    for r in rows:
        keys = key(r)
        for k in (keys if isinstance(keys, list) else [keys]):
            g = groups.setdefault(k, dict.fromkeys(COUNTS, 0))
            g["received"] += 1
            g[r["status"]] += 1
    out = []
    for k in sorted(groups, key=lambda x: (x is None, str(x))):
        out.append({"key": k, **groups[k], "on_time_share": _share(groups[k])})
    total = {c: sum(g[c] for g in groups.values()) for c in COUNTS}
    out.append({"key": "__total__", **total, "on_time_share": _share(total)})
    return out


def _share(g: dict[str, int]) -> Optional[float]:
    den = g["closed_on_time"] + g["closed_late"] + g["overdue"]
    return None if den == 0 else round(g["closed_on_time"] / den, 4)


def district_report(
    store,
    asof: date,
    cal,
    appeals: dict[str, Any],
    *,
    gazetteer,
    start: Optional[date] = None,
    end: Optional[date] = None,
) -> dict[str, Any]:
    """The tables as JSON-ready dicts: ``district``, ``channel``, ``operator``, ``service``."""
    rows = complaint_statuses(store, asof, cal, appeals, start, end)
    names = {s.district_kato: (s.district_name_kk, s.district_name_ru) for s in gazetteer}
    tables = {
        "district": _table(rows, lambda r: r["district_kato"]),
        "channel": _table(rows, lambda r: r["channel"]),
        "operator": _table(rows, lambda r: r["operators"]),
        "service": _table(rows, lambda r: r["services"]),
    }
    for r in tables["district"]:
        k = r["key"]
        r["name_kk"], r["name_ru"] = (
            names.get(k, (k, k))
            if k not in (None, "__total__")
            else (
                (HEAD["kk"]["unmatched"], HEAD["ru"]["unmatched"])
                if k is None
                else (HEAD["kk"]["total"], HEAD["ru"]["total"])
            )
        )
    return {
        "asof": asof.isoformat(),
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "complaints": len(rows),
        "demo": any(r["demo"] for r in rows),
        "tables": tables,
        "rule": "on_time_share = closed_on_time / (closed_on_time + closed_late + overdue)",
    }


def _label(kind: str, key: Any, lang: str, row: dict[str, Any]) -> str:
    i = 0 if lang == "kk" else 1
    if key == "__total__":
        return HEAD[lang]["total"]
    if kind == "district":
        return row[f"name_{lang}"] + (f" ({key})" if key else "")
    if kind == "channel":
        return CHANNEL_LABELS.get(key, (key, key))[i]
    if kind == "service":
        return SERVICE_LABELS.get(key, (key, key))[i]
    return str(key)


def write_report(report: dict[str, Any], out: Path | str, png_dir: Path | str | None = None) -> dict[str, Path]:
    """XLSX (one sheet per breakdown, kk and ru headers) and PNG charts per language; returns the files."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    wb.remove(wb.active)
    demo = "ДЕМО / DEMO: " if report["demo"] else ""
    for kind, rows in report["tables"].items():
        ws = wb.create_sheet(kind)
        ws.append(
            [
                demo
                + HEAD["kk"]["title"].format(
                    start=report["start"] or "…", end=report["end"] or "…", asof=report["asof"]
                )
            ]
        )
        ws.append(
            [
                demo
                + HEAD["ru"]["title"].format(
                    start=report["start"] or "…", end=report["end"] or "…", asof=report["asof"]
                )
            ]
        )
        for lang in ("kk", "ru"):
            ws.append([HEAD[lang][kind]] + [HEAD[lang][c] for c in COUNTS] + [HEAD[lang]["on_time_share"]])
            ws.cell(ws.max_row, 1).font = Font(bold=True)
        for r in rows:
            ws.append(
                [f"{_label(kind, r['key'], 'kk', r)} / {_label(kind, r['key'], 'ru', r)}"]
                + [r[c] for c in COUNTS]
                + [r["on_time_share"]]
            )
            ws.cell(ws.max_row, len(COUNTS) + 2).number_format = "0.0%"
        ws.append([])
        ws.append([report["rule"]])
    xlsx_text_only(wb)
    with atomic_output(out, what="district table") as tmp:  # all or nothing, umask applied
        wb.save(tmp)
    files = {"xlsx": out}
    png_dir = Path(png_dir) if png_dir else out.with_name(out.stem + "-charts")
    png_dir.mkdir(parents=True, exist_ok=True)
    for lang in ("kk", "ru"):
        files[f"png_{lang}"] = _chart(report, lang, png_dir / f"districts_{lang}.png")
    return files


def _chart(report: dict[str, Any], lang: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    from .. import package_path
    from ..reports.common import save_png

    for f in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        font_manager.fontManager.addfont(str(package_path("reports", "data", "fonts", f)))
    rows = [r for r in report["tables"]["district"] if r["key"] != "__total__"]
    h = HEAD[lang]
    colours = {"closed_on_time": "#2ca02c", "closed_late": "#ff7f0e", "in_progress": "#1f77b4", "overdue": "#d62728"}
    with plt.rc_context({"font.family": "DejaVu Sans"}):
        fig, ax = plt.subplots(figsize=(8, max(2.5, 0.45 * len(rows) + 1.5)), dpi=130)
        labels = [_label("district", r["key"], lang, r) for r in rows]
        left = [0] * len(rows)
        for c, colour in colours.items():
            vals = [r[c] for r in rows]
            ax.barh(labels, vals, left=left, color=colour, label=h[c])
            left = [a + b for a, b in zip(left, vals)]
        for i, r in enumerate(rows):
            share = "—" if r["on_time_share"] is None else f"{100 * r['on_time_share']:.0f} %"
            ax.annotate(
                f"{h['on_time_share']}: {share}",
                (left[i], i),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
            )
        ax.invert_yaxis()
        ax.set_xlabel(h["received"])
        title = h["title"].format(start=report["start"] or "…", end=report["end"] or "…", asof=report["asof"])
        ax.set_title(("ДЕМО: " if report["demo"] else "") + title, fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
        ax.set_xlim(0, max(left + [1]) * 1.35)
        fig.tight_layout()
        save_png(fig, path)
    return path
