"""A session simulated by `qamtu demo` (meta ``simulated``) is as synthetic as one written by
``probe.synthetic`` (meta ``synthetic``): the classification counts it and the district summary says so."""

from __future__ import annotations

import openpyxl

from qamtu.probe.store import Store
from qamtu.reports.common import is_synthetic
from qamtu.reports.coverage import SYNTHETIC_NOTE, read_inputs
from qamtu.reports.districts import district_report_from_store
from test_coverage_helpers import write_designed


def test_is_synthetic_knows_both_marks():
    assert is_synthetic({"synthetic": True}) and is_synthetic({"simulated": True})
    assert not is_synthetic({}) and not is_synthetic({"simulated": False, "route": "x"})


def test_simulated_sessions_get_the_synthetic_warning(tmp_path, gazetteer):
    db = tmp_path / "demo.db"
    write_designed(db, gazetteer, days=1)
    with Store(db) as store:  # mark the sessions the way `qamtu demo` does
        store.execute("UPDATE sessions SET meta = json_remove(json_set(meta, '$.simulated', json('true')), "
                      "'$.synthetic')")
        n = store.scalar("SELECT COUNT(*) FROM sessions")
        assert n > 0 and all(not store.session(s["session_id"])["meta"].get("synthetic") for s in store.sessions())
        assert read_inputs(store).synthetic_sessions == n
        assert read_inputs(store, fast=False).synthetic_sessions == n
    result = district_report_from_store(db, tmp_path / "districts.xlsx", gazetteer=gazetteer)
    assert result["synthetic_sessions"] == n
    ws = openpyxl.load_workbook(tmp_path / "districts.xlsx").worksheets[0]
    assert ws["N1"].value == SYNTHETIC_NOTE.format(n=n)
