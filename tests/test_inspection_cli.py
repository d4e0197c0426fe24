"""Inspection records (migration 2) and the commands, run as a user would: new, list, show, findings,
documents, keys new, bundle, verify; and the demo inspection."""

from __future__ import annotations

import json
import sqlite3
import zipfile

import pytest

from conftest import run_qamtu
from qamtu.probe.store import Store
from qamtu.reports.inspections import InspectionError, get_inspection, list_inspections
from qamtu.reports.registers import RegisterError, Registers
from test_inspection_helpers import a_village, measure, new_inspection, write_registers


def test_migration_2_adds_inspections_to_an_existing_version_1_store(tmp_path):
    db = tmp_path / "v1.db"
    conn = sqlite3.connect(db)
    from qamtu.probe.schema import MIGRATIONS

    assert MIGRATIONS[0].legacy_version == 1
    for sql in MIGRATIONS[0].statements("sqlite"):
        conn.execute(sql)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with Store(db) as st:
        assert st.schema_versions()["reports"] >= 1
        assert st.query("SELECT COUNT(*) AS n FROM inspections")[0]["n"] == 0


def test_records_validate_fields_and_ids(tmp_path, gazetteer):
    regs = Registers.load(write_registers(tmp_path / "reg"))
    v = a_village(gazetteer)
    with Store(tmp_path / "s.db") as st:
        a = new_inspection(st, regs, gazetteer, v)
        b = new_inspection(st, regs, gazetteer, v)
        assert (a.inspection_id, b.inspection_id) == ("INSP-2026-0001", "INSP-2026-0002")
        assert [i.inspection_id for i in list_inspections(st)] == ["INSP-2026-0001", "INSP-2026-0002"]
        assert get_inspection(st, "INSP-2026-0002").address == b.address
        with pytest.raises(InspectionError, match="already exists"):
            new_inspection(st, regs, gazetteer, v, ident="INSP-2026-0001")
        with pytest.raises(InspectionError, match="field 'act_registered'.*not a date"):
            new_inspection(st, regs, gazetteer, v, act_registered="28.05.2026")
        with pytest.raises(InspectionError, match="field 'grounds'"):
            new_inspection(st, regs, gazetteer, v, grounds="anonymous")
        with pytest.raises(InspectionError, match="field 'inspectors'"):
            new_inspection(st, regs, gazetteer, v, inspectors=[])
        with pytest.raises(RegisterError, match="instrument 'NOPE' is not in the register"):
            new_inspection(st, regs, gazetteer, v, instruments=["NOPE"])
        with pytest.raises(RegisterError, match="operator '401-99' is not in the register"):
            new_inspection(st, regs, gazetteer, v, operator="401-99")
        with pytest.raises(InspectionError, match="field 'kato'"):
            new_inspection(st, regs, gazetteer, v, kato="619999999")
        with pytest.raises(InspectionError, match="no inspection 'X'.*INSP-2026-0002"):
            get_inspection(st, "X")
        assert len(list_inspections(st)) == 2  # nothing half-written by the refusals


def test_commands_end_to_end(tmp_path, gazetteer):
    reg = write_registers(tmp_path / "reg")
    db = tmp_path / "field.db"
    v = a_village(gazetteer, 20)
    common = ["--db", str(db), "--registers", str(reg)]
    new = run_qamtu("inspection", "new", "--grounds", "complaint", "--grounds-number", "Ж-3", "--grounds-date",
                    "2026-05-20", "--operator", "Tele2", "--kato", v.kato, "--address", "Абай көшесі 3",
                    "--act-number", "17", "--act-registered", "2026-05-28", "--inspector", "Ә. Нұрланов",
                    "--instrument", "M40177", *common, "--json")
    ident = json.loads(new.stdout)["inspection_id"]
    assert json.loads(new.stdout)["operator"] == "401-77"
    bad = run_qamtu("inspection", "new", "--grounds", "complaint", "--grounds-number", "Ж-3", "--grounds-date",
                    "2026-05-20", "--operator", "Tele2", "--kato", v.kato, "--address", "x", "--act-number", "17",
                    "--act-registered", "2026-05-28", "--inspector", "A", "--instrument", "GONE", *common, check=False)
    assert bad.returncode == 1 and "instrument 'GONE' is not in the register" in bad.stderr
    with Store(db) as st:
        measure(st, ident, v, download=2.0, tests=4)
    listed = json.loads(run_qamtu("inspection", "list", "--db", str(db), "--json").stdout)
    assert [r["inspection_id"] for r in listed] == [ident] and listed[0]["speedtests"] == 12
    shown = json.loads(run_qamtu("inspection", "show", ident, "--db", str(db), "--json").stdout)
    assert shown["address"] == "Абай көшесі 3" and len(shown["sessions"]) == 3 and shown["synthetic"] is True
    f = json.loads(run_qamtu("inspection", "findings", ident, *common, "--json").stdout)
    assert f["verdict"] == "violation" and f["legal"]["part"] == 14
    text = run_qamtu("inspection", "findings", ident, *common).stdout
    assert "violation" in text and "part 14" in text
    docs = run_qamtu("inspection", "documents", ident, "--lang", "ru", "--out", str(tmp_path / "docs"),
                     "--date", "2026-06-05", *common, "--json")
    assert sorted(json.loads(docs.stdout)) == sorted([f"{k}_ru.{e}" for k in ("act", "protocol", "order")
                                                      for e in ("pdf", "docx")] + ["map_ru.png"])
    refused = run_qamtu("inspection", "documents", ident, "--out", str(tmp_path / "d2"), "--db", str(db), check=False)
    assert refused.returncode == 1 and "instrument 'M40177' is not in the register" in refused.stderr
    key = json.loads(run_qamtu("keys", "new", "--name", "Nurlanov", "--out", str(tmp_path / "keys"), "--json").stdout)
    assert oct((tmp_path / "keys" / "Nurlanov.key").stat().st_mode & 0o777) == "0o600"
    (reg / "office_keys.toml").write_text('version = "t"\n' + key["office_list_entry"], encoding="utf-8")
    out = tmp_path / f"{ident}.zip"
    run_qamtu("inspection", "bundle", ident, "--out", str(out), "--key", key["private_key"], "--signer", "Nurlanov",
              "--date", "2026-06-05", *common)
    names = zipfile.ZipFile(out).namelist()
    assert "documents/protocol_kk.pdf" in names and "documents/order_ru.docx" in names
    ok = json.loads(run_qamtu("verify", str(out), "--registers", str(reg), "--json").stdout)
    assert ok["ok"] and ok["signer"]["key_id"] == key["key_id"]


@pytest.mark.parametrize("command", ["documents", "bundle"])
def test_a_bad_date_is_a_usage_error_not_a_traceback(tmp_path, command):
    extra = ["--key", str(tmp_path / "k.key"), "--signer", "x"] if command == "bundle" else []
    bad = run_qamtu("inspection", command, "X-1", "--out", str(tmp_path / "out"), "--date", "2026-13-01", *extra,
                    "--db", str(tmp_path / "none.db"), check=False)
    assert bad.returncode == 2 and "--date '2026-13-01': give YYYY-MM-DD" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_bundle_takes_the_document_options_of_documents():
    """The signed documents can be the ones `inspection documents` issues: same deadline, same templates."""
    helps = [run_qamtu("inspection", c, "--help").stdout for c in ("documents", "bundle")]
    for option in ("--deadline-days", "--templates"):
        assert all(option in h for h in helps), option


def test_demo_inspection_end_to_end(tmp_path, gazetteer):
    from qamtu.reports.inspection_demo import run_demo_inspection

    paths = run_demo_inspection(tmp_path / "demo.db", tmp_path / "out", gazetteer=gazetteer)
    for name in ("act_kk.pdf", "protocol_ru.pdf", "order_kk.pdf", "bundle", "findings", "verify"):
        assert paths[name].exists(), name
    verdict = json.loads(paths["verify"].read_text(encoding="utf-8"))
    assert verdict["ok"] is True
    f = json.loads(paths["findings"].read_text(encoding="utf-8"))
    assert f["verdict"] == "violation" and f["legal"]["part"] == 15 and f["legal"]["repeat_of"]
    ok = run_qamtu("verify", str(paths["bundle"]), "--registers", str(paths["registers"]))
    assert "OK" in ok.stdout
