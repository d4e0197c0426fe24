"""`qamtu demo`: the whole product on a machine with no hardware, checked end to end."""

from __future__ import annotations

import json
import sqlite3
import zipfile

from conftest import run_console_script, run_qamtu

from qamtu.probe.store import Store


def test_demo_produces_a_verifiable_database_map_documents_and_report(tmp_path):
    out = tmp_path / "demo"
    result = json.loads(run_console_script("demo", "--out", str(out), "--speed", "240", "--json", timeout=600).stdout)
    outputs = {k: out.joinpath(v) if not v.startswith("/") else __import__("pathlib").Path(v)
               for k, v in result["outputs"].items()}
    for name, path in outputs.items():
        assert path.exists(), name
    s = result["summary"]
    assert s["samples"] > 1000 and s["no_service"] > 0 and s["modem_lost"] > 0 and s["speedtests"] > 3
    db = outputs["database"]
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    with Store(db) as st:
        assert all(r.ok for r in st.verify())
        field = st.samples_frame(session=s["session_id"])
        assert set(field["operator_mnc"].dropna()) == {"01", "02", "77"}
        assert field["kato"].nunique() >= 8, "the route passes real settlements of the gazetteer"
        tests = st.speedtests_frame(session=s["session_id"])
        assert tests["valid"].any(), "real qamtu-http tests through the simulated links"
        assert (~tests["valid"]).any() and tests.loc[~tests["valid"], "failure_cause"].notna().all()
    html = outputs["coverage map (offline HTML)"].read_text(encoding="utf-8")
    assert "Түркістан" in html and "https://unpkg" not in html
    run_qamtu("verify", str(outputs["inspection bundle"]), "--office-keys",
              str(outputs["inspection office keys (demo)"]))
    untrusted = run_qamtu("verify", str(outputs["inspection bundle"]), check=False)  # the bundled (empty) office list
    assert untrusted.returncode == 1 and "not trusted" in untrusted.stdout
    with zipfile.ZipFile(outputs["inspection bundle"]) as z:
        assert any(n.endswith(".pdf") for n in z.namelist()) and any("manifest" in n for n in z.namelist())
    assert outputs["district summary (XLSX)"].stat().st_size > 5000
