"""Import of survey observations and remediation plans: every row checked, all or nothing, templates."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook

from conftest import run_qamtu
from qamtu.store.migrations import latest
from qamtu.probe.store import Store
from qamtu.reports.surveys import (PLAN_TEMPLATE_COLUMNS, SURVEY_TEMPLATE_COLUMNS, SurveyImportError, import_plans,
                                   import_survey, plans_frame, survey_frame, template_path, write_template)

TODAY = date(2026, 11, 28)


@pytest.fixture
def villages(gazetteer):
    return sorted(s.kato for s in gazetteer if s.kind == "village" and s.kato.startswith("6140"))[:3]


def write_csv(path, header, rows, delimiter=",", bom=False):
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        w = csv.writer(f, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)
    return path


def count(store, table):
    return store.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]


def test_good_survey_imports_and_reimport_replaces(tmp_path, gazetteer, villages):
    a, b, _ = villages
    f = write_csv(tmp_path / "s.csv", ["kato", "year", "dimension", "value", "observed_on", "observer", "note"],
                  [[a, 2024, "tv_foreign_only", "иә", "2024-08-01", "Әйгерім Қасымова",
                    "тек өзбек арналары / только узбекские"],
                   [a, 2024, "post", "Нет", "", "", ""], [b, 2023, "fixed_internet", "yes", "", "", ""]],
                  delimiter=";", bom=True)                      # Excel's Russian-locale CSV: ';' and a BOM
    with Store(tmp_path / "db.sqlite") as st:
        assert st.schema_versions() == latest()
        res = import_survey(st, f, gazetteer, today=TODAY)
        assert res["rows"] == 3 and res["new"] == 3 and res["replaced"] == 0
        df = survey_frame(st)
        assert set(df["value"]) == {"yes", "no"}
        row = df[(df["kato"] == a) & (df["dimension"] == "tv_foreign_only")].iloc[0]
        assert row["value"] == "yes" and row["observer"] == "Әйгерім Қасымова" and "өзбек" in row["note"]
        assert row["source_file"] == "s.csv" and row["source_row"] == 2
        f2 = write_csv(tmp_path / "s2.csv", ["kato", "year", "dimension", "value"], [[a, 2024, "post", "yes"]])
        res = import_survey(st, f2, gazetteer, today=TODAY)
        assert res["replaced"] == 1 and count(st, "survey_observations") == 3
        assert survey_frame(st).set_index(["kato", "dimension"]).loc[(a, "post"), "value"] == "yes"


def test_bad_rows_are_all_named_and_nothing_is_imported(tmp_path, gazetteer, villages):
    a, b, c = villages
    rows = [[a, 2024, "radio", "no"],                      # row 2: good
            ["611999999", 2024, "radio", "no"],            # row 3: unknown KATO
            [b, 2031, "radio", "no"],                      # row 4: future year
            [b, "24", "radio", "no"],                      # row 5: bad year
            [c, 2024, "tv", "no"],                         # row 6: unknown dimension
            [c, 2024, "radio", "maybe"],                   # row 7: not yes/no
            [a, 2024, "radio", "yes"],                     # row 8: same key as row 2
            [c, 2023, "post", "no", "2024-01-05"]]         # row 9: date outside the year
    f = write_csv(tmp_path / "bad.csv", ["kato", "year", "dimension", "value", "observed_on"], rows)
    with Store(tmp_path / "db.sqlite") as st:
        with pytest.raises(SurveyImportError) as exc:
            import_survey(st, f, gazetteer, today=TODAY)
        msg = str(exc.value)
        assert str(f) in msg and "7 bad row(s) of 8; nothing imported" in msg
        for expected in ("row 3: unknown KATO 611999999", "row 4: bad year 2031", "row 5: bad year '24'",
                         "row 6: unknown dimension 'tv'", "row 7: value 'maybe'", "row 8:", "already given in row 2",
                         "row 9: observed_on 2024-01-05 is not in year 2023"):
            assert expected in msg, expected
        assert "row 2:" not in msg
        assert count(st, "survey_observations") == 0          # the good row was not kept either


def test_plans_from_xlsx_with_numeric_cells_and_bad_rows(tmp_path, gazetteer, villages):
    a, b, _ = villages
    wb = Workbook()
    ws = wb.active
    ws.append(["kato", "dimension", "planned_year", "programme", "responsible", "settlement"])
    ws.append([int(a), "internet", 2025.0, "«Доступный интернет» (мысал / пример)", "Оператор", "Ақжар"])
    ws.append([])                                                           # blank row: skipped
    ws.append([int(b), "Mobile", 2026, None, "Әкімдік"])
    good = tmp_path / "plans.xlsx"
    wb.save(good)
    with Store(tmp_path / "db.sqlite") as st:
        res = import_plans(st, good, gazetteer)
        assert res["rows"] == 2 and res["planned_years"] == [2025, 2026]
        p = plans_frame(st).set_index("kato")
        assert p.loc[a, "programme"] == "«Доступный интернет» (мысал / пример)" and p.loc[b, "dimension"] == "mobile"
        assert p.loc[b, "source_row"] == 4                                 # the sheet's own row number
        ws.append([int(a), "television", 2025])
        ws.append([int(b), "post", "next year"])
        wb.save(tmp_path / "bad.xlsx")
        with pytest.raises(SurveyImportError,
                           match=r"row 5: unknown dimension 'television'.*\n.*row 6: bad planned_year"):
            import_plans(st, tmp_path / "bad.xlsx", gazetteer)
        assert count(st, "remediation_plans") == 2


def test_header_problems_and_files_that_are_not_csv(tmp_path, gazetteer, villages):
    with Store(tmp_path / "db.sqlite") as st:
        f = write_csv(tmp_path / "h.csv", ["kato", "year", "dimensoin", "value"], [[villages[0], 2024, "post", "no"]])
        with pytest.raises(SurveyImportError, match=r"row 1: unknown column\(s\) dimensoin"):
            import_survey(st, f, gazetteer, today=TODAY)
        f = write_csv(tmp_path / "m.csv", ["kato", "dimension", "programme"], [[villages[0], "post", "x"]])
        with pytest.raises(SurveyImportError, match=r"row 1: missing column\(s\) planned_year"):
            import_plans(st, f, gazetteer)
        cp = tmp_path / "cp1251.csv"
        cp.write_bytes("kato,year,dimension,value,note\n614030100,2024,post,no,Почты нет\n".encode("cp1251"))
        with pytest.raises(SurveyImportError, match="not UTF-8"):
            import_survey(st, cp, gazetteer, today=TODAY)


def test_templates_are_shipped_and_match_the_importer(tmp_path):
    for kind, cols in (("survey", SURVEY_TEMPLATE_COLUMNS), ("plan", PLAN_TEMPLATE_COLUMNS)):
        header = template_path(kind).read_text(encoding="utf-8").splitlines()[0].split(",")
        assert header == [c.name for c in cols]
        out = write_template(kind, tmp_path / f"{kind}.xlsx")
        wb = load_workbook(out)
        assert [c.value for c in wb["data"][1]] == header
        info = [[c.value for c in r] for r in wb["Нұсқау - Инструкция"].iter_rows()]
        assert any("ҚАТО" in str(r[2]) and "КАТО" in str(r[3]) for r in info)      # Kazakh letters kept


def test_cli_import_refuses_a_bad_file_with_exit_1(tmp_path, villages):
    db = tmp_path / "cli.db"
    good = write_csv(tmp_path / "plans.csv", ["kato", "dimension", "planned_year", "programme", "responsible"],
                     [[villages[0], "tv_radio", 2026, "Бағдарлама", "Әкімдік"]])
    proc = run_qamtu("problems", "import-plan", str(good), "--db", str(db), "--json")
    assert '"rows": 1' in proc.stdout
    bad = write_csv(tmp_path / "bad.csv", ["kato", "dimension", "planned_year"], [[villages[1], "radio", 2026]])
    proc = run_qamtu("problems", "import-plan", str(bad), "--db", str(db), check=False)
    assert (proc.returncode == 1 and "row 2: unknown dimension 'radio'" in proc.stderr
            and "nothing imported" in proc.stderr)
