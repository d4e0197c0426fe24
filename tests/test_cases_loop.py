"""The whole complaints loop as `qamtu demo` runs it (after the demo inspection), then trip planning
with inspection records whose findings flow back into the case."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from datetime import date, datetime, time, timedelta, timezone

import pytest
from openpyxl import load_workbook

from qamtu.cases import records
from qamtu.cases.db import open_cases_store
from qamtu.cases.demo import run_cases_demo
from qamtu.cases.links import flow_findings
from qamtu.cases.plan import create_inspections, plan_trips, planning
from qamtu.cases.problems import complaint_observations
from qamtu.cases.workdays import load_calendar
from qamtu.mapping.gazetteer import Gazetteer
from qamtu.reports.inspection_demo import run_demo_inspection


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    g = Gazetteer.load()
    db = out / "demo.db"
    run_demo_inspection(db, out / "inspection", gazetteer=g)
    written = run_cases_demo(db, out, gazetteer=g, inspection_dir=out / "inspection")
    return out, db, written, g


def _pdf_text(path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_thirty_demo_complaints_are_matched_grouped_and_marked(demo):
    out, db, written, _ = demo
    summary = json.loads((out / "cases" / "summary.json").read_text(encoding="utf-8"))
    assert summary["imported"]["rows"] == 30 and summary["imported"]["created"] == 30
    with open_cases_store(db) as store:
        cs = records.complaints(store)
        assert len(cs) == 30 and all(c["demo"] for c in cs)
        assert {c["language"] for c in cs} == {"kk", "ru"}
        assert records.complaints(store, unassigned=True) == []  # a person confirmed the unsure ones
        cases = {c["case_id"]: c for c in records.list_cases(store)}
        assert len(cases) == 4 and sum(c["complainants"] for c in cases.values()) == 30
        main = records.get_case(store, summary["main_case"])
        assert main["state"] == "order_issued" and main["complainants"] == 14
        findings = [h for h in main["history"] if h["kind"] == "findings"]
        assert findings and findings[0]["payload"]["verdict"] == "violation"
        assert [i["role"] for i in main["inspections"]] == ["measurement"]
        outcomes = sorted(c["outcome"] for c in cases.values() if c["state"] == "closed")
        assert outcomes == ["no_violation", "outside_competence"]
        assert all(r["ok"] for r in records.verify(store))


def test_answer_letters_in_both_languages_render_kazakh_letters(demo):
    out, db, written, _ = demo
    pdfs = [p for k, p in written.items() if k.startswith("answer ") and str(p).endswith(".pdf")]
    assert {p.name for p in pdfs} == {"answer_kk.pdf", "answer_ru.pdf"}
    assert all(p.with_suffix(".docx").exists() for p in pdfs)
    kk = _pdf_text(next(p for p in pdfs if p.name == "answer_kk.pdf"))
    ru = _pdf_text(next(p for p in pdfs if p.name == "answer_ru.pdf"))
    assert "Өтінішке ЖАУАП" in kk and all(ch in kk for ch in "әқңөұүі")
    assert "ОТВЕТ на обращение" in ru and "Порядок обжалования" in ru and "ст. 91" in ru
    texts = [_pdf_text(p) for p in pdfs]
    measured = [t for t in texts if "42 " in t and "5 Мбит/с" in t]  # the no-violation case cites its numbers
    assert measured and all("ДЕМО" in t for t in texts)
    redirected = [t for t in texts if "Казтелерадио" in t]
    assert redirected


def test_district_table_open_data_and_problem_picture(demo):
    out, db, written, _ = demo
    wb = load_workbook(out / "cases" / "complaints-districts.xlsx")
    assert set(wb.sheetnames) == {"district", "channel", "operator", "service"}
    rows = list(wb["district"].iter_rows(values_only=True))
    total = next(r for r in rows if r[0] and str(r[0]).startswith("Барлығы"))
    assert total[1] == 30 and total[1] == sum(total[2:6])
    assert (out / "cases" / "complaints-districts" / "districts_kk.png").stat().st_size > 10_000
    text = (out / "cases" / "complaints-open-data.csv").read_text(encoding="utf-8")
    assert "DEMO " not in text and "QT-" not in text and "iin" not in text
    with open(out / "cases" / "complaints-open-data.csv", encoding="utf-8") as fh:
        assert sum(int(r["complaints"]) for r in csv.DictReader(fh)) == 30
    with open_cases_store(db) as store:
        obs = complaint_observations(store)
    assert set(obs["dimension"]) == {"internet", "mobile", "tv_radio"} and obs["complaints"].sum() == 30


def test_plan_creates_inspection_records_and_findings_flow_back(demo, tmp_path):
    from qamtu.probe.store import SampleStore
    from qamtu.probe.synthetic import Campaign, Condition, write_campaign
    from qamtu.reports.registers import Registers

    out, db0, _, g = demo
    db = tmp_path / "copy.db"
    shutil.copy(db0, db)
    registers_dir = out / "inspection" / "registers"
    with open_cases_store(db) as store:
        kcell = next(c for c in records.list_cases(store) if c["operator"] == "kcell")
        trips = plan_trips(store, start=date(2026, 12, 1), cal=load_calendar(), gazetteer=g, settings=planning())
        assert [s.kato for t in trips for s in t.stops] == [kcell["kato"]]
        assert trips[0].day == date(2026, 12, 1) and trips[0].km > 0 and trips[0].minutes > 60
        # without a registered act no inspection record is made
        assert (
            create_inspections(
                store,
                trips,
                registers=Registers.load(registers_dir),
                gazetteer=g,
                inspectors=["Demo inspector"],
                instruments=["DEMO-MODEM-1"],
                by="planner",
            )
            == []
        )
        records.transition(
            store,
            kcell["case_id"],
            "inspection_appointed",
            by="head",
            fields={"act_number": "DEMO-5", "act_registered": "2026-11-30"},
        )
        trips = plan_trips(store, start=date(2026, 12, 1), cal=load_calendar(), gazetteer=g, settings=planning())
        made = create_inspections(
            store,
            trips,
            registers=Registers.load(registers_dir),
            gazetteer=g,
            inspectors=["Demo inspector"],
            instruments=["DEMO-MODEM-1"],
            by="planner",
        )
        assert len(made) == 1 and made[0]["operator"] == "401-02"
        insp_id = made[0]["inspection_id"]
        s = g.get(kcell["kato"])
    with SampleStore(db) as ss:
        poor = Condition("LTE", rsrp_dbm=-115.0, download_mbps=1.5, upload_mbps=0.5)
        write_campaign(
            ss,
            Campaign(
                settlements={s.kato: (s.lat, s.lon)},
                condition=lambda k, o: poor,
                start=datetime.combine(date(2026, 11, 20), time(5), timezone.utc),
                days=3,
                operators=("401-02",),
                samples_per_visit=5,
                speedtests_per_visit=6,
                inspector="Demo inspector",
                inspection_id=insp_id,
                seed=5,
            ),
        )
    with open_cases_store(db) as store:
        rows = flow_findings(store, insp_id, by="inspector", registers_folder=registers_dir)
        assert rows == [
            {
                "case_id": kcell["case_id"],
                "verdict": "violation",
                "moved": ["measured", "violation_found"],
                "synthetic": True,
            }
        ]
        assert records.get_case(store, kcell["case_id"])["state"] == "violation_found"
        assert all(r["ok"] for r in records.verify(store))
    assert date(2026, 12, 1) + timedelta(days=0) == trips[0].day
