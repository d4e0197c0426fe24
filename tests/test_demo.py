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
    office = result["office"]        # how to open the office on the demo's store, with DEMO users
    assert office["command"] == f"qamtu office serve --db {db}"
    assert sorted(u["role"] for u in office["users"]) == ["admin", "desk", "head", "inspector"]
    from qamtu.office.auth import authenticate
    from qamtu.store import open_store

    with open_store(db) as os_:
        for u in office["users"]:
            assert authenticate(os_, u["name"], u["password"])["role"] == u["role"]
        assert os_.scalar("SELECT COUNT(*) FROM office_users WHERE demo = 1") == 4
    with Store(db) as st:
        assert all(r.ok for r in st.verify())
        field = st.samples_frame(session=s["session_id"])
        assert set(field["operator_mnc"].dropna()) == {"01", "02", "77"}
        assert field["kato"].nunique() >= 8, "the route passes real settlements of the gazetteer"
        tests = st.speedtests_frame(session=s["session_id"])
        assert tests["valid"].any(), "real qamtu-http tests through the simulated links"
        assert (~tests["valid"]).any() and tests.loc[~tests["valid"], "failure_cause"].notna().all()
    # the laptop's store merged into an office store: every record and the inspection, then nothing again
    pushed = json.loads(outputs["db push report (JSON)"].read_text(encoding="utf-8"))
    inspections = pushed["first"]["merged"]["inspections"]
    with Store(outputs["regional store (db push)"]) as merged:
        assert all(r.ok for r in merged.verify())
        assert inspections["added"] == merged.scalar("SELECT COUNT(*) FROM inspections") >= 1
        assert pushed["first"]["added"] == merged.scalar("SELECT COUNT(*) FROM records") > s["samples"]
    assert inspections["skipped"] == 0 and inspections["rejected"] == [] and pushed["first"]["rejected"] == 0
    assert pushed["again"]["added"] == 0 and pushed["again"]["skipped"] == pushed["first"]["added"]
    assert pushed["again"]["merged"]["inspections"]["skipped"] == inspections["added"]
    html = outputs["coverage map (offline HTML)"].read_text(encoding="utf-8")
    assert "Түркістан" in html and "https://unpkg" not in html
    run_qamtu("verify", str(outputs["inspection bundle"]), "--office-keys",
              str(outputs["inspection office keys (demo)"]))
    untrusted = run_qamtu("verify", str(outputs["inspection bundle"]), check=False)  # the bundled (empty) office list
    assert untrusted.returncode == 1 and "not trusted" in untrusted.stdout
    with zipfile.ZipFile(outputs["inspection bundle"]) as z:
        assert any(n.endswith(".pdf") for n in z.namelist()) and any("manifest" in n for n in z.namelist())
    assert outputs["district summary (XLSX)"].stat().st_size > 5000
    # the complaints loop (cases): answer letters in both languages, the 109 table, every history intact
    answers = [p for k, p in outputs.items() if k.startswith("cases: answer ") and p.suffix == ".pdf"]
    assert {p.name for p in answers} == {"answer_kk.pdf", "answer_ru.pdf"}
    assert outputs["cases: 109 district table (xlsx)"].stat().st_size > 5000
    assert all(r["ok"] for r in json.loads(outputs["cases: case history check (JSON)"].read_text(encoding="utf-8")))
