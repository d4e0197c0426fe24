"""The `qamtu cases` commands as a user runs them (the installed console script)."""

from __future__ import annotations

import json

from conftest import run_qamtu

from qamtu.cases.importer import template_path


def _db(tmp_path):
    db = str(tmp_path / "c.db")
    run_qamtu("cases", "import", str(template_path("complaints-template.csv")), "--by", "clerk", "--db", db)
    return db


def test_register_move_verify_and_refusals(tmp_path):
    db = _db(tmp_path)
    out = json.loads(
        run_qamtu(
            "cases",
            "register",
            "--channel",
            "paper",
            "--number",
            "ВХ-7",
            "--received",
            "2026-03-18",
            "--name",
            "Ким Ольга",
            "--postal-address",
            "Шаян",
            "--substance",
            "нет интернета",
            "--place",
            "Шаян ауылы",
            "--operator",
            "tele2",
            "--service",
            "mobile_internet",
            "--by",
            "clerk",
            "--db",
            db,
            "--json",
        ).stdout
    )
    assert out["complaint_id"] == "QT-2026-000003" and out["cases"] == ["CASE-2026-0001"]
    bad = run_qamtu("cases", "move", "CASE-2026-0001", "measured", "--by", "x", "--db", db, check=False)
    assert bad.returncode == 1
    assert "allowed from 'registered': accepted, redirected" in bad.stderr
    run_qamtu("cases", "move", "CASE-2026-0001", "accepted", "--by", "head", "--db", db)
    shown = json.loads(run_qamtu("cases", "show", "CASE-2026-0001", "--db", db, "--json").stdout)
    assert shown["state"] == "accepted" and shown["history"][-1]["payload"]["by"] == "head"
    assert "Ким" not in json.dumps(shown, ensure_ascii=False)
    assert "1 of 1 case histories intact" in run_qamtu("cases", "verify", "--db", db).stdout
    wrong = run_qamtu(
        "cases",
        "register",
        "--channel",
        "fax",
        "--number",
        "1",
        "--received",
        "2026-03-18",
        "--name",
        "x",
        "--postal-address",
        "x",
        "--substance",
        "x",
        "--place",
        "x",
        "--by",
        "c",
        "--db",
        db,
        check=False,
    )
    # refused while the command line is parsed, before the store is opened, listing the channels
    said = " ".join(wrong.stderr.replace("│", " ").split())
    assert wrong.returncode == 2 and "'fax' is not one of: e_otinish, 109, egov, paper, walk_in, web_form" in said


def test_due_json_shows_deemed_refusal(tmp_path):
    db = _db(tmp_path)
    out = json.loads(run_qamtu("cases", "due", "--date", "2026-04-14", "--db", db, "--json").stdout)
    rows = {r["complaint_id"]: r for r in out["answers"]}
    assert rows["QT-2026-000001"]["due"] == "2026-04-09"
    assert rows["QT-2026-000001"]["deemed_refusal_from"] == "2026-04-10"
    assert rows["QT-2026-000001"]["deemed_refusal_text_ru"].startswith("Срок ответа истёк")
    assert out["calendar"]["doubts"]
    early = json.loads(run_qamtu("cases", "due", "--date", "2026-03-20", "--db", db, "--json").stdout)
    assert {r["status"] for r in early["answers"]} == {"due"}
    bad = run_qamtu("cases", "due", "--date", "20.03.2026", "--db", db, check=False)
    assert bad.returncode == 1 and "give a date YYYY-MM-DD" in bad.stderr


def test_personal_data_export_needs_the_flag_and_is_logged(tmp_path):
    db = _db(tmp_path)
    open_csv = tmp_path / "open.csv"
    run_qamtu("cases", "export", "--out", str(open_csv), "--db", db)
    assert "Асанов" not in open_csv.read_text(encoding="utf-8")
    assert json.loads(run_qamtu("cases", "exports-log", "--db", db, "--json").stdout) == []
    pd_csv = tmp_path / "pd.csv"
    refused = run_qamtu("cases", "export", "--out", str(pd_csv), "--with-personal-data", "--db", db, check=False)
    assert refused.returncode == 1 and "--by and --purpose are required" in refused.stderr and not pd_csv.exists()
    run_qamtu(
        "cases",
        "export",
        "--out",
        str(pd_csv),
        "--with-personal-data",
        "--by",
        "Иванов",
        "--purpose",
        "court request 12",
        "--db",
        db,
    )
    assert "Асанов Бауыржан Ерланович" in pd_csv.read_text(encoding="utf-8")
    log = json.loads(run_qamtu("cases", "exports-log", "--db", db, "--json").stdout)
    assert len(log) == 1 and log[0]["actor"] == "Иванов" and log[0]["n_rows"] == 2
    assert log[0]["purpose"] == "court request 12" and log[0]["target"].endswith("pd.csv")


def test_calendar_command(tmp_path):
    out = json.loads(run_qamtu("cases", "calendar", "2026", "--json").stdout)
    days = {d["date"]: d for d in out["days"]}
    assert days["2026-03-24"]["why"].startswith("перенос: Наурыз")
    assert not days["2026-05-27"]["confirmed"]
    bad = run_qamtu("cases", "calendar", "2030", check=False)
    assert bad.returncode == 1 and "covers 2024-2027" in bad.stderr


def test_redirect_answer_report_and_plan_from_the_command_line(tmp_path):
    import subprocess

    db = _db(tmp_path)
    # the first template row has no operator column: Tele2 and the service were extracted from its text
    assert json.loads(run_qamtu("cases", "show", "QT-2026-000001", "--db", db, "--json").stdout)["cases"] == [
        "CASE-2026-0001"]
    run_qamtu("cases", "move", "CASE-2026-0001", "redirected", "--set", "to_body=Акимат района", "--by", "head",
              "--db", db)
    out = tmp_path / "answers"
    for talon in ("QT-2026-000001", "QT-2026-000002"):
        run_qamtu("cases", "answer", talon, "--out", str(out), "--date", "2026-03-25", "--by", "Начальник", "--db", db)
    ru = subprocess.run(["pdftotext", str(out / "QT-2026-000001" / "answer_ru.pdf"), "-"], capture_output=True,
                        text=True, check=True).stdout
    kk = subprocess.run(["pdftotext", str(out / "QT-2026-000002" / "answer_kk.pdf"), "-"], capture_output=True,
                        text=True, check=True).stdout
    ru, kk = " ".join(ru.split()), " ".join(kk.split())
    assert "направлено по компетенции: Акимат района" in ru and "Асанов Бауыржан" in ru and "Өтінішке ЖАУАП" in kk
    again = run_qamtu("cases", "answer", "QT-2026-000001", "--out", str(out), "--by", "x", "--db", db, check=False)
    assert again.returncode == 1 and "already answered" in again.stderr
    shown = json.loads(run_qamtu("cases", "show", "CASE-2026-0001", "--db", db, "--json").stdout)
    assert shown["state"] == "answered" and [h["kind"] for h in shown["history"]].count("answer_issued") == 2
    run_qamtu("cases", "move", "CASE-2026-0001", "closed", "--set", "outcome=outside_competence", "--by", "head",
              "--db", db)
    rep = json.loads(run_qamtu("cases", "report", "--out", str(tmp_path / "t.xlsx"), "--date", "2026-04-30", "--db", db,
                               "--json").stdout)
    total = rep["tables"]["district"][-1]
    assert total["received"] == 2 and total["closed_on_time"] == 2 and total["on_time_share"] == 1.0
    assert (tmp_path / "t-charts" / "districts_ru.png").exists()
    plan = json.loads(run_qamtu("cases", "plan", "--out", str(tmp_path / "trips.xlsx"), "--date", "2026-04-01", "--by",
                                "planner", "--db", db, "--json").stdout)
    assert plan["trips"] == [] and (tmp_path / "trips.xlsx").exists()
