"""Outputs: all or nothing on a full disk with a one-line error, umask permissions, formula-looking text
written as text in CSV and XLSX, and `keys new` entries that a name cannot break (issue 18 items 9, 13, 23, 24)."""

from __future__ import annotations

import csv
import errno
import io
import os
import shutil
import stat
import subprocess
import tomllib
from datetime import datetime, timezone
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from conftest import run_qamtu
from qamtu.probe.store import Store
from qamtu.probe.synthetic import Campaign, Condition, write_campaign
from qamtu.safeio import OutputError, atomic_output, write_bytes, write_text
from qamtu.textsafe import csv_cell, csv_frame, printable, xlsx_text_only

EVIL = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-3+4", "@SUM(A1)", "\tx", "\rx"]


# ------------------------------------------------------------------ full disk (a real tmpfs when we are root)
@pytest.fixture
def small_fs(tmp_path):
    """A 1 MiB tmpfs (needs root; elsewhere the simulated test below covers the same code)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                                           capture_output=True).returncode:
        pytest.skip("mounting a tmpfs needs root; test_simulated_enospc covers the same path")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(mnt: Path) -> None:
    """Fill the file system to the last byte."""
    with open(mnt / "filler", "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_full_disk_keeps_the_previous_output_and_says_so_in_one_line(small_fs):
    prev = small_fs / "qa.md"
    prev.write_text("previous page\n", encoding="utf-8")
    fill(small_fs)
    with pytest.raises(OutputError, match=r"cannot write output .*qa\.md: No space left on device"):
        write_bytes(prev, b"x" * 200_000)
    assert prev.read_text(encoding="utf-8") == "previous page\n" and not leftovers(small_fs)
    # the commands: one line on stderr, exit 1, nothing half-written, no traceback
    out = run_qamtu("settlements", "qa", "--out", str(prev), check=False)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert "No space left on device" in out.stderr and str(prev) in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert prev.read_text(encoding="utf-8") == "previous page\n" and not leftovers(small_fs)
    out = run_qamtu("problems", "template", "survey", "--out", str(small_fs / "t.xlsx"), check=False)
    assert out.returncode == 1 and "Traceback" not in out.stderr and "t.xlsx" in out.stderr, out.stderr
    (small_fs / "keys").mkdir()
    (small_fs / "filler").unlink()
    fill(small_fs)
    out = run_qamtu("keys", "new", "--name", "Full Disk", "--out", str(small_fs / "keys"), check=False)
    assert out.returncode == 1 and "Traceback" not in out.stderr and "No space left" in out.stderr, out.stderr
    assert not list((small_fs / "keys").iterdir()) and not leftovers(small_fs)


def test_full_disk_during_exports_and_workbooks(small_fs, tmp_path):
    db = tmp_path / "q.db"
    with Store(db) as st:
        write_campaign(st, Campaign({"611633100": (42.46, 68.9)}, lambda k, o: Condition("LTE", -97, 8, 2), days=1,
                                    samples_per_visit=400, speedtests_per_visit=0,
                                    start=datetime(2026, 6, 1, 6, tzinfo=timezone.utc)))
        sid = st.sessions()[0]["session_id"]
    for fmt in ("csv", "geojson", "gpkg"):
        prev = small_fs / f"s.{fmt}"
        prev.write_bytes(b"previous")
    fill(small_fs)
    for fmt in ("csv", "geojson", "gpkg"):
        out = run_qamtu("sessions", "export", sid, "--db", str(db), "--format", fmt, "--out",
                        str(small_fs / f"s.{fmt}"), check=False)
        assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
        assert f"s.{fmt}" in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert (small_fs / f"s.{fmt}").read_bytes() == b"previous"
    assert not leftovers(small_fs)


def test_simulated_enospc_in_the_writer_and_at_fsync(tmp_path, monkeypatch):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def boom(*a, **kw):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OutputError, match="No space left"):
        with atomic_output(target) as tmp:
            tmp.write_bytes(b"new, partly")
            boom()
    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OutputError, match="cannot write bundle .*out.bin"):
        write_bytes(target, b"new", what="bundle")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["out.bin"]
    with pytest.raises(ValueError):  # other errors pass through unchanged, after cleaning up
        with atomic_output(target) as tmp:
            tmp.write_bytes(b"x")
            raise ValueError("bug")
    assert os.listdir(tmp_path) == ["out.bin"]


# ------------------------------------------------------------------ permissions
def test_outputs_follow_the_umask_and_private_keys_stay_0600(tmp_path):
    old = os.umask(0o022)
    try:
        for name in ("a.zip", "b.pdf", "c.html"):
            write_text(tmp_path / name, "x")
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name
        os.umask(0o007)
        write_text(tmp_path / "d.pdf", "x")
        assert stat.S_IMODE((tmp_path / "d.pdf").stat().st_mode) == 0o660
        write_bytes(tmp_path / "k.key", b"secret", mode=0o600)
        assert stat.S_IMODE((tmp_path / "k.key").stat().st_mode) == 0o600
        os.umask(0o000)
        from qamtu.reports.keys import new_key

        k = new_key("Umask", tmp_path / "keys")
        assert stat.S_IMODE(os.stat(k["private_key"]).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(k["public_key_file"]).st_mode) == 0o666
    finally:
        os.umask(old)


def test_pdf_documents_follow_the_umask(tmp_path):
    from docx import Document

    from qamtu.reports.pdf import docx_to_pdf

    doc = Document()
    doc.add_paragraph("Қамту — тест")
    doc.save(tmp_path / "a.docx")
    old = os.umask(0o022)
    try:
        docx_to_pdf(tmp_path / "a.docx", tmp_path / "a.pdf")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.pdf").stat().st_mode) == 0o644


# ------------------------------------------------------------------ formula injection
def test_csv_cells_that_spreadsheets_would_run_are_text():
    assert [csv_cell(v) for v in EVIL] == ["'" + v for v in EVIL]
    assert [csv_cell(v) for v in ("Ainur", "", 5, -3.5, None)] == ["Ainur", "", 5, -3.5, None]
    import pandas as pd

    df = csv_frame(pd.DataFrame({"name": ["=1+1", "ok"], "rsrp": [-97.0, -100.0]}))
    assert df["name"].tolist() == ["'=1+1", "ok"] and df["rsrp"].tolist() == [-97.0, -100.0]


def test_xlsx_cells_that_look_like_formulas_are_stored_as_text(tmp_path):
    wb = Workbook()
    wb.active.append(EVIL)
    assert xlsx_text_only(wb) == 1
    wb.save(tmp_path / "x.xlsx")
    cells = list(load_workbook(tmp_path / "x.xlsx").active.iter_rows())[0]
    assert [c.value for c in cells] == EVIL and all(c.data_type == "s" for c in cells)


def test_an_inspector_named_like_a_formula_reaches_csv_exports_as_text(tmp_path):
    db = tmp_path / "q.db"
    with Store(db) as st:
        write_campaign(st, Campaign({"611633100": (42.46, 68.9)}, lambda k, o: Condition("LTE", -97, 8, 2), days=1,
                                    samples_per_visit=2, speedtests_per_visit=0, inspector="=cmd|' /C calc'!A0",
                                    start=datetime(2026, 6, 1, 6, tzinfo=timezone.utc)))
        sid = st.sessions()[0]["session_id"]
    run_qamtu("sessions", "export", sid, "--db", str(db), "--format", "csv", "--out", str(tmp_path / "s.csv"))
    rows = list(csv.DictReader(open(tmp_path / "s.csv", encoding="utf-8")))
    assert rows and all(r["inspector"] == "'=cmd|' /C calc'!A0" for r in rows)


def test_a_plan_note_starting_with_equals_stays_text_in_report_problems(gazetteer, tmp_path):
    from test_problems_helpers import designed_store

    from qamtu.reports.problems import problem_report_from_store
    from qamtu.reports.surveys import import_plans

    src, roles = designed_store(gazetteer)
    db = tmp_path / "p.db"
    shutil.copy(src, db)
    plan = tmp_path / "plans.csv"
    with plan.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kato", "dimension", "planned_year", "programme", "responsible", "note"])
        w.writerow([roles["internet_fixed"], "post", 2024, "=1+1", "@Akimat", "=HYPERLINK(\"http://evil\",\"click\")"])
    with Store(db) as st:
        import_plans(st, plan, gazetteer)
    res = problem_report_from_store(db, tmp_path / "p.xlsx", years="2021-2025", gazetteer=gazetteer)
    wb = load_workbook(res["path"])
    found = {c.value: c.data_type for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and c.value[:1] in "=@"}
    assert found.get("=HYPERLINK(\"http://evil\",\"click\")") == "s" and found.get("=1+1") == "s"
    assert set(found.values()) == {"s"}


# ------------------------------------------------------------------ keys new
@pytest.mark.parametrize("name", ['Ainur "the boss"', 'x"\nkey_id = "0000000000000000"\n[[keys]]\nname = "y',
                                  "back\\slash \x7f\x1b[31m", "Әйгерім Қасым"])
def test_keys_new_prints_an_entry_a_name_cannot_break(tmp_path, name):
    from qamtu.reports.keys import new_key

    k = new_key(name, tmp_path)
    doc = tomllib.loads('version = "t"\n' + k["office_list_entry"])
    assert len(doc["keys"]) == 1 and doc["keys"][0]["name"] == name and doc["keys"][0]["key_id"] == k["key_id"]
    assert doc["keys"][0]["valid_from"] == datetime.now(timezone.utc).date().isoformat()
    out = run_qamtu("keys", "new", "--name", name, "--out", str(tmp_path / "cli"))
    entry = out.stdout[out.stdout.index("[[keys]]"):]
    assert len(tomllib.loads(entry)["keys"]) == 1 and "\x1b" not in out.stdout


def test_printable_escapes_controls_and_bidi():
    assert printable("a\x1b[2Kb\r\u202e\x85ok") == "a\\x1b[2Kb\\x0d\\u202e\\x85ok"
    assert printable("Әйгерім\tx") == "Әйгерім\\x09x"
    assert io  # (io used by helpers above in some Python versions)
