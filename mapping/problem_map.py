"""The five-year problem map (folium/Leaflet, one HTML file).

Every located settlement of the picture is a circle coloured by its status in the year chosen with
the slider: grey unknown, green no problem, blue resolved, red problem, dark red with a thick black
ring overdue (the planned fix year passed and the problem is still there). One layer per dimension
(internet, mobile, TV/radio, post) and one for all dimensions (the worst status of the four); a
popup gives the settlement's whole history (dimension x year), its plans and its priority. Legend,
popups and controls are in Kazakh and Russian.

Built on the shared page of :mod:`qamtu.mapping.leaflet` (asset inlining, JSON escaping, the
offline check) with its script and stylesheet in ``mapping/data/map/problems.{js,css}``: Leaflet
is always inlined; ``offline=True`` also drops the tile server and refuses to write a page that
still loads a remote resource. The data travel as one JSON block; popups, tooltips and legends are
DOM text, so no name can run as script.

The page sets on ``<html>``: ``data-qamtu-ready``, ``data-qamtu-year``, ``data-qamtu-layer``,
``data-qamtu-markers``, ``data-qamtu-problems``, ``data-qamtu-overdue`` (counts in the shown layer
and year) and ``data-qamtu-errors`` on any script error; every marker's SVG path carries
``data-kato`` and ``data-status`` (and class ``qamtu-overdue`` when overdue).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import folium
import pandas as pd

from .gazetteer import Gazetteer
from .leaflet import PageScript, base_map, data_block, layer_name, read_outlines, write_map
from .problems import (DIMENSION_LABELS, DIMENSIONS, DISPLAY, DISPLAY_LABELS, PLAN_STATE_LABELS, PRIORITY_FORMULA_KK_RU,
                       PRIORITY_FORMULA, ProblemPicture)

#: display status -> (fill, ring) colours
DISPLAY_COLOURS = {"unknown": ("#bdbdbd", "#9e9e9e"), "no_problem": ("#a6d96a", "#4d9221"),
                   "resolved": ("#2b83ba", "#08519c"), "problem": ("#e31a1c", "#99000d"),
                   "overdue": ("#67000d", "#000000")}
LAYERS = ("all", *DIMENSIONS)
ALL_LABEL = ("Барлық бағыттар", "Все направления")


def problem_map_data(pic: ProblemPicture, gazetteer: Gazetteer, districts: dict) -> dict[str, Any]:
    """The JSON the page reads (see the page script for the field order)."""
    years = pic.years
    chosen = set(pic.cells["kato"].unique())
    located = [s for s in gazetteer if s.located and s.kato in chosen]
    index = {s.kato: i for i, s in enumerate(located)}
    first = pic.settlements[pic.settlements["year"] == years[0]].set_index("kato")
    settlements = []
    for s in located:
        r = first.loc[s.kato]
        pop = None if r["population"] is None or r["population"] != r["population"] else int(round(r["population"]))
        settlements.append([s.kato, s.name_kk, s.name_ru, round(s.lat, 5), round(s.lon, 5), s.kind == "city",
                            s.district_name_kk, s.district_name_ru, pop, bool(r["population_estimated"])])
    code = {k: i for i, k in enumerate(DISPLAY)}
    ny = len(years)
    yi = {y: i for i, y in enumerate(years)}
    status = {d: [[0] * ny for _ in located] for d in DIMENSIONS}
    detail: dict[str, dict[str, list]] = {}
    for r in pic.cells.itertuples(index=False):
        i = index.get(r.kato)
        if i is None:
            continue
        status[r.dimension][i][yi[r.year]] = code[r.display]
        if r.display != "unknown" or _s(r.sources) or not _na(r.planned_year) or not _na(r.problem_since):
            cell = [_int(r.problem_since), _int(r.planned_year), _int(r.resolved_year), _s(r.sources),
                    _s(r.programme), _s(r.responsible), None if _na(r.resolved_on_time) else bool(r.resolved_on_time)]
            detail.setdefault(str(i), {}).setdefault(r.dimension, [None] * ny)[yi[r.year]] = cell
    priority: dict[str, list] = {}
    for r in pic.settlements.itertuples(index=False):
        i = index.get(r.kato)
        if i is not None and r.priority and not _na(r.priority):
            priority.setdefault(str(i), [0] * ny)[yi[r.year]] = r.priority
    plans: dict[str, list] = {}
    for r in pic.plans.itertuples(index=False):
        i = index.get(r.kato)
        if i is not None:
            plans.setdefault(str(i), []).append([r.dimension, int(r.planned_year), _s(r.programme), _s(r.responsible),
                                                 _s(r.note), r.state])
    problem_years: dict[str, set[int]] = {}
    problems = pic.cells[pic.cells["status"] == "problem"]
    for kato, year in zip(problems["kato"], problems["year"]):
        problem_years.setdefault(kato, set()).add(int(year))   # grouped once, not filtered per settlement
    unlocated = []
    for s in gazetteer:
        if s.kato in chosen and not s.located and s.kato in problem_years:
            unlocated.append([s.kato, s.name_kk, s.name_ru, s.district_name_kk, s.district_name_ru,
                              sorted(problem_years[s.kato])])
    return {"years": years, "asOf": pic.as_of, "settlements": settlements,
            "status": {d: ["".join(str(v) for v in row) for row in status[d]] for d in DIMENSIONS},
            "detail": detail, "priority": priority, "plans": plans, "unlocated": unlocated,
            "layers": [[k, *(ALL_LABEL if k == "all" else DIMENSION_LABELS[k])] for k in LAYERS],
            "display": [[k, *DISPLAY_COLOURS[k], *DISPLAY_LABELS[k]] for k in DISPLAY],
            "planStates": {k: list(v) for k, v in PLAN_STATE_LABELS.items()},
            "rules": pic.rules.version, "formula": PRIORITY_FORMULA_KK_RU, "formulaEn": PRIORITY_FORMULA,
            "notes": list(pic.notes),
            "approximateDistricts": [[f["properties"]["name_kk"], f["properties"]["name_ru"]]
                                     for f in districts["features"] if f["properties"].get("approximate")]}


def _na(v: Any) -> bool:
    return v is None or bool(pd.isna(v))


def _s(v: Any) -> str:
    return "" if _na(v) else str(v)


def _int(v: Any):
    return None if _na(v) else int(v)


def build_problem_map(pic: ProblemPicture, gazetteer: Gazetteer, out: Path | str, *, offline: bool = False,
                      districts_path: Path | str | None = None, region_path: Path | str | None = None,
                      title: str | None = None) -> dict[str, Any]:
    """Write the problem map of ``pic`` to ``out`` (HTML). Returns path, bytes, markers, years, layers."""
    out = Path(out)
    districts, region, bounds = read_outlines(gazetteer, districts_path, region_path)
    data = problem_map_data(pic, gazetteer, districts)
    pts = data["settlements"]
    m, district_layer = base_map(
        bounds, title or f"Қамту / Qamtu — байланыс мәселелері / проблемы связи {pic.years[0]}–{pic.years[-1]}",
        "problems", offline, region, districts)
    groups = {}
    for key in LAYERS:
        kk, ru = ALL_LABEL if key == "all" else DIMENSION_LABELS[key]
        groups[key] = folium.FeatureGroup(name=layer_name(f"{kk} / {ru}" if kk != ru else kk), overlay=False,
                                          show=key == "all")
        groups[key].add_to(m)
    data_block(m, data)
    m.fit_bounds(bounds)
    m.add_child(PageScript("problemMap", m, groups, district_layer))
    folium.LayerControl(collapsed=False, position="bottomleft").add_to(m)
    html = write_map(m, out, offline)
    return {"path": str(out), "bytes": len(html.encode("utf-8")), "offline": offline, "markers": len(pts),
            "years": pic.years, "layers": list(LAYERS), "unlocated_with_problems": len(data["unlocated"]),
            "problem_rules": pic.rules.version}


__all__ = ["DISPLAY_COLOURS", "build_problem_map", "problem_map_data"]
