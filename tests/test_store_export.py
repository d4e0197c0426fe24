"""Exporting sessions: CSV, GeoJSON and a GeoPackage that GDAL (and so QGIS) reads."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from datetime import datetime, timezone

import pytest

from conftest import run_qamtu

from qamtu.probe.store import Store
from qamtu.probe.synthetic import Campaign, Condition, write_campaign

PLACES = {"611633100": (42.467228, 68.904243), "614657100": (42.488, 69.41)}


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "q.db"
    with Store(path) as st:
        write_campaign(st, Campaign(PLACES, lambda k, o: Condition("LTE", -97, 8, 2), days=1, samples_per_visit=4,
                                    speedtests_per_visit=1, start=datetime(2026, 6, 1, 6, tzinfo=timezone.utc)))
    return path


def test_export_csv_and_geojson(db, tmp_path):
    with Store(db) as st:
        sid = st.sessions()[0]["session_id"]
    out = json.loads(run_qamtu("sessions", "export", sid[:10], "--db", str(db), "--format", "csv",
                               "--out", str(tmp_path / "s.csv"), "--json").stdout)
    assert out["rows"] == {"samples": 24}
    rows = list(csv.DictReader(open(tmp_path / "s.csv", encoding="utf-8")))
    assert len(rows) == 24 and rows[0]["time_utc"].endswith("Z") and {r["kato"] for r in rows} == set(PLACES)
    run_qamtu("sessions", "export", sid, "--db", str(db), "--format", "geojson", "--out", str(tmp_path / "s.geojson"))
    gj = json.loads((tmp_path / "s.geojson").read_text(encoding="utf-8"))
    assert len(gj["features"]) == 24 and gj["features"][0]["geometry"]["type"] == "Point"
    assert not list(tmp_path.glob(".partial-*")), "no half-written file is left behind"


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="GDAL's ogrinfo is not installed (apt: gdal-bin)")
def test_export_geopackage_opens_in_gdal(db, tmp_path):
    with Store(db) as st:
        sid = st.sessions()[0]["session_id"]
    gpkg = tmp_path / "s.gpkg"
    run_qamtu("sessions", "export", sid, "--db", str(db), "--out", str(gpkg))
    info = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(gpkg)], capture_output=True, text=True, check=True).stdout
    assert "Layer name: samples" in info and "Layer name: speedtests" in info and "Layer name: events" in info
    assert "Feature Count: 24" in info and "Feature Count: 6" in info
    assert "EPSG\",4326" in info.replace(" ", "") or "WGS 84" in info


def test_unknown_format_and_session_are_clear_errors(db, tmp_path):
    out = run_qamtu("sessions", "export", "zzz", "--db", str(db), "--out", str(tmp_path / "x.csv"), "--format", "csv", check=False)
    assert out.returncode == 1 and "no session matches 'zzz'" in out.stderr
    with Store(db) as st:
        sid = st.sessions()[0]["session_id"]
    out = run_qamtu("sessions", "export", sid, "--db", str(db), "--out", str(tmp_path / "x.kml"), "--format", "kml", check=False)
    assert out.returncode == 1 and "export format 'kml'" in out.stderr


def test_sessions_list_show_and_check_commands(db):
    listed = json.loads(run_qamtu("sessions", "list", "--db", str(db), "--json").stdout)
    assert len(listed) == 1 and listed[0]["samples"] == 24 and listed[0]["speedtests"] == 6
    shown = json.loads(run_qamtu("sessions", "show", listed[0]["session_id"][:9], "--db", str(db), "--json").stdout)
    assert shown["meta"]["synthetic"] is True and {o["operator"] for o in shown["operators"]} == {"401-02", "401-01", "401-77"}
    ok = json.loads(run_qamtu("sessions", "check", "--db", str(db), "--json").stdout)
    assert ok[0]["ok"] and ok[0]["records"] == 32
    with Store(db) as st:
        st.execute("UPDATE records SET payload = replace(payload, '\"driver\":\"synthetic\"', '\"driver\":\"quectel\"') "
                        "WHERE seq = 5")
    bad = run_qamtu("sessions", "check", "--db", str(db), check=False)
    assert bad.returncode == 1 and "BROKEN" in bad.stdout and "at record 5" in bad.stdout
    assert "Tele2" not in run_qamtu("sessions", "list", "--db", str(db)).stdout  # counts only, no crash
