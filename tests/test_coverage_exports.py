"""Exports (GeoPackage checked with ogrinfo, GeoJSON, CSV), the XLSX district summary, PNG district
maps, and the commands `qamtu map coverage`, `qamtu coverage classify`, `qamtu report districts`."""

from __future__ import annotations

import json
import shutil
import subprocess

import matplotlib.image as mpimg
import openpyxl
import pandas as pd
import pyogrio
import pytest

from conftest import REPO, run_qamtu
from qamtu.mapping.gazetteer import Gazetteer
from qamtu.mapping.exports import ExportError, export_classification
from qamtu.mapping.hexes import hex_signal
from qamtu.reports.coverage import classify_store
from qamtu.reports.districts import write_district_pngs, write_district_workbook
from test_coverage_helpers import BEST, write_designed

KAZAKH = "әғқңөұүһі"


@pytest.fixture(scope="module")
def designed(tmp_path_factory, gazetteer):
    tmp = tmp_path_factory.mktemp("exports")
    db = tmp / "designed.db"
    roles = write_designed(db, gazetteer, days=2)
    cl, inputs = classify_store(db, gazetteer=gazetteer, keep_samples=True)
    return tmp, db, roles, cl, inputs


def _ogrinfo(*args: str) -> str:
    exe = shutil.which("ogrinfo")
    assert exe, "ogrinfo is missing: install the Debian package gdal-bin (.ci/run does)"
    proc = subprocess.run([exe, *args], capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_geopackage_layers_with_ogrinfo(designed, gazetteer):
    tmp, _db, roles, cl, inputs = designed
    hexes, res = hex_signal(inputs.samples, cl.rules)
    out = export_classification(cl, tmp / "coverage.gpkg", hexes=hexes, hex_resolution=res)
    listing = _ogrinfo("-ro", "-q", out["path"])
    for layer in ("settlements (Point)", "settlement_operators (Point)", "districts (Multi Polygon)",
                  "h3_signal (Polygon)", "district_summary", "rule_set"):
        assert layer in listing, listing
    summary = _ogrinfo("-ro", "-so", out["path"], "settlements")
    assert f"Feature Count: {len(gazetteer)}" in summary and "mobile_status_401_02: String" in summary
    assert f"Feature Count: {len(hexes)}" in _ogrinfo("-ro", "-so", out["path"], "h3_signal")
    meta = _ogrinfo("-ro", "-al", "-q", out["path"], "rule_set")
    assert "kz-coverage-2026.1" in meta and "period_start_utc" in meta
    back = pyogrio.read_dataframe(out["path"], layer="settlements")
    row = back[back["kato"] == roles["nothing"]].iloc[0]
    assert (row["mobile_status"], row["internet_status"]) == BEST["nothing"]
    assert all(ch in "".join(back["name_kk"]) for ch in KAZAKH)
    districts = pyogrio.read_dataframe(out["path"], layer="districts")
    units = json.loads((REPO / "mapping" / "data" / "districts.geojson").read_text(encoding="utf-8"))["features"]
    assert len(districts) == len(units) and set(districts["rule_set_version"]) == {cl.rules.version}
    assert districts["approximate"].sum() == sum(1 for u in units if u["properties"]["approximate"]) == 2


def test_geojson_and_csv(designed, gazetteer):
    tmp, _db, roles, cl, _ = designed
    export_classification(cl, tmp / "coverage.geojson")
    data = json.loads((tmp / "coverage.geojson").read_text(encoding="utf-8"))
    assert len(data["features"]) == len(gazetteer)
    props = {f["properties"]["kato"]: f["properties"] for f in data["features"]}
    assert props[roles["mixed"]]["mobile_status"] == "5g"
    assert props[roles["mixed"]]["rule_set_version"] == cl.rules.version
    assert sum(f["geometry"] is None for f in data["features"]) == sum(1 for s in gazetteer if not s.located)
    export_classification(cl, tmp / "coverage.csv")
    raw = (tmp / "coverage.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")              # BOM: spreadsheet programs keep Kazakh letters
    df = pd.read_csv(tmp / "coverage.csv", dtype={"kato": str}, encoding="utf-8-sig")
    assert len(df) == len(gazetteer) and all(ch in "".join(df["name_kk"]) for ch in KAZAKH)
    assert df.set_index("kato").loc[roles["slow3g"], "internet_status"] == "below_standard"
    with pytest.raises(ExportError, match="export format 'shp': choose one of csv, geojson, gpkg, parquet"):
        export_classification(cl, tmp / "coverage.shp")


def test_bad_districts_file_is_named(designed):
    tmp, _db, _roles, cl, _ = designed
    bad = tmp / "bad-districts.geojson"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ExportError) as err:
        export_classification(cl, tmp / "bad.gpkg", districts_path=bad)
    assert str(bad) in str(err.value) and "cannot write" not in str(err.value)
    assert not (tmp / "bad.gpkg").exists()


def test_district_workbook(designed):
    tmp, _db, _roles, cl, _ = designed
    out = write_district_workbook(cl, tmp / "summary.xlsx")
    wb = openpyxl.load_workbook(out["path"], read_only=True)
    assert wb.sheetnames[0] == "Барлығы - Итого" and "Kcell 401-02" in wb.sheetnames
    assert "Ережелер - Правила" in wb.sheetnames and "Елді мекендер - НП" in wb.sheetnames
    ws = wb["Барлығы - Итого"]
    rows = list(ws.iter_rows(values_only=True))
    assert "kz-coverage-2026.1" in rows[0][0]
    header = rows[3]
    assert "Ұялы байланыссыз / Без мобильной связи" in header and "Елді мекендер барлығы / Всего НП" in header
    region = next(r for r in rows[4:] if r[2] == "610000000")
    expected = cl.districts[(cl.districts["scope"] == "all") & (cl.districts["district_kato"] == "610000000")].iloc[0]
    col = dict(zip(header, region))
    assert col["Ұялы байланыссыз / Без мобильной связи"] == expected.without_mobile > 0
    assert col["Мобильді интернетсіз / Без мобильного интернета"] == expected.without_internet
    assert col["Елді мекендер барлығы / Всего НП"] == 801  # Turkistan's cities, towns and villages
    # a section per region, each closed by its total, then the total of all regions
    totals = [r[1] for r in rows[4:] if r[2] in ("790000000", "310000000", "610000000", "430000000", "000000000")]
    assert totals == ["Итого: г.Шымкент", "Итого: Жамбылская область", "Итого: Туркестанская область",
                      "Итого: Кызылординская область", "Итого"]
    rules = [r for r in wb["Ережелер - Правила"].iter_rows(values_only=True)]
    assert any(r[0] == "download UMTS min Mbit/s" and r[1] == 1 and "UNCONFIRMED" in r[2] for r in rules)


def test_png_per_district(designed):
    tmp, _db, roles, cl, _ = designed
    district = next(s.district_kato for s in cl.settlements.itertuples() if s.kato == roles["nothing"])
    written = write_district_pngs(cl, tmp / "png", districts=[district, "615500000"])
    assert sorted(p.rsplit("/", 1)[1] for p in written) == sorted([f"{district}.png", "615500000.png"])
    for p in written:
        img = mpimg.imread(p)
        assert img.shape[0] > 500 and img.shape[1] > 500 and img[:, :, :3].std() > 0.01


def test_cli_map_coverage_offline_with_exports(designed):
    tmp, db, _roles, _cl, _ = designed
    proc = run_qamtu("map", "coverage", "--db", str(db), "--out", str(tmp / "cli.html"), "--offline",
                     "--export", str(tmp / "cli.gpkg"), "--export", str(tmp / "cli.csv"), "--json")
    data = json.loads(proc.stdout)
    assert data["offline"] and data["rule_set"] == "kz-coverage-2026.1" and data["markers"] > 700
    assert [e["format"] for e in data["exports"]] == ["gpkg", "csv"] and (tmp / "cli.gpkg").exists()
    html = (tmp / "cli.html").read_text(encoding="utf-8")
    assert "tile.openstreetmap.org" not in html and "<script src=" not in html
    # the designed campaign is synthetic (probe.synthetic marks its sessions): the map says so
    assert data["synthetic_sessions"] == 6 and "Синтетические данные, не измерения" in html
    region = next(r for r in data["summary"] if r["scope"] == "all" and r["district_kato"] == "610000000")
    assert region["without_mobile"] == sum(1 for m, _ in BEST.values() if m == "no_service")
    # --region: the designed campaign is in Turkistan; a Zhambyl map has its settlements only, no hexagons
    zh = json.loads(run_qamtu("map", "coverage", "--db", str(db), "--out", str(tmp / "zh.html"), "--offline",
                              "--region", "31", "--json").stdout)
    g = Gazetteer.load()
    assert zh["markers"] == sum(1 for s in g if s.located and s.region_kato == "310000000")
    assert data["hexagons"] > 0 and zh["hexagons"] == 0
    assert {r["district_kato"] for r in zh["summary"]} == {"310000000"}


def test_cli_classify_and_report(designed):
    tmp, db, roles, _cl, _ = designed
    data = json.loads(run_qamtu("coverage", "classify", "--db", str(db), "--operator", "Kcell", "--json",
                                "--out", str(tmp / "kcell.geojson")).stdout)
    assert data["exports"][0]["rows"]["settlements"] == len(Gazetteer.load())
    features = json.loads((tmp / "kcell.geojson").read_text(encoding="utf-8"))["features"]
    assert {f["properties"]["kato"]: f["properties"]["mobile_status_401_02"] for f in features}[roles["only2g"]] == "2g"
    assert data["rule_set"]["version"] == "kz-coverage-2026.1" and list(data["operators"]) == ["401-02"]
    rows = {r["kato"]: r for r in data["by_operator"]}
    assert rows[roles["only2g"]]["mobile_status"] == "2g"
    out = run_qamtu("report", "districts", "--db", str(db), "--out", str(tmp / "cli.xlsx"), "--png-dir",
                    str(tmp / "cli-png"), "--json").stdout
    rep = json.loads(out)
    units = json.loads((REPO / "mapping" / "data" / "districts.geojson").read_text(encoding="utf-8"))["features"]
    assert len(rep["pngs"]) == len(units) and rep["rule_set"] == "kz-coverage-2026.1"
    assert (tmp / "cli.xlsx").stat().st_size > 10_000
    text = run_qamtu("report", "districts", "--db", str(db), "--out", str(tmp / "cli2.xlsx")).stdout
    assert "Итого: Туркестанская область" in text and "kz-coverage-2026.1" in text
    # --region keeps one region: its units only, and its total
    one = json.loads(run_qamtu("report", "districts", "--db", str(db), "--out", str(tmp / "cli3.xlsx"), "--region",
                               "Turkistan", "--png-dir", str(tmp / "png61"), "--json").stdout)
    assert {r["region_kato"] for r in one["summary"]} == {"610000000"}
    assert len(one["pngs"]) == sum(1 for u in units if u["properties"]["region_kato"] == "610000000")


def test_cli_errors_are_one_clear_line(designed, tmp_path):
    _tmp, db, _roles, _cl, _ = designed
    proc = run_qamtu("map", "coverage", "--db", str(tmp_path / "none.db"), "--out", str(tmp_path / "m.html"),
                     check=False)
    assert proc.returncode == 1 and "none.db: no such store" in proc.stderr
    proc = run_qamtu("coverage", "classify", "--db", str(db), "--period", "last-week", check=False)
    assert proc.returncode == 1 and "--period" in proc.stderr and "Traceback" not in proc.stderr
    bad = tmp_path / "rules.toml"
    bad.write_text('version = "x"\n', encoding="utf-8")
    proc = run_qamtu("coverage", "classify", "--db", str(db), "--rules", str(bad), check=False)
    assert proc.returncode == 1 and "rules.toml: field '" in proc.stderr


def test_parquet_and_the_one_convention_on_the_coverage_path(designed):
    """The coverage path uses the same exporter registry as session exports: Parquet round-trips with
    typed UTC times, CSV and GeoPackage carry the same instants as ISO 8601 text with microseconds."""
    import pyarrow.parquet as pq

    tmp, _db, roles, cl, _ = designed
    out = export_classification(cl, tmp / "coverage.parquet")
    assert out["format"] == "parquet" and out["rows"] == {"settlements": len(Gazetteer.load())}
    table = pq.read_table(out["path"])
    assert b"geo" in table.schema.metadata
    assert str(table.schema.field("period_start_utc").type) == "timestamp[us, tz=UTC]"
    back = table.to_pandas()
    row = back[back["kato"] == roles["nothing"]].iloc[0]
    assert (row["mobile_status"], row["internet_status"]) == BEST["nothing"]
    assert all(ch in "".join(back["name_kk"]) for ch in KAZAKH)
    assert back["period_start_utc"].iloc[0] == pd.Timestamp(cl.period.start)
    export_classification(cl, tmp / "convention.csv")
    text = pd.read_csv(tmp / "convention.csv", dtype=str, encoding="utf-8-sig")["period_start_utc"].iloc[0]
    assert text == pd.Timestamp(cl.period.start).strftime("%Y-%m-%dT%H:%M:%S.%fZ") and text.endswith(".000000Z")
