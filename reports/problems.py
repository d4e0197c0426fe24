"""The five-year problem picture from a store: map, XLSX workbook, PNG charts, and the demo example.

``qamtu map problems`` and ``qamtu report problems`` call this::

    from qamtu.reports.problems import problem_map_from_store, problem_report_from_store
    problem_map_from_store("qamtu.db", "problems.html", years="2023-2027", offline=True)
    problem_report_from_store("qamtu.db", "problems.xlsx", years="2023-2027")

Measurements: the coverage classification (issue 6) of each calendar year, read with
:func:`qamtu.reports.coverage.classify_store`. Survey observations and remediation plans: the
store's ``survey_observations`` and ``remediation_plans`` tables (:mod:`qamtu.reports.surveys`).
"""

from __future__ import annotations

import io
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import pandas as pd

from ..mapping.gazetteer import Gazetteer
from ..mapping.problem_map import build_problem_map
from ..mapping.problems import (DIMENSION_LABELS, DIMENSIONS, DISPLAY_LABELS, PLAN_STATE_LABELS, PRIORITY_FORMULA,
                                PRIORITY_FORMULA_KK_RU, ProblemPicture, build_problems, load_problem_rules,
                                parse_years)
from ..safeio import atomic_output, write_bytes
from ..textsafe import csv_row, xlsx_text_only
from ..probe.store import Store, sample_store
from .common import save_png
from .coverage import SYNTHETIC_NOTE, classify_store
from .errors import ReportError
from .surveys import plans_frame, survey_frame

if TYPE_CHECKING:
    from ..probe.synthetic import Condition

Progress = Callable[[str, int, int], None]
DEMO_NOTE = "ДЕМО: ойдан шығарылған мысал деректер / ДЕМО: вымышленные данные для примера"
BOUNDARY_NOTE = ("Аудан шекаралары: 2024 ж. (geokz, CC BY 4.0); Сауран мен Кентау арасы шамамен / "
                 "Границы районов: 2024 г. (geokz, CC BY 4.0); граница Саурана и Кентау приблизительная")


def picture_from_store(db: Path | str | Store, years: str | list[int], *, gazetteer: Gazetteer | None = None,
                       rules_path: Path | str | None = None, problem_rules_path: Path | str | None = None,
                       progress: Progress | None = None, complaints: pd.DataFrame | None = None) -> ProblemPicture:
    """Classify each year of ``years`` from the store, read surveys and plans, build the picture.

    ``complaints``: residents' complaints as observations (kato, year, dimension, complaints), from
    :func:`qamtu.cases.problems.complaint_observations` (the caller reads them: reports does not import cases)."""
    year_list = parse_years(years) if isinstance(years, str) else sorted({int(y) for y in years})
    g = gazetteer or Gazetteer.load()
    ctx = nullcontext(db) if not isinstance(db, (str, Path)) else sample_store(db, read_only=True)
    measured: dict[int, pd.DataFrame] = {}
    synthetic = 0
    with ctx as store:
        for n, y in enumerate(year_list, 1):
            cl, inputs = classify_store(store, period=str(y), rules_path=rules_path, gazetteer=g)
            measured[y] = cl.settlements
            synthetic = max(synthetic, inputs.synthetic_sessions)
            if progress:
                progress("classifying years", n, len(year_list))
        surveys, plans = survey_frame(store), plans_frame(store)
        coverage_version = cl.rules.version
    # only the selected regions (--region): records of other regions' settlements are left out
    prefixes = list(g.region_prefixes)
    surveys = surveys[surveys["kato"].astype(str).str[:2].isin(prefixes)]
    plans = plans[plans["kato"].astype(str).str[:2].isin(prefixes)]
    notes = []
    if synthetic:
        notes.append(SYNTHETIC_NOTE.format(n=synthetic))
    if any(str(f).startswith("demo-") for f in [*surveys["source_file"], *plans["source_file"]]):
        notes.append(DEMO_NOTE)
    pic = build_problems(g, year_list, measured=measured, surveys=surveys[surveys["year"].isin(year_list)],
                         plans=plans, rules=load_problem_rules(problem_rules_path), notes=notes,
                         complaints=None if complaints is None else complaints[complaints["year"].isin(year_list)])
    pic.coverage_rules = coverage_version  # type: ignore[attr-defined]
    return pic


def problem_map_from_store(db: Path | str | Store, out: Path | str, *, years: str | list[int] = "2023-2027",
                           offline: bool = False, gazetteer: Gazetteer | None = None,
                           rules_path: Path | str | None = None, problem_rules_path: Path | str | None = None,
                           progress: Progress | None = None, complaints: pd.DataFrame | None = None) -> dict[str, Any]:
    """Build the picture from the store and write the problem map."""
    g = gazetteer or Gazetteer.load()
    pic = picture_from_store(db, years, gazetteer=g, rules_path=rules_path, problem_rules_path=problem_rules_path,
                             progress=progress, complaints=complaints)
    result = build_problem_map(pic, g, out, offline=offline)
    result["summary"] = region_totals(pic)
    result["notes"] = pic.notes
    return result


def region_totals(pic: ProblemPicture) -> list[dict[str, Any]]:
    """Per year: settlements with a problem per dimension and in any, overdue, resolved (the region rows)."""
    levels = set(pic.districts["level"])
    d = pic.districts[pic.districts["level"] == ("total" if "total" in levels else "region")]
    out = []
    for y in pic.years:
        part = d[d["year"] == y].set_index("dimension")
        row: dict[str, Any] = {"year": y}
        for dim in (*DIMENSIONS, "any"):
            row[dim] = int(part.loc[dim, "problem"]) if dim in part.index else 0
        row["overdue"] = int(part.loc["any", "overdue"]) if "any" in part.index else 0
        row["resolved"] = int(part.loc["any", "resolved"]) if "any" in part.index else 0
        out.append(row)
    return out


# --------------------------------------------------------------------------- workbook
def _status_text(row) -> str:
    kk, ru = DISPLAY_LABELS[row.display]
    if row.display == "overdue":
        kk, ru = "Мерзімі өтті", "Просрочено"
    text = f"{kk} / {ru}"
    extra = []
    if not pd.isna(row.problem_since):
        extra.append(f"{int(row.problem_since)} ж. бастап / с {int(row.problem_since)} г.")
    if not pd.isna(row.planned_year):
        extra.append(f"жоспар / план {int(row.planned_year)}")
    if row.display == "resolved" and not pd.isna(row.resolved_year):
        extra.append(f"шешілді / решено {int(row.resolved_year)}" + ("" if row.resolved_on_time in (True, None)
                                                                     else " (кеш / с опозданием)"))
    return text + (f" ({'; '.join(extra)})" if extra else "")


YEAR_HEADERS = {
    "priority": "Басымдық / Приоритет", "kato": "ҚАТО / КАТО", "name_kk": "Атауы (қаз.)", "name_ru": "Название (рус.)",
    "district_name_kk": "Аудан (қаз.)", "district_name_ru": "Район (рус.)", "population": "Халқы / Население",
    "population_estimated": "Халқы бағаланған / Население оценено",
    "problems": "Мәселелі бағыттар / Направлений с проблемой",
    "overdue": "Мерзімі өткен / Просрочено", "years_unresolved": "Шешілмеген жылдар / Лет без решения",
}
PLAN_HEADERS = {
    "priority": "Басымдық / Приоритет", "kato": "ҚАТО / КАТО", "name_kk": "Атауы (қаз.)", "name_ru": "Название (рус.)",
    "district_name_kk": "Аудан (қаз.)", "district_name_ru": "Район (рус.)", "dimension_label": "Бағыт / Направление",
    "planned_year": "Жоспарланған жыл / Плановый год", "programme": "Бағдарлама / Программа",
    "responsible": "Жауапты / Ответственный", "state_label": "Жағдайы / Состояние",
    "state_year": "Жағдай жылы / Год состояния", "status_label": "Сол жылы / В тот год",
    "problem_since": "Мәселе басталған жыл / Проблема с", "resolved_year": "Шешілген жыл / Решено в",
    "population": "Халқы / Население", "population_estimated": "Халқы бағаланған / Население оценено",
    "note": "Ескерту / Примечание",
}
DISTRICT_HEADERS = {"district_kato": "ҚАТО / КАТО", "district_name_kk": "Аудан (қаз.)",
                    "district_name_ru": "Район (рус.)", "year": "Жыл / Год"}


def _dim_label(d: str) -> str:
    kk, ru = (DIMENSION_LABELS.get(d, ("Кез келген", "Любое")) if d != "any"
              else ("Кез келген бағыт", "Любое направление"))
    return kk if kk == ru else f"{kk} / {ru}"


def _yes_no(v) -> str:
    return "иә / да" if bool(v) else "жоқ / нет"


def year_table(pic: ProblemPicture, year: int) -> pd.DataFrame:
    """One year's sheet: every settlement, sorted by priority, status text per dimension."""
    s = pic.settlements[pic.settlements["year"] == year].copy()
    c = pic.cells[pic.cells["year"] == year]
    texts = {(r.kato, r.dimension): _status_text(r) for r in c.itertuples(index=False)}
    for d in DIMENSIONS:
        s[d] = [texts.get((k, d), "") for k in s["kato"]]
    s["population_estimated"] = s["population_estimated"].map(_yes_no)
    cols = ["priority", "kato", "name_kk", "name_ru", "district_name_kk", "district_name_ru", *DIMENSIONS, "problems",
            "overdue", "years_unresolved", "population", "population_estimated"]
    headers = {**YEAR_HEADERS, **{d: _dim_label(d) for d in DIMENSIONS}}
    return s[cols].rename(columns=headers)


def plan_table(pic: ProblemPicture) -> pd.DataFrame:
    p = pic.plans.copy()
    p["dimension_label"] = p["dimension"].map(_dim_label)
    p["state_label"] = [" / ".join(PLAN_STATE_LABELS.get(x, (x, x))) for x in p["state"]]
    p["status_label"] = [" / ".join(DISPLAY_LABELS.get(x, (x, x))) for x in p["status_last_year"]]
    p["population_estimated"] = p["population_estimated"].map(lambda v: "" if v is None else _yes_no(v))
    return p[list(PLAN_HEADERS)].rename(columns=PLAN_HEADERS)


def district_table(pic: ProblemPicture) -> pd.DataFrame:
    d = pic.districts
    wide = d.pivot_table(index=["district_kato", "district_name_kk", "district_name_ru", "year"], columns="dimension",
                         values="problem", aggfunc="sum").reset_index()
    anyrows = d[d["dimension"] == "any"].set_index(["district_kato", "year"])
    for col in ("overdue", "resolved", "unknown", "settlements"):
        wide[f"any_{col}"] = [int(anyrows.loc[(k, y), col]) for k, y in zip(wide["district_kato"], wide["year"])]
    order = {k: i for i, k in enumerate(dict.fromkeys(d["district_kato"]))}  # districts, region, total
    wide = wide.assign(_o=wide["district_kato"].map(order)).sort_values(["year", "_o"]).drop(columns="_o")
    headers = {**DISTRICT_HEADERS, **{dim: f"{_dim_label(dim)}: мәселе / проблема" for dim in (*DIMENSIONS, "any")},
               "any_overdue": "Мерзімі өткен НП / НП с просрочкой", "any_resolved": "Шешілген НП / НП с решением",
               "any_unknown": "Деректері жоқ НП / НП без данных", "any_settlements": "Елді мекендер / НП"}
    cols = ["district_kato", "district_name_kk", "district_name_ru", "year", *DIMENSIONS, "any", "any_overdue",
            "any_resolved", "any_unknown", "any_settlements"]
    return wide[cols].rename(columns=headers)


def rules_table(pic: ProblemPicture) -> pd.DataFrame:
    r = pic.rules
    rows = [("problem rules / ережелер / правила", r.version, Path(r.path).name),
            ("coverage rule set (internet, mobile)", getattr(pic, "coverage_rules", ""), "docs/coverage.md"),
            ("years / жылдар / годы", f"{pic.years[0]}–{pic.years[-1]}", ""),
            ("priority (en)", r.formula, PRIORITY_FORMULA),
            ("приоритет / басымдық", r.formula, PRIORITY_FORMULA_KK_RU)]
    for dim in ("mobile", "internet"):
        m = r.measured[dim]
        rows.append((f"{dim}: measured problem", ", ".join(m["problem"]),
                     "judged best-of-operators status of that calendar year; thin data = unknown"))
    for item in r.survey.values():
        rows.append((f"survey {item.name} -> {item.dimension}", f"yes: {item.yes}; no: {item.no}",
                     f"{item.label_kk} / {item.label_ru}"))
    for dim, how in r.combine.items():
        rows.append((f"combine {dim}", how, "any_problem: a problem wins; any_service: a working service wins"))
    rows += [("problem since", "first year of the current problem run", "an unknown year does not break a run"),
             ("planned fix year", "earliest plan after the previous resolution", "docs/problems.md"),
             ("overdue", "problem and planned year < this year", ""),
             ("resolved", "no problem after a problem in the years shown", "with the year it was first seen fixed"),
             ("boundaries", BOUNDARY_NOTE, "mapping/data/districts.geojson")]
    for n in pic.notes:
        rows.append(("note", n, ""))
    return pd.DataFrame(rows, columns=["setting / параметр", "value / мән / значение", "source / дереккөз / источник"])


def write_problem_workbook(pic: ProblemPicture, out: Path | str, *, charts: list[Path] | None = None) -> dict[str, Any]:
    """XLSX: a sheet per year, the plan sheet sorted by priority, district totals (with the charts),
    and the rules sheet. Headings in Kazakh and Russian."""
    out = Path(out)
    title = (f"Байланысы нашар елді мекендер / Населённые пункты с плохой связью {pic.years[0]}–{pic.years[-1]}; "
             f"ережелер / правила {pic.rules.version}")
    sheets: dict[str, int] = {}
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)

    def put(df: pd.DataFrame, name: str, subtitle: str | None, widths: tuple[int, ...]) -> Any:
        ws = wb.create_sheet(name)
        if subtitle is not None:
            ws.append([title])
            ws.append([subtitle])
            ws.append([" · ".join([*pic.notes, PRIORITY_FORMULA_KK_RU])])
            ws["A1"].font = bold
        ws.append([str(c) for c in df.columns])
        head = ws.max_row
        for cell in ws[head]:
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for values in df.itertuples(index=False):
            ws.append([_cell(v) for v in values])
        for i, w in enumerate(widths):
            ws.column_dimensions[ws.cell(row=head, column=i + 1).column_letter].width = w
        ws.freeze_panes = f"A{head + 1}"
        sheets[name] = len(df)
        return ws

    for y in pic.years:
        put(year_table(pic, y), str(y), f"{y} жыл / год — басымдық бойынша / по приоритету",
            (11, 11, 18, 18, 18, 20, 34, 34, 34, 34, 10, 10, 10, 10, 10))
    put(plan_table(pic), "Жоспар - План",
        "Қалпына келтіру жоспарлары, басымдық бойынша / Планы устранения, по приоритету "
        f"(жағдайы {pic.as_of} ж. / состояние на {pic.as_of} г., соңғы бақыланған жыл / последний год с наблюдениями)",
        (11, 11, 18, 18, 18, 20, 22, 10, 24, 24, 22, 10, 22, 10, 10, 10, 10, 24))
    dt = district_table(pic)
    ws = put(dt, "Аудандар - Районы",
             "Мәселесі бар елді мекендер аудандар мен жылдар бойынша / НП с проблемами по районам и годам",
             (11, 20, 22, 7, 12, 12, 12, 12, 12, 12, 12, 12, 10))
    if charts:
        from openpyxl.drawing.image import Image

        row = len(dt) + 8
        for png in charts:
            img = Image(str(png))
            img.width, img.height = img.width * 0.6, img.height * 0.6
            ws.add_image(img, f"B{row}")
            row += int(img.height / 20) + 3
    put(rules_table(pic), "Ережелер - Правила", None, (36, 60, 90))
    xlsx_text_only(wb)  # a note or name starting with "=" stays text, never a live formula
    buf = io.BytesIO()  # saved in memory first: openpyxl leaves its file open when a write fails
    wb.save(buf)
    write_bytes(out, buf.getvalue(), what="workbook")
    return {"path": str(out), "sheets": sheets, "problem_rules": pic.rules.version}


def _cell(v: Any) -> Any:
    """A value openpyxl can write: NA -> empty, numpy -> Python."""
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v.item() if hasattr(v, "item") else v


def write_problem_charts(pic: ProblemPicture, out_dir: Path | str, dpi: int = 110) -> list[Path]:
    """PNG charts: settlements with a problem per district and year (any dimension), and one panel per
    dimension. Returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import textwrap

    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    d = pic.districts[pic.districts["level"] == "district"]
    districts = sorted(set(d["district_kato"]))
    names = {k: (kk if kk == ru else f"{kk} / {ru}") for k, kk, ru in
             zip(d["district_kato"], d["district_name_kk"], d["district_name_ru"])}
    cmap = plt.get_cmap("viridis")
    colours = [cmap(i / max(1, len(pic.years) - 1) * 0.85) for i in range(len(pic.years))]
    written = []

    def bars(ax, dim: str) -> None:
        part = d[d["dimension"] == dim]
        x = np.arange(len(districts))
        w = 0.8 / len(pic.years)
        for j, y in enumerate(pic.years):
            vals = part[part["year"] == y].set_index("district_kato")["problem"].reindex(districts, fill_value=0)
            ax.bar(x + (j - (len(pic.years) - 1) / 2) * w, vals.to_numpy(), w, color=colours[j], label=str(y))
        ax.set_xticks(x)
        ax.set_xticklabels([names[k] for k in districts], rotation=60, ha="right", fontsize=6.5)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(_dim_label(dim), fontsize=10)
        ax.grid(axis="y", color="#ddd")
        ax.set_axisbelow(True)

    foot = f"{BOUNDARY_NOTE} · {pic.rules.version}" + (f" · {' · '.join(pic.notes)}" if pic.notes else "")
    foot = "\n".join(textwrap.wrap(foot, 190))
    fig, ax = plt.subplots(figsize=(11, 6), dpi=dpi)
    bars(ax, "any")
    ax.set_ylabel("Мәселесі бар НП / НП с проблемой")
    ax.legend(title="Жыл / Год", fontsize=8)
    fig.suptitle("Байланысы нашар елді мекендер аудандар бойынша / НП с плохой связью по районам", fontsize=12)
    fig.text(0.01, 0.01, foot, fontsize=6, color="#333")
    fig.subplots_adjust(bottom=0.36, top=0.9)
    path = out_dir / "problems-by-district.png"
    save_png(fig, path)
    written.append(path)

    fig, axes = plt.subplots(2, 2, figsize=(14, 10), dpi=dpi, sharey=True)
    for ax, dim in zip(axes.ravel(), DIMENSIONS):
        bars(ax, dim)
    axes[0][0].legend(title="Жыл / Год", fontsize=8)
    fig.suptitle("Мәселелер бағыттар, аудандар және жылдар бойынша / Проблемы по направлениям, районам и годам",
                 fontsize=12)
    fig.text(0.01, 0.005, foot, fontsize=6.5, color="#333")
    fig.subplots_adjust(hspace=0.9, bottom=0.2, top=0.93)
    path = out_dir / "problems-by-district-dimension.png"
    save_png(fig, path)
    written.append(path)
    return written


def problem_report_from_store(db: Path | str | Store, out: Path | str, *, years: str | list[int] = "2023-2027",
                              png_dir: Path | str | None = None, gazetteer: Gazetteer | None = None,
                              rules_path: Path | str | None = None, problem_rules_path: Path | str | None = None,
                              progress: Progress | None = None,
                              complaints: pd.DataFrame | None = None) -> dict[str, Any]:
    """Build the picture and write the workbook and the PNG charts (default folder: ``<out>-charts``)."""
    pic = picture_from_store(db, years, gazetteer=gazetteer, rules_path=rules_path,
                             problem_rules_path=problem_rules_path, progress=progress, complaints=complaints)
    out = Path(out)
    charts = write_problem_charts(pic, Path(png_dir) if png_dir else out.with_name(out.stem + "-charts"))
    result = write_problem_workbook(pic, out, charts=charts)
    result["pngs"] = [str(p) for p in charts]
    result["years"] = pic.years
    result["summary"] = region_totals(pic)
    result["top_plans"] = pic.plans.head(10)[["priority", "kato", "name_ru", "dimension", "planned_year",
                                              "state"]].to_dict(orient="records")
    result["notes"] = pic.notes
    return result


# --------------------------------------------------------------------------- demo
DEMO_YEARS = (2023, 2024, 2025, 2026, 2027)


def _demo_settlements(g: Gazetteer) -> dict[str, str]:
    """Role -> KATO: located villages of Kazygurt (6140...) and Saryagash (6154...), one of Arys (6116...)."""
    def villages(prefix: str) -> list[str]:
        return sorted(s.kato for s in g if s.located and s.kind == "village" and s.kato.startswith(prefix))

    kz, sa, ar = villages("6140"), villages("6154"), villages("6116")
    if len(kz) < 3 or len(sa) < 3 or len(ar) < 2:
        raise ReportError("demo: the gazetteer lacks located villages in Kazygurt, Saryagash or Arys")
    return {"fixed_on_time": kz[0], "overdue_internet": kz[1], "border_tv": kz[2], "border_tv_fixed": sa[0],
            "no_post": sa[1], "mobile_overdue": sa[2], "fine": ar[0], "fixed_late": ar[1]}


def _demo_conditions(role: str, year: int) -> Condition | None:
    from ..probe.synthetic import Condition

    good = Condition("LTE", rsrp_dbm=-88, download_mbps=25, upload_mbps=6)
    slow = Condition("UMTS", rsrp_dbm=-97, download_mbps=0.4, upload_mbps=0.2)
    none = Condition("none")
    table = {
        "fixed_on_time": {2023: slow, 2024: slow, 2025: good, 2026: good},        # plan 2025: done on time
        "overdue_internet": {2023: slow, 2024: slow, 2025: slow, 2026: slow},     # plan 2024: overdue from 2025
        "border_tv": {2023: good, 2025: good, 2026: good},                        # 2024 not measured: unknown
        "border_tv_fixed": {2023: good, 2024: good, 2025: good, 2026: good},
        "no_post": {2024: good, 2026: good},
        "mobile_overdue": {2023: none, 2024: none, 2025: none, 2026: none},       # plan 2025: overdue in 2026
        "fine": {2023: good, 2024: good, 2025: good, 2026: good},
        "fixed_late": {2023: none, 2024: none, 2025: none, 2026: good},           # plan 2024: fixed late in 2026
    }
    return table[role].get(year)



def _same_everywhere(cond: Condition) -> Callable[[str, str], Condition]:
    """A campaign's condition function: ``cond`` for every settlement and operator."""
    return lambda kato, operator: cond


def write_demo_problems(store_path: Path | str, out_dir: Path | str, gazetteer: Gazetteer | None = None,
                        *, offline: bool = True) -> dict[str, Path]:
    """The five-year example of ``qamtu demo`` (2023-2027), clearly labelled as demo data.

    Writes into a NEW store ``store_path`` (refused if it already holds sessions: the synthetic
    2023-2026 measurements would change other outputs' default period): synthetic measurement
    campaigns per year (marked synthetic by :mod:`qamtu.probe.synthetic`), then demo survey and plan
    CSV files in ``out_dir`` (every row's note says DEMO), imported through the normal import path;
    then the problem map (offline by default), the XLSX workbook and its PNG charts.
    Returns name -> path of everything written.
    """
    from ..probe.synthetic import Campaign, write_campaign

    g = gazetteer or Gazetteer.load()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    store_path = Path(store_path)
    roles = _demo_settlements(g)
    this_year = datetime.now(timezone.utc).year
    with Store(store_path) as store:
        if store.sessions():
            raise ReportError(f"{store_path}: already holds sessions; give a new file for the five-year demo")
        for year in DEMO_YEARS:
            if year > this_year:
                continue          # no measurement of a year that has not happened
            for role, kato in roles.items():
                cond = _demo_conditions(role, year)
                if cond is None:
                    continue
                s = g.get(kato)
                if s.lat is None or s.lon is None:   # _demo_settlements picks located villages only
                    raise ReportError(f"{kato}: the five-year demo's settlement has no position in the gazetteer")
                write_campaign(store, Campaign({kato: (s.lat, s.lon)}, _same_everywhere(cond), days=2,
                                               operators=("401-02",), samples_per_visit=20, speedtests_per_visit=2,
                                               start=datetime(year, 6, 10, 5, 0, tzinfo=timezone.utc),
                                               inspector="DEMO (synthetic)", seed=year))
        survey = out_dir / "demo-survey.csv"
        plans = out_dir / "demo-plans.csv"
        _write_demo_csvs(roles, survey, plans, this_year, g)
        from .surveys import import_plans, import_survey

        import_survey(store, survey, g)
        import_plans(store, plans, g)
    html = out_dir / "problems-map.html"
    xlsx = out_dir / "problems.xlsx"
    pic = picture_from_store(store_path, list(DEMO_YEARS), gazetteer=g)
    build_problem_map(pic, g, html, offline=offline)
    charts = write_problem_charts(pic, out_dir / "problems-charts")
    write_problem_workbook(pic, xlsx, charts=charts)
    outputs = {"problems database": store_path, "problems survey (demo)": survey, "problems plans (demo)": plans,
               "problems map": html, "problems workbook": xlsx}
    for p in charts:
        outputs[f"problems chart {p.stem}"] = p
    return outputs


def _write_demo_csvs(roles: dict[str, str], survey: Path, plans: Path, this_year: int, g: Gazetteer) -> None:
    import csv

    demo = "ДЕМО / DEMO: мысал, шын дерек емес / пример, не реальные данные"
    srows = []
    for year in DEMO_YEARS:
        if year > this_year:
            continue
        for role, kato in roles.items():
            name = g.get(kato).name_ru
            tv_foreign = role == "border_tv" or (role == "border_tv_fixed" and year <= 2024)
            srows.append([kato, year, "tv_domestic", "no" if tv_foreign else "yes", "", "DEMO", demo, name])
            srows.append([kato, year, "tv_foreign_only", "yes" if tv_foreign else "no", "", "DEMO",
                          demo + (" — тек өзбек арналары / только узбекские каналы" if tv_foreign else ""), name])
            srows.append([kato, year, "post", "no" if role == "no_post" else "yes", "", "DEMO", demo, name])
            if role == "overdue_internet":
                srows.append([kato, year, "fixed_internet", "no", "", "DEMO", demo, name])
    with atomic_output(survey, what="survey file") as tmp, tmp.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kato", "year", "dimension", "value", "observed_on", "observer", "note", "settlement"])
        w.writerows(csv_row(r) for r in srows)
    prog = "«Доступный интернет» (мысал / пример)"
    prows: list[tuple[str, str, int, str, str]] = [
        (roles["fixed_on_time"], "internet", 2025, prog, "Оператор (мысал / пример)"),
        (roles["overdue_internet"], "internet", 2024, prog, "Оператор (мысал / пример)"),
        (roles["border_tv"], "tv_radio", 2027, "Бағдарлама (мысал) / Программа (пример)",
         "Әкімдік (мысал) / Акимат (пример)"),
        (roles["border_tv_fixed"], "tv_radio", 2025, "Бағдарлама (мысал) / Программа (пример)",
         "Әкімдік (мысал) / Акимат (пример)"),
        (roles["no_post"], "post", 2026, "Бағдарлама (мысал) / Программа (пример)",
         "Пошта операторы (мысал) / Почтовый оператор (пример)"),
        (roles["mobile_overdue"], "mobile", 2025, "Бағдарлама (мысал) / Программа (пример)",
         "Оператор (мысал / пример)"),
        (roles["fixed_late"], "mobile", 2024, "Бағдарлама (мысал) / Программа (пример)",
         "Оператор (мысал / пример)")]
    with atomic_output(plans, what="plans file") as tmp, tmp.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kato", "dimension", "planned_year", "programme", "responsible", "note", "settlement"])
        for r in prows:
            w.writerow(csv_row([*r, demo, g.get(r[0]).name_ru]))


__all__ = ["picture_from_store", "problem_map_from_store", "problem_report_from_store", "region_totals",
           "write_demo_problems", "write_problem_charts", "write_problem_workbook"]
