"""`qamtu cases import`: the shipped template and mapping, all-or-nothing, row-numbered errors, idempotency."""

from __future__ import annotations

import shutil
from datetime import date

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


# ------------------------------------------------------------ bulk writing (held inserts, executemany)
HEADER = template_path("complaints-template.csv").read_text(encoding="utf-8").splitlines()[0]
TEXTS = ["Мобильный интернет Tele2 не работает", "Шаян ауылында Beeline интернеті нашар",
         "Kcell: нет связи, звонки срываются", "Интернет почти не работает, Tele2"]


def _rows_file(tmp_path, name, rows):
    """A template-shaped CSV: (number, received dd.mm.yyyy, text) per row, all in Shayan."""
    lines = [HEADER] + [
        f"E-Otinish;{num};{day};;Заявитель {num};;с. Шаян, ул. Абая 1;;Инспекция;{text};"
        "с. Шаян, Байдибекский район;рус;;"
        for num, day, text in rows
    ]
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def _content(store):
    def q(sql):
        return [tuple(r.values()) for r in store.query(sql)]

    return {
        "complaints": q("SELECT complaint_id, external_number, kato, operators, services, facts FROM cases_complaints "
                        "ORDER BY complaint_id"),
        "applicants": q("SELECT * FROM cases_applicants ORDER BY complaint_id"),
        "cases": q("SELECT case_id, kato, operator, service, opened, last_received, state FROM cases_cases "
                   "ORDER BY case_id"),
        "links": q("SELECT * FROM cases_case_complaints ORDER BY case_id, complaint_id"),
        "history": q("SELECT case_id, seq, kind, payload FROM cases_history ORDER BY case_id, seq"),
    }


def test_bulk_import_writes_what_registering_row_by_row_writes(tmp_path):
    from qamtu.cases.importer import parse

    rows = [(f"B-{i:03d}", f"{1 + (i * 7) % 28:02d}.{3 + i % 5:02d}.2026", TEXTS[i % len(TEXTS)]) for i in range(40)]
    path = _rows_file(tmp_path, "rows.csv", rows)
    with open_cases_store(tmp_path / "bulk.db") as bulk, open_cases_store(tmp_path / "one.db") as one:
        out = import_file(bulk, path, by="clerk", appeals=A)
        assert out["created"] == 40 and out["cases"] >= 4
        for p in parse(path, load_mapping()):
            records.register_complaint(one, p.facts, p.applicant, by="clerk", appeals=A)
        got, want = _content(bulk), _content(one)
        assert got == want
        assert len(got["history"]) > len(got["cases"])      # cases were joined, not only opened
        assert all(r["ok"] for r in records.verify(bulk)) and len(records.verify(bulk)) == len(got["cases"])


def test_import_reopens_a_closed_case_and_keeps_the_chain(store, tmp_path):
    first = _rows_file(tmp_path, "a.csv", [("A-1", "02.03.2026", TEXTS[0]), ("A-2", "03.03.2026", TEXTS[0])])
    import_file(store, first, by="clerk", appeals=A)
    (case,) = records.list_cases(store)
    cid = case["case_id"]
    records.transition(store, cid, "redirected", by="head", fields={"to_body": "akimat"})
    for n, c in enumerate(records.complaints(store)):
        records.record_answer(store, c["complaint_id"], answer_number=f"A-{n}", lang="ru", issued=date(2026, 3, 10),
                              by="head", files=[])
    records.transition(store, cid, "closed", by="head", fields={"outcome": "outside_competence"})
    second = _rows_file(tmp_path, "b.csv", [(f"C-{i}", f"{12 + i}.03.2026", TEXTS[0]) for i in range(3)])
    out = import_file(store, second, by="clerk", appeals=A)
    assert out["created"] == 3 and out["cases"] == 1
    got = records.get_case(store, cid)
    assert got["state"] == "reopened" and got["complainants"] == 5
    kinds = [(h["kind"], h["payload"].get("to")) for h in got["history"]]
    assert kinds[-4:] == [("transition", "reopened")] + [("complaint_joined", None)] * 3
    assert [h["seq"] for h in got["history"]] == list(range(1, len(kinds) + 1))
    assert all(r["ok"] for r in records.verify(store))
