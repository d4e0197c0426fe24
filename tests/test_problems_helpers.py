"""Shared data for the problem-map tests: a five-year (2021-2025) store whose statuses are known by
construction (synthetic measurements per year, survey and plan CSV files), imported by
test_problems_*.py; holds one self-check. Years lie in the past so the "no future survey year" check
never depends on the day the tests run."""

from __future__ import annotations

import atexit
import csv
import shutil
import tempfile
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from qamtu.probe.synthetic import Campaign, Condition, write_campaign

YEARS = [2021, 2022, 2023, 2024, 2025]
GOOD = Condition("LTE", rsrp_dbm=-88, download_mbps=25, upload_mbps=6)     # 4g, internet meets the standard
SLOW = Condition("UMTS", rsrp_dbm=-95, download_mbps=0.4, upload_mbps=0.2)  # 3g, internet below the standard
NONE = Condition("none")                                                     # no service, no internet
KCELL = "401-02"

#: role -> year -> condition measured that year (missing year: not measured); "thin" is measured on one day only
MEASURED = {
    "internet_fixed": {2021: SLOW, 2022: SLOW, 2023: GOOD, 2024: GOOD, 2025: GOOD},
    "mobile_overdue": {y: NONE for y in YEARS},
    "gap": {2021: GOOD, 2023: NONE, 2024: NONE, 2025: NONE},
    "thin": {2021: GOOD},
    "tv_foreign": {y: GOOD for y in YEARS},
    "fixed_line": {y: SLOW for y in YEARS},
}
#: survey rows: (role, year, dimension, value)
SURVEY = [
    *[("tv_foreign", y, "tv_foreign_only", "yes") for y in (2021, 2022, 2023)],
    ("tv_foreign", 2024, "tv_foreign_only", "no"), ("tv_foreign", 2024, "tv_domestic", "yes"),
    ("fixed_line", 2024, "fixed_internet", "yes"),
    ("internet_fixed", 2025, "post", "no"),
    *[("mobile_overdue", y, "post", "yes") for y in YEARS],
]
#: markup in user data must be shown as text, never run (checked in the browser test)
EVIL = "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','1')\">"
#: plan rows: (role, dimension, planned year, programme, responsible)
PLANS = [
    ("internet_fixed", "internet", 2023, "«Доступный интернет» (мысал / пример)", "Оператор"),
    ("mobile_overdue", "mobile", 2022, EVIL + "Бағдарлама / Программа", "Әкімдік / Акимат"),
    ("tv_foreign", "tv_radio", 2022, "Теледидар / Телевидение", "Облыс әкімдігі"),
]
#: role -> dimension -> expected display per year (unknown where no source speaks)
EXPECTED = {
    "internet_fixed": {"internet": ["problem", "problem", "resolved", "resolved", "resolved"],
                       "mobile": ["no_problem"] * 5,
                       "post": ["unknown"] * 4 + ["problem"]},
    "mobile_overdue": {"mobile": ["problem", "problem", "overdue", "overdue", "overdue"],
                       "internet": ["problem"] * 5, "post": ["no_problem"] * 5},
    "gap": {"mobile": ["no_problem", "unknown", "problem", "problem", "problem"],
            "internet": ["no_problem", "unknown", "problem", "problem", "problem"]},
    "thin": {"mobile": ["unknown"] * 5, "internet": ["unknown"] * 5},
    "tv_foreign": {"tv_radio": ["problem", "problem", "overdue", "resolved", "unknown"]},   # 2025: no survey
    "fixed_line": {"internet": ["problem", "problem", "problem", "resolved", "problem"], "mobile": ["no_problem"] * 5},
}


def pick_roles(gazetteer) -> dict[str, str]:
    """Role -> KATO: located villages of Kazygurt district (6140...), sorted by code."""
    villages = sorted(s.kato for s in gazetteer if s.located and s.kind == "village" and s.kato.startswith("6140"))
    return dict(zip(MEASURED, villages))


def write_survey_csv(path: Path, roles: dict[str, str], rows=SURVEY) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kato", "year", "dimension", "value", "observed_on", "observer", "note", "settlement"])
        for role, year, dim, value in rows:
            w.writerow([roles[role], year, dim, value, f"{year}-07-01", "Әйгерім Қасымова", "тест / test", role])
    return path


def write_plan_csv(path: Path, roles: dict[str, str], rows=PLANS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kato", "dimension", "planned_year", "programme", "responsible", "note"])
        for role, dim, year, prog, resp in rows:
            w.writerow([roles[role], dim, year, prog, resp, ""])
    return path


def write_measurements(store, gazetteer, roles: dict[str, str]) -> None:
    for role, per_year in MEASURED.items():
        kato = roles[role]
        s = gazetteer.get(kato)
        for year, cond in per_year.items():
            write_campaign(store, Campaign({kato: (s.lat, s.lon)}, lambda k, o, c=cond: c,
                                           days=1 if role == "thin" else 2, operators=(KCELL,),
                                           samples_per_visit=20, speedtests_per_visit=2,
                                           start=datetime(year, 5, 3, 5, 0, tzinfo=timezone.utc), seed=year))


@lru_cache(maxsize=1)
def designed_store(gazetteer) -> tuple[Path, dict[str, str]]:
    """A store with the designed measurements, survey and plans (built once per test process)."""
    from qamtu.probe.store import Store
    from qamtu.reports.surveys import import_plans, import_survey

    folder = Path(tempfile.mkdtemp(prefix="qamtu-problems-"))
    atexit.register(shutil.rmtree, folder, True)
    roles = pick_roles(gazetteer)
    db = folder / "five-years.db"
    with Store(db) as store:
        write_measurements(store, gazetteer, roles)
        import_survey(store, write_survey_csv(folder / "survey.csv", roles), gazetteer)
        import_plans(store, write_plan_csv(folder / "plans.csv", roles), gazetteer)
    return db, roles


def test_design_rows_name_known_roles_and_years():
    roles = set(MEASURED)
    assert {r for r, *_ in SURVEY} <= roles and {r for r, *_ in PLANS} <= roles and set(EXPECTED) <= roles
    for role, dims in EXPECTED.items():
        for dim, seq in dims.items():
            assert len(seq) == len(YEARS), (role, dim)
