"""The five-year problem picture: per settlement x dimension x year, problem / no problem / unknown,
problem since, planned fix year, overdue, resolved and when, and a priority score.

Dimensions: ``internet``, ``mobile`` (from the yearly coverage classification, best of operators,
judged statuses only), ``tv_radio`` and ``post`` (from survey observations; fixed internet offered
also counts for ``internet``). What each input means is in the versioned ``mapping/data/problems.toml``;
the rules of time (since, plan, overdue, resolved) and the priority formula are in docs/problems.md
and in :data:`PRIORITY_FORMULA`, which every output prints.

This module takes plain DataFrames (the caller reads the store); it never touches the store.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Literal, Optional

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .. import load_model, package_path
from .classify import frame_records
from .errors import MappingError
from .gazetteer import REGION_TOTAL_KK, REGION_TOTAL_RU, TOTAL_KATO, Gazetteer

DIMENSIONS: tuple[str, ...] = ("internet", "mobile", "tv_radio", "post")
DIMENSION_LABELS: dict[str, tuple[str, str]] = {
    "internet": ("Интернет", "Интернет"),
    "mobile": ("Ұялы байланыс", "Мобильная связь"),
    "tv_radio": ("Теледидар және радио", "Телевидение и радио"),
    "post": ("Пошта", "Почта"),
}
#: what a map cell shows, in drawing order of severity (index = code used by the page)
DISPLAY: tuple[str, ...] = ("unknown", "no_problem", "resolved", "problem", "overdue")
DISPLAY_LABELS: dict[str, tuple[str, str]] = {
    "unknown": ("Белгісіз (деректер жоқ)", "Неизвестно (нет данных)"),
    "no_problem": ("Мәселе жоқ", "Проблемы нет"),
    "resolved": ("Шешілді", "Решено"),
    "problem": ("Мәселе бар", "Проблема"),
    "overdue": ("Мерзімі өтті: жоспарланған жыл өтті, мәселе қалды",
                "Просрочено: плановый год прошёл, проблема осталась"),
}
YES_NO = ("yes", "no")
PRIORITY_FORMULA = ("priority = P × D × U; P = population (OSM tag; if unknown, median of gazetteer settlements of "
                    "the same kind, flagged 'estimated'), D = dimensions with a problem that year, "
                    "U = years unresolved (longest current problem run: year − since + 1); 0 without a problem")
PRIORITY_FORMULA_KK_RU = ("Басымдық = P × D × U: P — халық саны (белгісіз болса — сол түрдегі елді мекендердің "
                          "медианасы, «бағалау»), D — мәселелі бағыттар саны, U — шешілмеген жылдар / "
                          "Приоритет = P × D × U: P — население (если неизвестно — медиана НП того же типа, «оценка»), "
                          "D — число направлений с проблемой, U — лет без решения")


class ProblemError(MappingError):
    """Problem rules or inputs are malformed; the message names the file, column or value."""


# --------------------------------------------------------------------------- rules
@dataclass(frozen=True)
class SurveyItem:
    name: str
    dimension: str
    yes: str
    no: str
    label_kk: str
    label_ru: str


@dataclass(frozen=True)
class ProblemRules:
    version: str
    measured: dict[str, dict[str, tuple[str, ...]]]
    survey: dict[str, SurveyItem]
    combine: dict[str, str]
    formula: str
    path: str
    min_complaints: int = 1

    def describe(self) -> dict[str, Any]:
        return {"version": self.version, "file": Path(self.path).name, "priority": PRIORITY_FORMULA}


def default_problem_rules_path() -> Path:
    return package_path("mapping", "data", "problems.toml")


def load_problem_rules(path: Path | str | None = None) -> ProblemRules:
    """Read and check ``problems.toml`` (default: the bundled one)."""
    if path is None:
        return _default_rules()
    return _read_rules(Path(path))


@lru_cache(maxsize=1)
def _default_rules() -> ProblemRules:
    return _read_rules(default_problem_rules_path())


Meaning = Literal["problem", "no_problem", "none"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Measured(_Strict):
    problem: tuple[str, ...]
    no_problem: tuple[str, ...]


class _SurveyItem(_Strict):
    dimension: Literal["internet", "mobile", "tv_radio", "post"]
    yes: Meaning
    no: Meaning
    label_kk: str
    label_ru: str


class _Priority(_Strict):
    formula: str
    population_fallback: Optional[str] = None


class _Complaints(_Strict):
    """Residents' complaints as observations: a settlement x dimension x year with at least
    ``min_complaints`` complaints counts as a problem that year."""
    min_complaints: int = Field(1, ge=1)


class ProblemRulesFile(_Strict):
    """The shape of ``problems.toml`` (validated by :func:`qamtu.load_model`)."""
    id: Optional[str] = None
    version: str
    measured: dict[Literal["mobile", "internet"], _Measured]
    survey: dict[str, _SurveyItem]
    combine: dict[Literal["internet", "mobile", "tv_radio", "post"], Literal["any_problem", "any_service"]]
    priority: _Priority
    complaints: _Complaints = _Complaints()

    @model_validator(mode="after")
    def _complete(self) -> "ProblemRulesFile":
        for table, keys in (("measured", ("mobile", "internet")), ("combine", DIMENSIONS)):
            missing = [k for k in keys if k not in getattr(self, table)]
            if missing:
                raise ValueError(f"table [{table}] needs {', '.join(missing)}")
        return self


def _read_rules(p: Path) -> ProblemRules:
    f = load_model(p, ProblemRulesFile, ProblemError, "problem rules file")
    survey = {name: SurveyItem(name, i.dimension, i.yes, i.no, i.label_kk, i.label_ru) for name, i in f.survey.items()}
    measured = {d: {"problem": m.problem, "no_problem": m.no_problem} for d, m in f.measured.items()}
    return ProblemRules(f.version, measured, survey, {d: f.combine[d] for d in DIMENSIONS}, f.priority.formula, str(p),
                        f.complaints.min_complaints)


def parse_years(text: str) -> list[int]:
    """``2023-2027`` (both included), ``2023,2025`` or ``2024`` -> sorted list of years."""
    t = str(text).strip()
    try:
        if "-" in t and "," not in t:
            a, b = (int(x) for x in t.split("-", 1))
            years = list(range(a, b + 1))
        else:
            years = sorted({int(x) for x in t.split(",") if x.strip()})
    except ValueError:
        raise ProblemError(f"--years: {text!r} is not YYYY-YYYY, YYYY,YYYY or YYYY") from None
    if not years or any(not 2000 <= y <= 2100 for y in years):
        raise ProblemError(f"--years: {text!r}: give years between 2000 and 2100, first before last")
    if len(years) > 30:
        raise ProblemError(f"--years: {text!r}: at most 30 years")
    return years


# --------------------------------------------------------------------------- result
@dataclass
class ProblemPicture:
    """Result of :func:`build_problems`.

    * ``cells``: one row per settlement x dimension x year (status, display, since, plan, overdue,
      resolved, sources);
    * ``settlements``: one row per settlement x year (problem dimensions, overdue ones, years
      unresolved, population used, priority);
    * ``plans``: every remediation plan with its settlement, state at the last year and priority,
      sorted by priority (highest first);
    * ``districts``: per district (and the region) x year x dimension (and ``any``): settlements with
      a problem, overdue, resolved, without a problem, unknown.
    """

    years: list[int]
    rules: ProblemRules
    cells: pd.DataFrame
    settlements: pd.DataFrame
    plans: pd.DataFrame
    districts: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    as_of: Optional[int] = None   # latest year with any observation: plan states and priorities of the plan sheet

    def __post_init__(self) -> None:
        if self.as_of is None:
            self.as_of = self.years[-1]

    def meta(self) -> dict[str, Any]:
        return {"years": self.years, "as_of": self.as_of, "problem_rules": self.rules.describe(),
                "dimensions": list(DIMENSIONS), "priority_formula": PRIORITY_FORMULA, "notes": list(self.notes)}

    def status(self, kato: str, dimension: str, year: int) -> str:
        """The display status of one cell (unknown for a settlement not in the picture)."""
        c = self.cells
        row = c[(c["kato"] == kato) & (c["dimension"] == dimension) & (c["year"] == year)]
        return str(row["display"].iloc[0]) if len(row) else "unknown"

    def as_dict(self) -> dict[str, Any]:
        return {**self.meta(), "settlements": frame_records(self.settlements), "cells": frame_records(self.cells),
                "plans": frame_records(self.plans), "districts": frame_records(self.districts)}


# --------------------------------------------------------------------------- observations
def _measured_verdicts(measured: dict[int, pd.DataFrame], rules: ProblemRules) -> dict[tuple[str, str, int], list]:
    """(kato, dimension, year) -> [(verdict, source text)] from the yearly classifications."""
    out: dict[tuple[str, str, int], list] = {}
    for year, df in measured.items():
        if df is None or not len(df):
            continue
        need = [c for c in ("kato", "mobile_status", "mobile_judged", "internet_status", "internet_judged")
                if c not in df.columns]
        if need:
            raise ProblemError(f"measured {year}: missing column(s) {', '.join(need)}")
        for r in df[["kato", "mobile_status", "mobile_judged", "internet_status",
                     "internet_judged"]].itertuples(index=False):
            for dim in ("mobile", "internet"):
                st, judged = getattr(r, f"{dim}_status"), bool(getattr(r, f"{dim}_judged"))
                if not judged or not isinstance(st, str):
                    continue
                m = rules.measured[dim]
                verdict = "problem" if st in m["problem"] else "no_problem" if st in m["no_problem"] else None
                if verdict:
                    out.setdefault((str(r.kato), dim, int(year)), []).append(
                        (verdict, f"өлшем / измерения: {st}"))
    return out


def _survey_verdicts(surveys: pd.DataFrame | None, rules: ProblemRules) -> dict[tuple[str, str, int], list]:
    out: dict[tuple[str, str, int], list] = {}
    if surveys is None or not len(surveys):
        return out
    for r in surveys[["kato", "year", "dimension", "value"]].itertuples(index=False):
        item = rules.survey.get(str(r.dimension))
        if item is None:
            raise ProblemError(f"survey: unknown dimension {r.dimension!r} (known: {', '.join(rules.survey)})")
        value = str(r.value)
        if value not in YES_NO:
            raise ProblemError(f"survey: value {value!r} of {r.kato}/{r.year}/{r.dimension} is not yes or no")
        verdict = item.yes if value == "yes" else item.no
        if verdict != "none":
            answer = "иә / да" if value == "yes" else "жоқ / нет"
            out.setdefault((str(r.kato), item.dimension, int(r.year)), []).append(
                (verdict, f"сауалнама / обследование: {item.label_kk} / {item.label_ru} — {answer} "
                          f"({item.name}={value})"))
    return out


def _complaint_verdicts(complaints: pd.DataFrame | None, min_complaints: int) -> dict[tuple[str, str, int], list]:
    """Residents' complaints as observations (source "complaint"): kato, year, dimension, complaints (count)."""
    out: dict[tuple[str, str, int], list] = {}
    if complaints is None or not len(complaints):
        return out
    for r in complaints[["kato", "year", "dimension", "complaints"]].itertuples(index=False):
        if r.dimension not in DIMENSIONS:
            raise ProblemError(f"complaints: unknown dimension {r.dimension!r} (known: {', '.join(DIMENSIONS)})")
        if int(r.complaints) >= min_complaints:
            out.setdefault((str(r.kato), str(r.dimension), int(r.year)), []).append(
                ("problem", f"шағымдар / жалобы (complaint): {int(r.complaints)}"))
    return out


def _combine(verdicts: list, how: str) -> str:
    kinds = {v for v, _ in verdicts}
    if not kinds:
        return "unknown"
    first, second = ("no_problem", "problem") if how == "any_service" else ("problem", "no_problem")
    return first if first in kinds else second


# --------------------------------------------------------------------------- the picture
def population_fallbacks(gazetteer: Gazetteer) -> dict[str, Optional[float]]:
    """Kind -> median population of gazetteer settlements of that kind with a known population."""
    by_kind: dict[str, list[int]] = {}
    for s in gazetteer:
        if s.population is not None:
            by_kind.setdefault(s.kind, []).append(s.population)
    return {k: float(statistics.median(v)) for k, v in by_kind.items()}


def build_problems(gazetteer: Gazetteer, years: Iterable[int], *, measured: dict[int, pd.DataFrame] | None = None,
                   surveys: pd.DataFrame | None = None, plans: pd.DataFrame | None = None,
                   rules: ProblemRules | None = None, populated_only: bool = True,
                   notes: list[str] | None = None, complaints: pd.DataFrame | None = None) -> ProblemPicture:
    """The problem picture over ``years``.

    ``measured``: year -> the ``settlements`` frame of that year's coverage classification (kato,
    mobile_status, mobile_judged, internet_status, internet_judged). ``surveys``: kato, year,
    dimension (a survey item of the rules), value (yes/no). ``plans``: kato, dimension, planned_year,
    programme, responsible (note optional). ``complaints``: kato, year, dimension, complaints (count of
    residents' complaints, source "complaint"; :mod:`qamtu.cases.problems` builds it).
    """
    rules = rules or load_problem_rules()
    years = sorted({int(y) for y in years})
    if not years:
        raise ProblemError("no years given")
    verdicts = _measured_verdicts(measured or {}, rules)
    for k, v in _survey_verdicts(surveys, rules).items():
        verdicts.setdefault(k, []).extend(v)
    for k, v in _complaint_verdicts(complaints, rules.min_complaints).items():
        verdicts.setdefault(k, []).extend(v)
    plans = _check_plans(plans)
    plan_map: dict[tuple[str, str], list[dict]] = {}
    for p in plans.to_dict(orient="records"):
        plan_map.setdefault((p["kato"], p["dimension"]), []).append(p)
    for v in plan_map.values():
        v.sort(key=lambda p: p["planned_year"])
    extra = {k for k, _, _ in verdicts} | {k for k, _ in plan_map}
    chosen = [s for s in gazetteer if (s.populated or not populated_only) or s.kato in extra]
    fallback = population_fallbacks(gazetteer)

    cells = []
    for s in chosen:
        for dim in DIMENSIONS:
            cells.extend(_timeline(s.kato, dim, years, verdicts, plan_map.get((s.kato, dim), []), rules))
    cells_df = pd.DataFrame(cells, columns=["kato", "dimension", "year", "status", "display", "problem_since",
                                            "years_unresolved", "planned_year", "programme", "responsible", "overdue",
                                            "resolved_year", "resolved_on_time", "sources"])
    for c in ("problem_since", "years_unresolved", "planned_year", "resolved_year"):
        cells_df[c] = cells_df[c].astype("Int64")
    cells_df["overdue"] = cells_df["overdue"].astype(bool)
    settlements_df = _settlement_years(chosen, years, cells_df, fallback)
    known = cells_df.loc[cells_df["status"] != "unknown", "year"]
    as_of = int(known.max()) if len(known) else years[-1]
    plans_df = _plan_table(plans, settlements_df, cells_df, as_of, gazetteer)
    districts_df = _district_totals(chosen, years, cells_df, gazetteer)
    return ProblemPicture(years, rules, cells_df, settlements_df, plans_df, districts_df, list(notes or []), as_of)


PLAN_COLUMNS = ("kato", "dimension", "planned_year", "programme", "responsible", "note")


def _check_plans(plans: pd.DataFrame | None) -> pd.DataFrame:
    if plans is None or not len(plans):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in PLAN_COLUMNS})
    missing = [c for c in ("kato", "dimension", "planned_year") if c not in plans.columns]
    if missing:
        raise ProblemError(f"plans: missing column(s) {', '.join(missing)}")
    p = plans.copy()
    for c in PLAN_COLUMNS:
        if c not in p.columns:
            p[c] = None
    bad = p[~p["dimension"].isin(DIMENSIONS)]
    if len(bad):
        raise ProblemError(f"plans: unknown dimension {bad['dimension'].iloc[0]!r} (known: {', '.join(DIMENSIONS)})")
    p["kato"] = p["kato"].astype(str)
    p["planned_year"] = p["planned_year"].astype(int)
    return p[list(PLAN_COLUMNS)].reset_index(drop=True)


def _timeline(kato: str, dim: str, years: list[int], verdicts: dict, plans: list[dict],
              rules: ProblemRules) -> list[list]:
    """One row per year for one settlement x dimension (see docs/problems.md, "Rules of time")."""
    rows = []
    spell_start: Optional[int] = None     # first year of the current problem run (unknown years do not break it)
    spell_plan: Optional[dict] = None
    last_resolution: Optional[int] = None  # year the previous run ended with "no problem"
    resolved_plan: Optional[dict] = None

    def plan_after(floor: Optional[int]) -> Optional[dict]:
        for p in plans:                     # sorted by planned year
            if floor is None or p["planned_year"] > floor:
                return p
        return None

    for y in years:
        found = verdicts.get((kato, dim, y), [])
        status = _combine(found, rules.combine[dim])
        sources = "; ".join(src for _, src in found)
        since = unresolved = None
        overdue = False
        if status == "problem":
            if spell_start is None:
                spell_start = y
                spell_plan = plan_after(last_resolution)
            since, unresolved = spell_start, y - spell_start + 1
            plan = spell_plan
            overdue = plan is not None and plan["planned_year"] < y
            display = "overdue" if overdue else "problem"
        elif status == "no_problem":
            if spell_start is not None:
                last_resolution, resolved_plan = y, spell_plan
                spell_start, spell_plan = None, None
            display = "resolved" if last_resolution is not None else "no_problem"
            plan = resolved_plan if last_resolution == y else plan_after(last_resolution)
        else:
            display = "unknown"
            plan = spell_plan if spell_start is not None else plan_after(last_resolution)
            if spell_start is not None:
                since = spell_start
        on_time = None
        if display == "resolved" and last_resolution is not None:
            on_time = resolved_plan is None or last_resolution <= resolved_plan["planned_year"]
        rows.append([kato, dim, y, status, display, since, unresolved,
                     plan["planned_year"] if plan else None, _text(plan, "programme"), _text(plan, "responsible"),
                     overdue, last_resolution if display == "resolved" else None, on_time, sources])
    return rows


def _text(plan: Optional[dict], key: str) -> Optional[str]:
    if not plan:
        return None
    v = plan.get(key)
    return v if isinstance(v, str) and v.strip() else None


def _settlement_years(chosen, years: list[int], cells: pd.DataFrame, fallback: dict) -> pd.DataFrame:
    base = pd.DataFrame([{"kato": s.kato, "name_kk": s.name_kk, "name_ru": s.name_ru, "kind": s.kind,
                          "district_kato": s.district_kato, "district_name_kk": s.district_name_kk,
                          "district_name_ru": s.district_name_ru, "lat": s.lat, "lon": s.lon,
                          "population": float(s.population) if s.population is not None else fallback.get(s.kind),
                          "population_estimated": s.population is None} for s in chosen])
    base = base.merge(pd.DataFrame({"year": years}), how="cross")
    order = {d: i for i, d in enumerate(DIMENSIONS)}
    prob = cells[cells["status"] == "problem"].assign(_o=lambda d: d["dimension"].map(order)).sort_values("_o")
    if len(prob):
        g = prob.groupby(["kato", "year"], sort=False)
        agg = pd.DataFrame({"problem_dimensions": g["dimension"].agg(", ".join), "problems": g.size(),
                            "years_unresolved": g["years_unresolved"].max().astype(int)})
        over = prob[prob["overdue"]].groupby(["kato", "year"], sort=False)["dimension"]
        agg["overdue_dimensions"] = over.agg(", ".join).reindex(agg.index)
        agg["overdue"] = over.size().reindex(agg.index)
        df = base.merge(agg.reset_index(), on=["kato", "year"], how="left")
    else:
        df = base.assign(problem_dimensions=None, problems=0, years_unresolved=0, overdue_dimensions=None, overdue=0)
    df["problem_dimensions"] = df["problem_dimensions"].fillna("")
    df["overdue_dimensions"] = df["overdue_dimensions"].fillna("")
    for c in ("problems", "years_unresolved", "overdue"):
        df[c] = pd.to_numeric(df[c], errors="coerce").fillna(0).astype(int)
    df["priority"] = (df["population"].fillna(0.0) * df["problems"] * df["years_unresolved"]).round(1)
    df = df[["kato", "name_kk", "name_ru", "kind", "district_kato", "district_name_kk", "district_name_ru", "lat",
             "lon", "year", "population", "population_estimated", "problem_dimensions", "problems",
             "overdue_dimensions", "overdue", "years_unresolved", "priority"]]
    return df.sort_values(["year", "priority", "overdue", "kato"],
                          ascending=[True, False, False, True]).reset_index(drop=True)


def _plan_table(plans: pd.DataFrame, settlements: pd.DataFrame, cells: pd.DataFrame, last: int,
                gazetteer: Gazetteer) -> pd.DataFrame:
    cols = ["priority", "kato", "name_kk", "name_ru", "district_name_kk", "district_name_ru", "dimension",
            "planned_year", "programme", "responsible", "note", "state", "state_year", "status_last_year",
            "problem_since", "resolved_year", "population", "population_estimated"]
    if not len(plans):
        return pd.DataFrame(columns=cols)
    st = settlements[settlements["year"] == last].set_index("kato")
    # each plan is judged on the latest year (up to ``last``) in which its settlement x dimension was observed
    known = cells[(cells["year"] <= last) & (cells["status"] != "unknown")].sort_values("year")
    cl = known.groupby(["kato", "dimension"], sort=False).tail(1).set_index(["kato", "dimension"])
    rows = []
    fixes = cells[(cells["year"] <= last) & (cells["display"] == "resolved")
                  & (cells["resolved_year"] == cells["year"])]
    fixed = {(r.kato, r.dimension, int(r.planned_year)): r for r in fixes.itertuples(index=False)
             if not pd.isna(r.planned_year)}
    for p in plans.to_dict(orient="records"):
        s = gazetteer.get(p["kato"])
        c = cl.loc[(p["kato"], p["dimension"])] if (p["kato"], p["dimension"]) in cl.index else None
        display = str(c["display"]) if c is not None else "unknown"
        state_year = int(c["year"]) if c is not None else None
        fix = fixed.get((p["kato"], p["dimension"], int(p["planned_year"])))
        if fix is not None:
            state, state_year = ("done" if fix.resolved_on_time else "done_late"), int(fix.year)
        else:
            state = _plan_state(display, int(p["planned_year"]), None if c is None else c["planned_year"])
        srow = st.loc[p["kato"]] if p["kato"] in st.index else None
        rows.append({"priority": float(srow["priority"]) if srow is not None else 0.0, "kato": p["kato"],
                     "name_kk": s.name_kk, "name_ru": s.name_ru, "district_name_kk": s.district_name_kk,
                     "district_name_ru": s.district_name_ru, "dimension": p["dimension"],
                     "planned_year": int(p["planned_year"]), "programme": p.get("programme"),
                     "responsible": p.get("responsible"), "note": p.get("note"), "state": state,
                     "state_year": state_year, "status_last_year": display,
                     "problem_since": c["problem_since"] if c is not None else None,
                     "resolved_year": c["resolved_year"] if c is not None else None,
                     "population": srow["population"] if srow is not None else None,
                     "population_estimated": bool(srow["population_estimated"]) if srow is not None else None})
    df = pd.DataFrame(rows, columns=cols)
    df["_over"] = df["state"] == "overdue"
    df = df.sort_values(["priority", "_over", "planned_year", "kato", "dimension"],
                        ascending=[False, False, True, True, True]).drop(columns="_over")
    return df.reset_index(drop=True)


def _plan_state(display: str, planned: int, current_plan) -> str:
    """State of a plan not (yet) fulfilled, from its settlement x dimension's latest observed year:
    overdue or pending (the plan applies to the current problem), pending (a later plan queued
    behind it), superseded (an older plan), no_problem, not_observed."""
    if display in ("problem", "overdue"):
        cur = None if current_plan is None or pd.isna(current_plan) else int(current_plan)
        if cur == planned:
            return "overdue" if display == "overdue" else "pending"
        return "pending" if cur is None or planned > cur else "superseded"
    if display in ("no_problem", "resolved"):
        return "no_problem"
    return "not_observed"


PLAN_STATE_LABELS = {
    "overdue": ("Мерзімі өтті", "Просрочено"), "pending": ("Орындалуда", "В работе"),
    "done": ("Орындалды", "Выполнено"), "done_late": ("Кешігіп орындалды", "Выполнено с опозданием"),
    "superseded": ("Басқа жоспармен ауыстырылды", "Заменён другим планом"),
    "no_problem": ("Мәселе жоқ", "Проблемы нет"), "not_observed": ("Бақыланбаған", "Не наблюдалось"),
}


def _district_totals(chosen, years: list[int], cells: pd.DataFrame, gazetteer: Gazetteer) -> pd.DataFrame:
    names = {s.district_kato: (s.district_name_kk, s.district_name_ru) for s in gazetteer}
    district_of = {s.kato: s.district_kato for s in chosen}
    c = cells.assign(district_kato=cells["kato"].map(district_of))
    c = c.assign(problem=c["status"] == "problem", resolved=c["display"] == "resolved",
                 no_problem=c["status"] == "no_problem", unknown=c["status"] == "unknown")
    per_settlement = c.groupby(["kato", "district_kato", "year"], sort=False).agg(
        problem=("problem", "any"), overdue=("overdue", "any"), resolved=("resolved", "any"),
        unknown=("unknown", "all")).reset_index()
    per_settlement["known"] = ~per_settlement["unknown"]
    cnt = ["problem", "overdue", "resolved", "no_problem", "unknown"]
    per_dim = c.groupby(["district_kato", "year", "dimension"], sort=True).agg(
        settlements=("kato", "size"), **{k: (k, "sum") for k in cnt}).reset_index()
    ps = per_settlement.assign(resolved=per_settlement["resolved"] & ~per_settlement["problem"],
                               no_problem=per_settlement["known"] & ~per_settlement["problem"])
    per_any = ps.groupby(["district_kato", "year"], sort=True).agg(
        settlements=("kato", "size"), **{k: (k, "sum") for k in cnt}).reset_index().assign(dimension="any")
    rows = pd.concat([per_dim, per_any], ignore_index=True)
    for k in ["settlements", *cnt]:
        rows[k] = rows[k].astype(int)
    df = pd.DataFrame(rows)
    df["level"] = "district"
    region_of = {s.district_kato: s.region_kato for s in gazetteer}
    sums = ["settlements", "problem", "overdue", "resolved", "no_problem", "unknown"]
    parts = [df]
    for rk, (rkk, rru) in gazetteer.regions.items():
        part = df[df["district_kato"].map(region_of) == rk]
        region = part.groupby(["year", "dimension"], sort=True)[sums].sum().reset_index()
        region["district_kato"], region["level"] = rk, "region"
        names[rk] = (REGION_TOTAL_KK.format(rkk), REGION_TOTAL_RU.format(rru))
        parts.append(region)
    if len(gazetteer.regions) > 1:
        total = df.groupby(["year", "dimension"], sort=True)[sums].sum().reset_index()
        total["district_kato"], total["level"] = TOTAL_KATO, "total"
        names[TOTAL_KATO] = ("Барлығы", "Итого")
        parts.append(total)
    df = pd.concat(parts, ignore_index=True)
    df["district_name_kk"] = [names[k][0] for k in df["district_kato"]]
    df["district_name_ru"] = [names[k][1] for k in df["district_kato"]]
    df["region_kato"] = [k if lv != "district" else region_of[k] for k, lv in zip(df["district_kato"], df["level"])]
    order = {d: i for i, d in enumerate((*DIMENSIONS, "any"))}
    df["_o"] = df["dimension"].map(order)
    rank = {rk: i for i, rk in enumerate(gazetteer.regions)}
    df["_r"] = [rank.get(r, len(rank)) for r in df["region_kato"]]
    df["_l"] = df["level"].map({"district": 0, "region": 1, "total": 2})
    df = df.sort_values(["year", "_o", "_r", "_l", "district_kato"]).drop(columns=["_o", "_r", "_l"])
    df = df.reset_index(drop=True)
    return df[["level", "region_kato", "district_kato", "district_name_kk", "district_name_ru", "year", "dimension",
               "settlements", "problem",
               "overdue", "resolved", "no_problem", "unknown"]]


__all__ = ["DIMENSIONS", "DIMENSION_LABELS", "DISPLAY", "DISPLAY_LABELS", "PLAN_STATE_LABELS", "PRIORITY_FORMULA",
           "ProblemError", "ProblemPicture", "ProblemRules", "build_problems", "load_problem_rules", "parse_years",
           "population_fallbacks"]
