"""`qamtu cases import`: the shipped template and mapping, all-or-nothing, row-numbered errors, idempotency."""

from __future__ import annotations

import shutil

import pytest
from openpyxl import Workbook

from qamtu.cases import records
from qamtu.cases.db import open_cases_store
from qamtu.cases.errors import CasesError, ImportRowsError
from qamtu.cases.importer import import_file, load_mapping, read_rows, template_path
from qamtu.cases.registers import appeals

A = appeals()


@pytest.fixture
def store(tmp_path):
    with open_cases_store(tmp_path / "c.db") as s:
        yield s


def test_the_shipped_template_imports_and_is_idempotent(store):
    first = import_file(store, template_path("complaints-template.csv"), by="clerk", appeals=A)
    assert first["rows"] == 2 and first["created"] == 2 and first["skipped"] == 0
    again = import_file(store, template_path("complaints-template.csv"), by="clerk", appeals=A)
    assert again["created"] == 0 and again["skipped"] == 2
    rows = {c["external_number"]: c for c in records.complaints(store)}
    assert len(rows) == 2
    kk = rows["109-55881"]
    # the Kazakh row names its operator and service: matched to Shayan (Baidibek district) and grouped
    assert kk["kato"] == "613630100" and kk["language"] == "kk" and kk["channel"] == "109"
    assert kk["received"] == "2026-03-17"
    assert len(records.list_cases(store)) == 1


def _bad_copy(tmp_path, replace: dict[str, str]):
    text = template_path("complaints-template.csv").read_text(encoding="utf-8")
    for a, b in replace.items():
        text = text.replace(a, b)
    p = tmp_path / "bad.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_bad_rows_are_listed_by_row_number_and_nothing_is_written(store, tmp_path):
    bad = _bad_copy(tmp_path, {"16.03.2026": "31.02.2026", ";қаз;": ";klingon;"})
    with pytest.raises(ImportRowsError) as exc:
        import_file(store, bad, by="clerk", appeals=A)
    msg = str(exc.value)
    assert "2 bad row(s), nothing imported" in msg
    assert "row 2, column 'Дата регистрации': '31.02.2026' is not a date" in msg
    assert "row 3, column 'Язык': 'klingon' is not one of kk, ru" in msg
    assert records.complaints(store) == []


def test_repeated_number_in_one_file(store, tmp_path):
    bad = _bad_copy(tmp_path, {"109-55881": "ЖТ-2026-000123", "\n109;": "\nE-Otinish;"})
    with pytest.raises(
        ImportRowsError, match="row 3, column 'Номер обращения': e_otinish number 'ЖТ-2026-000123' repeats row 2"
    ):
        import_file(store, bad, by="clerk", appeals=A)


def test_missing_column_names_the_mapping_field(store, tmp_path):
    bad = _bad_copy(tmp_path, {"Суть обращения": "Текст"})
    with pytest.raises(CasesError, match=r"column 'Суть обращения' \(field substance"):
        import_file(store, bad, by="clerk", appeals=A)


def test_xlsx_with_a_custom_mapping(store, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["No", "Date", "Who", "Addr", "Text", "Place"])
    ws.append(["109-1", "2026-04-01", "Ким Ольга", "Шаян", "Tele2 интернет плохой", "Шаян ауылы"])
    ws.append(["109-2", "2026-04-02", "", "Шаян", "нет связи", "Шаян"])
    p = tmp_path / "export.xlsx"
    wb.save(p)
    m = tmp_path / "m.toml"
    m.write_text(
        'date_formats = ["%Y-%m-%d"]\n[columns]\nexternal_number = "No"\nreceived = "Date"\n'
        'applicant_name = "Who"\npostal_address = "Addr"\nsubstance = "Text"\naddress_text = "Place"\n'
        '[defaults]\nchannel = "109"\nlanguage = "ru"\naddressee = "Инспекция"\n',
        encoding="utf-8",
    )
    with pytest.raises(ImportRowsError, match="row 3, column 'Who': empty"):
        import_file(store, p, by="clerk", appeals=A, mapping=load_mapping(m))
    ws["C3"] = "Пак Сергей"
    wb.save(p)
    out = import_file(store, p, by="clerk", appeals=A, mapping=load_mapping(m))
    assert out["created"] == 2
    header, rows = read_rows(p)
    assert header[0] == "No" and [n for n, _ in rows] == [2, 3]


def test_mapping_errors(tmp_path):
    m = tmp_path / "m.toml"
    m.write_text('[columns]\nexternal_number = "No"\nwho_knows = "X"\n', encoding="utf-8")
    with pytest.raises(CasesError, match="unknown field\\(s\\) who_knows"):
        load_mapping(m)
    shutil.copy(template_path("complaints-mapping.toml"), m)
    m.write_text(m.read_text(encoding="utf-8").replace('substance = "Суть обращения"\n', ""), encoding="utf-8")
    with pytest.raises(CasesError, match="substance need a column"):
        load_mapping(m)
