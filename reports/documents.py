"""The act of results, the draft protocol under art. 637 and the order, in Kazakh and Russian.

Each document is rendered from a DOCX template the office can edit in Word
(``reports/data/templates/{act,protocol,order}_{kk,ru}.docx``, placeholders ``{{ name }}``),
then laid out as PDF with the bundled DejaVu Sans font (:mod:`qamtu.reports.pdf`). Documents are
refused when an instrument has no valid metrological verification on a measurement date, or when
a modem that measured is not among the inspection's registered instruments. The protocol and the
order are made only when the findings establish a violation.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Optional

from .. import package_path
from .common import save_png
from .document_context import DOC_KINDS, LANGS, DocumentContext, DocumentError, build_context, strings, \
    templates_dir
from ..safeio import atomic_dir
from .findings import compute_findings
from .inspections import Inspection, get_inspection
from .registers import Registers

__all__ = ["DOC_KINDS", "LANGS", "DocumentError", "check_instruments", "generate_documents", "map_excerpt",
           "render_docx", "templates_dir"]


# ------------------------------------------------------------------------------------ instruments
def check_instruments(store, insp: Inspection, registers: Registers) -> list[dict[str, Any]]:
    """Rows for the instrument table; raises :class:`DocumentError` listing every verification problem."""
    problems: list[str] = []
    listed = {ident: registers.instrument(ident) for ident in insp.instruments}
    by_imei = {ins.imei: ident for ident, ins in listed.items() if ins.imei}
    used: dict[str, set[str]] = {}
    all_days: set[str] = set()
    for df in (store.samples_frame(inspection=insp.inspection_id),
               store.speedtests_frame(inspection=insp.inspection_id)):
        for imei, t in zip(df["imei"], df["time_utc"]):
            day = t.date().isoformat()
            all_days.add(day)
            used.setdefault(imei or "", set()).add(day)
    for imei, days in sorted(used.items()):
        if imei and imei not in by_imei:
            problems.append(f"a modem with IMEI {imei} measured on {', '.join(sorted(days))} but is not among the "
                            f"inspection's instruments ({', '.join(insp.instruments)}) "
                            f"in {registers.paths['instruments']}")
    for ident, ins in listed.items():
        days = used.get(ins.imei, set()) if ins.imei else all_days
        for day in sorted(days):
            why = ins.problem_on(day)
            if why:
                problems.append(f"instrument {ident} ({ins.model}, serial {ins.serial}) {why}")
                break
    if problems:
        raise DocumentError("documents refused: " + "; ".join(problems)
                            + f" (register: {registers.paths['instruments']})")
    return [{"id": ident, "name": ins.name, "model": ins.model,
             "serial": ins.serial + (f" / IMEI {ins.imei}" if ins.imei else ""),
             "certificate": ins.verification_certificate, "cert_date": ins.verification_date,
             "valid_until": ins.verification_valid_until, "demo": ins.demo} for ident, ins in listed.items()]


# ------------------------------------------------------------------------------------ map excerpt
def map_excerpt(store, insp: Inspection, findings: dict, settlement, out: Path, lang: str) -> Path:
    """A static PNG of the inspection's samples and speed tests around the settlement point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    for f in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        font_manager.fontManager.addfont(str(package_path("reports", "data", "fonts", f)))
    thresholds = {r["technology"]: r["threshold_mbps"] for r in findings["indicators"]}
    samples = store.samples_frame(inspection=insp.inspection_id)
    tests = store.speedtests_frame(inspection=insp.inspection_id)
    words = strings(lang)["map_legend"]
    with plt.rc_context({"font.family": "DejaVu Sans"}):
        fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=150)
        s = samples.dropna(subset=["lat", "lon"])
        ax.scatter(s["lon"], s["lat"], s=4, c="#9aa5b1", label=f"{words[0]} ({len(s)})", zorder=1)
        t = tests.dropna(subset=["lat", "lon"])
        if len(t):
            thr = t["technology"].map(thresholds)
            below = t["valid"] & (t["download_mbps"] < thr)
            above = t["valid"] & (t["download_mbps"] >= thr)
            failed = ~t["valid"]
            for mask, colour, marker, word in ((below, "#d62728", "v", words[1]), (above, "#2ca02c", "^", words[2]),
                                                (failed, "#000000", "x", words[3])):
                if mask.any():
                    ax.scatter(t.loc[mask, "lon"], t.loc[mask, "lat"], s=28, c=colour, marker=marker,
                               label=f"{word} ({int(mask.sum())})", zorder=3)
        if settlement is not None and settlement.located:
            ax.plot([settlement.lon], [settlement.lat], marker="*", markersize=14, color="#1f77b4", zorder=2)
            name = settlement.name_kk if lang == "kk" else settlement.name_ru
            ax.annotate(f"{name} ({insp.kato})", (settlement.lon, settlement.lat), xytext=(6, 6),
                        textcoords="offset points", fontsize=9, weight="bold")
        import math

        lat0 = (settlement.lat if settlement is not None and settlement.located
                else (s["lat"].mean() if len(s) else 43.0))
        ax.set_aspect(1 / max(0.2, math.cos(math.radians(lat0))))
        ax.ticklabel_format(useOffset=False, style="plain")
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.yaxis.set_major_locator(MaxNLocator(5))
        ax.set_xlabel("lon, °")
        ax.set_ylabel("lat, °")
        ax.grid(True, linewidth=0.3)
        ax.legend(loc="lower right", fontsize=7, framealpha=0.85)
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        metres = 100 * max(1, round((x1 - x0) * 111_320 * math.cos(math.radians(lat0)) / 500))
        dx = metres / (111_320 * math.cos(math.radians(lat0)))
        bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
        ax.plot([bx, bx + dx], [by, by], color="black", linewidth=2)
        ax.annotate(f"{metres} m", (bx + dx / 2, by), xytext=(0, 4), textcoords="offset points", ha="center",
                    fontsize=7)
        ax.set_title(f"{insp.inspection_id} · {insp.operator} · WGS84", fontsize=9)
        fig.tight_layout()
        save_png(fig, out)
    return out


# ------------------------------------------------------------------------------------ rendering
def render_docx(template: Path, ctx: DocumentContext | dict[str, Any], image: Optional[Path], out: Path) -> Path:
    """Render one DOCX template with the values of ``ctx`` and the map excerpt ``image`` into ``out``."""
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage
    from jinja2 import StrictUndefined, TemplateError
    from jinja2.sandbox import SandboxedEnvironment

    try:
        tpl = DocxTemplate(str(template))
        values = ctx.model_dump() if isinstance(ctx, DocumentContext) else dict(ctx)
        values["map_image"] = InlineImage(tpl, str(image), width=Mm(160)) if image else ""
        tpl.render(values, jinja_env=SandboxedEnvironment(undefined=StrictUndefined), autoescape=True)
        tpl.save(str(out))
    except TemplateError as exc:
        raise DocumentError(f"{template}: template error: {exc} (placeholders: see docs/inspections.md)") from None
    except Exception as exc:  # a damaged DOCX, not a zip, unreadable
        if isinstance(exc, DocumentError):
            raise
        raise DocumentError(f"{template}: cannot render the template ({type(exc).__name__}: {exc})") from None
    return out


def generate_documents(store, inspection_id: str, out_dir: Path | str, *, rules, registers: Registers, gazetteer=None,
                       langs: tuple[str, ...] = LANGS, issue_date: Optional[date] = None,
                       deadline_days: Optional[int] = None, templates: Optional[Path | str] = None,
                       findings: Optional[dict] = None) -> dict[str, Path]:
    """Write the documents of one inspection into ``out_dir``; returns file name -> path.

    All files are written to a temporary folder first and moved into ``out_dir`` only when every
    one of them was made, so a refusal or an error leaves nothing half-written.
    """
    from .pdf import docx_to_pdf

    for lang in langs:
        if lang not in LANGS:
            raise DocumentError(f"--lang {lang!r}: choose from {', '.join(LANGS)}")
    insp = get_inspection(store, inspection_id)
    findings = findings or compute_findings(store, inspection_id, rules, registers)
    instruments = check_instruments(store, insp, registers)
    order = registers.procedure["order"]
    days = order["default_deadline_days"] if deadline_days is None else int(deadline_days)
    if days < order["min_deadline_days"]:
        raise DocumentError(f"--deadline-days {days}: the order's deadline must be at least "
                            f"{order['min_deadline_days']} calendar days ({order['source']})")
    issue_date = issue_date or datetime.now(timezone.utc).date()
    settlement = None
    if gazetteer is not None:
        try:
            settlement = gazetteer.get(insp.kato)
        except Exception:
            settlement = None
    kinds = ["act"] + (["protocol", "order"] if findings["verdict"] == "violation" else [])
    tdir = Path(templates) if templates else templates_dir()
    out = Path(out_dir)
    written: dict[str, Path] = {}
    with atomic_dir(out, what="documents") as work:  # every file, or none; umask applied
        for lang in langs:
            png = map_excerpt(store, insp, findings, settlement, work / f"map_{lang}.png", lang)
            written[png.name] = png
            for kind in kinds:
                ctx = build_context(kind, insp, findings, registers, instruments, settlement, lang, issue_date, days)
                template = tdir / f"{kind}_{lang}.docx"
                if not template.exists():
                    hint = (f": the --templates folder needs {kind}_{lang}.docx; omit --templates for the bundled ones"
                            if templates else "")
                    raise DocumentError(f"{template}: template not found{hint}")
                docx = render_docx(template, ctx, png, work / f"{kind}_{lang}.docx")
                pdf = docx_to_pdf(docx, work / f"{kind}_{lang}.pdf", footer=f"{insp.inspection_id} · {kind}_{lang}")
                written[docx.name], written[pdf.name] = docx, pdf
    return {name: out / name for name in written}
