"""The problem picture from a real store (five years of synthetic measurements, imported survey and
plans, statuses known by construction), the XLSX workbook, PNG charts and the commands."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import run_qamtu
from qamtu.store.migrations import latest
from qamtu.probe.store import Store
from qamtu.reports.errors import ReportError
from qamtu.reports.problems import picture_from_store, problem_report_from_store
from test_problems_helpers import EXPECTED, YEARS, designed_store


@pytest.fixture(scope="module")
def designed(gazetteer):
    return designed_store(gazetteer)


@pytest.fixture(scope="module")
def picture(designed, gazetteer):
    db, _ = designed
    return picture_from_store(db, YEARS, gazetteer=gazetteer)


def test_statuses_from_the_store_are_the_designed_ones(picture, designed):
    _, roles = designed
    wrong = []
    for role, dims in EXPECTED.items():
        for dim, seq in dims.items():
            got = [picture.status(roles[role], dim, y) for y in YEARS]
            if got != seq:
                wrong.append(f"{role} {dim}: {got} != {seq}")
    assert not wrong, "\n".join(wrong)
    # every other settlement of the region was neither measured nor surveyed
    others = picture.cells[~picture.cells["kato"].isin(roles.values())]
    assert set(others["status"]) == {"unknown"}
    assert any("Синтетические" in n for n in picture.notes)            # the map and workbook say so
    assert picture.as_of == 2025


def test_workbook_has_a_sheet_per_year_plans_by_priority_and_district_totals(designed, gazetteer, tmp_path):
    db, roles = designed
    res = problem_report_from_store(db, tmp_path / "problems.xlsx", years="2021-2025", gazetteer=gazetteer)
    wb = load_workbook(res["path"])
    assert wb.sheetnames == [*map(str, YEARS), "Жоспар - План", "Аудандар - Районы", "Ережелер - Правила"]
    # year sheet: header row 4, sorted by priority, the overdue settlement's status written in both languages
    ws = wb["2023"]
    header = [c.value for c in ws[4]]
    assert header[:4] == ["Басымдық / Приоритет", "ҚАТО / КАТО", "Атауы (қаз.)", "Название (рус.)"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=5)]
    assert [r[0] for r in rows] == sorted((r[0] for r in rows), reverse=True)
    mobile_col = header.index("Ұялы байланыс / Мобильная связь")
    overdue = next(r for r in rows if r[1] == roles["mobile_overdue"])
    assert overdue[mobile_col].startswith("Мерзімі өтті / Просрочено") and "план 2022" in overdue[mobile_col]
    assert "ДЕМО" not in str(ws["A3"].value) and "P × D × U" in str(ws["A3"].value)
    # plan sheet sorted by priority, with states
    ps = wb["Жоспар - План"]
    prow = [[c.value for c in r] for r in ps.iter_rows(min_row=5)]
    assert [r[0] for r in prow] == sorted((r[0] for r in prow), reverse=True) and len(prow) == 3
    states = {r[1]: r[10] for r in prow}
    assert states[roles["mobile_overdue"]] == "Мерзімі өтті / Просрочено"
    assert states[roles["tv_foreign"]] == "Кешігіп орындалды / Выполнено с опозданием"
    assert states[roles["internet_fixed"]] == "Орындалды / Выполнено"
    # district totals: Kazygurt district (614000000) in 2023: internet problems of internet_fixed? no: fixed in 2023
    ds = wb["Аудандар - Районы"]
    dh = [c.value for c in ds[4]]
    drows = {(r[0], r[3]): r for r in ([c.value for c in x] for x in ds.iter_rows(min_row=5)) if r[0]}
    kz = drows[("614000000", 2023)]
    assert kz[dh.index("Ұялы байланыс / Мобильная связь: мәселе / проблема")] == 2          # mobile_overdue, gap
    assert kz[dh.index("Интернет: мәселе / проблема")] == 3                                 # mobile_overdue, gap,
                                                                                            # fixed_line
    assert kz[dh.index("Кез келген бағыт / Любое направление: мәселе / проблема")] == 4      # + tv_foreign
    assert kz[dh.index("Мерзімі өткен НП / НП с просрочкой")] == 2                         # mobile_overdue, tv_foreign
    assert drows[("610000000", 2023)][dh.index("Мерзімі өткен НП / НП с просрочкой")] == 2
    assert ds._images, "the charts are embedded in the district sheet"
    # charts
    assert [Path(p).name for p in res["pngs"]] == ["problems-by-district.png", "problems-by-district-dimension.png"]
    assert all(Path(p).stat().st_size > 20_000 for p in res["pngs"])
    rules = [[c.value for c in r] for r in wb["Ережелер - Правила"].iter_rows()]
    assert any(r[1] == "P × D × U" for r in rules) and any("kz-coverage" in str(r[1]) for r in rules)


def test_commands_write_the_map_and_the_workbook(designed, tmp_path):
    db, roles = designed
    proc = run_qamtu("map", "problems", "--db", str(db), "--years", "2021-2025", "--out", str(tmp_path / "p.html"),
                     "--offline", "--json")
    res = json.loads(proc.stdout)
    assert res["offline"] and res["years"] == YEARS and res["markers"] > 700
    row = {r["year"]: r for r in res["summary"]}
    assert row[2023]["mobile"] == 2 and row[2023]["overdue"] == 2 and row[2021]["tv_radio"] == 1
    html = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert "Мерзімі өтті" in html and "Просрочено" in html and "tile.openstreetmap.org" not in html
    # --region: the designed problems are all in Turkistan; Zhambyl alone has none, and fewer markers
    proc = run_qamtu("map", "problems", "--db", str(db), "--years", "2021-2025", "--out", str(tmp_path / "z.html"),
                     "--offline", "--region", "Zhambyl", "--json")
    zh = json.loads(proc.stdout)
    assert 0 < zh["markers"] < res["markers"] and all(r["any"] == 0 for r in zh["summary"])
    fit = r"fitBounds\(\s*\[\[([-\d.]+),\s*([-\d.]+)\],\s*\[([-\d.]+),\s*([-\d.]+)\]"
    bounds = [float(v) for v in re.findall(fit, (tmp_path / "z.html").read_text(encoding="utf-8"))[-1]]  # folium's call
    assert 42.2 < bounds[0] < bounds[2] < 46.1 and 69 < bounds[1] < bounds[3] < 75.9  # Zhambyl region, not the rest
    from typer.testing import CliRunner

    from qamtu.cli import app

    res = CliRunner().invoke(app, ["report", "problems", "--db", str(db), "--years", "2021-2025", "--out",
                                   str(tmp_path / "p.xlsx")])
    assert res.exit_code == 0 and "wrote" in res.output, res.output
    assert (tmp_path / "p-charts" / "problems-by-district.png").exists()
    proc = run_qamtu("map", "problems", "--db", str(tmp_path / "missing.db"), "--out", str(tmp_path / "x.html"),
                     check=False)
    assert proc.returncode == 1 and "no such store" in proc.stderr


def test_an_older_store_migrates_and_keeps_its_data(tmp_path, designed):
    db, _ = designed
    old = tmp_path / "old.db"
    src = sqlite3.connect(db)
    src.backup(dst := sqlite3.connect(old))
    src.close()
    # as qamtu 0.1.0 left a store at schema version 2 (before surveys and plans)
    dst.executescript("DROP TABLE survey_observations; DROP TABLE remediation_plans; DROP TABLE store_migrations; "
                      "DELETE FROM schema_migrations WHERE version >= 3; PRAGMA user_version = 2;")
    # owners that came after 0.1.0 (cases, office, ...) had no tables in such a store
    released = {"sessions", "records", "samples", "speedtests", "events", "inspections", "schema_migrations"}
    newer = dst.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").fetchall()
    for (table,) in newer:
        if table not in released:
            dst.execute(f"DROP TABLE {table}")
    dst.commit()
    dst.close()
    with Store(old) as st:
        assert st.schema_versions() == latest() and latest()["reports"] >= 2
        assert st.query("SELECT COUNT(*) AS n FROM survey_observations")[0]["n"] == 0
        assert len(st.sessions()) > 0


def test_demo_writes_a_labelled_five_year_example(tmp_path, gazetteer):
    from qamtu.reports.problems import write_demo_problems

    out = write_demo_problems(tmp_path / "problems-demo.db", tmp_path / "demo", gazetteer)
    assert {"problems map", "problems workbook", "problems survey (demo)", "problems plans (demo)"} <= set(out)
    assert all(Path(p).exists() for p in out.values())
    html = out["problems map"].read_text(encoding="utf-8")
    assert "ДЕМО" in html and "Синтетические данные, не измерения" in html and "tile.openstreetmap.org" not in html
    rows = list(csv.DictReader(out["problems survey (demo)"].open(encoding="utf-8")))
    assert rows and all("DEMO" in r["note"] for r in rows)
    assert any(r["dimension"] == "tv_foreign_only" and r["value"] == "yes" for r in rows)
    wb = load_workbook(out["problems workbook"], read_only=True)
    assert "2027" in wb.sheetnames and "ДЕМО" in str(wb["Жоспар - План"]["A3"].value)
    with pytest.raises(ReportError, match="already holds sessions"):
        write_demo_problems(tmp_path / "problems-demo.db", tmp_path / "again", gazetteer)
