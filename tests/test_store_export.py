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
    assert (tmp_path / "s.csv").read_bytes().startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM (the export convention)"
    rows = list(csv.DictReader(open(tmp_path / "s.csv", encoding="utf-8-sig")))
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
    info = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(gpkg)], capture_output=True, text=True,
                          check=True).stdout
    assert "Layer name: samples" in info and "Layer name: speedtests" in info and "Layer name: events" in info
    assert "Feature Count: 24" in info and "Feature Count: 6" in info
    assert "EPSG\",4326" in info.replace(" ", "") or "WGS 84" in info


def test_unknown_format_and_session_are_clear_errors(db, tmp_path):
    out = run_qamtu("sessions", "export", "zzz", "--db", str(db), "--out", str(tmp_path / "x.csv"), "--format", "csv",
                    check=False)
    assert out.returncode == 1 and "no session matches 'zzz'" in out.stderr
    with Store(db) as st:
        sid = st.sessions()[0]["session_id"]
    out = run_qamtu("sessions", "export", sid, "--db", str(db), "--out", str(tmp_path / "x.kml"), "--format", "kml",
                    check=False)
    assert out.returncode == 2 and "'kml' is not one of: csv, geojson, gpkg, parquet" in " ".join(out.stderr.split())
    assert not list(tmp_path.glob("*x.kml*")), "a wrong format writes nothing"


def test_sessions_list_show_and_check_commands(db):
    listed = json.loads(run_qamtu("sessions", "list", "--db", str(db), "--json").stdout)
    assert len(listed) == 1 and listed[0]["samples"] == 24 and listed[0]["speedtests"] == 6
    shown = json.loads(run_qamtu("sessions", "show", listed[0]["session_id"][:9], "--db", str(db), "--json").stdout)
    assert shown["meta"]["synthetic"] is True
    assert {o["operator"] for o in shown["operators"]} == {"401-02", "401-01", "401-77"}
    ok = json.loads(run_qamtu("sessions", "check", "--db", str(db), "--json").stdout)
    assert ok[0]["ok"] and ok[0]["records"] == 32
    with Store(db) as st:
        st.execute("UPDATE records SET payload = replace(payload, '\"driver\":\"synthetic\"', "
                   "'\"driver\":\"quectel\"') WHERE seq = 5")
    bad = run_qamtu("sessions", "check", "--db", str(db), check=False)
    assert bad.returncode == 1 and "BROKEN" in bad.stdout and "at record 5" in bad.stdout
    assert "Tele2" not in run_qamtu("sessions", "list", "--db", str(db)).stdout  # counts only, no crash


TIME_TEXT = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"   # the export convention: UTC, microseconds, Z


@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg", "parquet"])
def test_every_registered_format_round_trips(db, tmp_path, fmt):
    """Each exporter of the registry writes a file its readers (pandas, pyogrio/GDAL, pyarrow) read back
    with the same rows, operators and instants."""
    import pandas as pd
    import pyarrow.parquet as pq
    import pyogrio

    from qamtu.mapping.writers import exporter_names

    assert fmt in exporter_names()
    with Store(db) as st:
        sid = st.sessions()[0]["session_id"]
        expected = st.samples_frame(session=sid)
    out = tmp_path / f"s.{fmt}"
    result = json.loads(run_qamtu("sessions", "export", sid, "--db", str(db), "--format", fmt, "--out", str(out),
                                  "--json").stdout)
    assert result["rows"]["samples"] == len(expected) == 24
    if fmt == "csv":
        back = pd.read_csv(out, encoding="utf-8-sig", dtype={"kato": str, "operator_mcc": str, "operator_mnc": str})
    elif fmt == "parquet":
        table = pq.read_table(out)
        assert str(table.schema.field("time_utc").type) == "timestamp[us, tz=UTC]"
        assert b"geo" in (table.schema.metadata or {}), "GeoParquet metadata (geometry as WKB, CRS)"
        back = table.to_pandas()
    else:
        back = pyogrio.read_dataframe(out, layer="samples" if fmt == "gpkg" else None)
        assert back.crs.to_epsg() == 4326
        assert back.geometry.x.round(6).tolist() == expected["lon"].round(6).tolist()
    assert len(back) == 24 and set(back["kato"]) == set(PLACES)
    assert sorted(back["operator_mcc"] + "-" + back["operator_mnc"]) == sorted(
        expected["operator_mcc"] + "-" + expected["operator_mnc"])
    if fmt == "parquet":
        assert back["time_utc"].tolist() == expected["time_utc"].tolist()
    else:
        if fmt == "geojson":  # GDAL would parse the text into datetimes: check the file's own text
            features = json.loads(out.read_text(encoding="utf-8"))["features"]
            back["time_utc"] = [f["properties"]["time_utc"] for f in features]
        assert back["time_utc"].astype(str).str.match(TIME_TEXT).all(), back["time_utc"].head()
        assert pd.to_datetime(back["time_utc"], utc=True).tolist() == expected["time_utc"].tolist()
    if fmt == "gpkg":
        assert {"samples", "speedtests", "events"} <= {name for name, _ in pyogrio.list_layers(out)}
    assert not list(tmp_path.glob(".partial-*"))


def test_the_export_registry_is_what_the_cli_offers():
    from qamtu.mapping.writers import ExportError, exporter_names, get_exporter

    assert exporter_names() == ["csv", "geojson", "gpkg", "parquet"]
    with pytest.raises(ExportError, match="export format 'shp': choose one of csv, geojson, gpkg, parquet"):
        get_exporter("shp")
    help_text = " ".join(run_qamtu("sessions", "export", "--help").stdout.split())
    assert "One of: csv, geojson, gpkg, parquet" in help_text.replace("│ ", "").replace(" │", "")
