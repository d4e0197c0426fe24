"""The `qamtu settlements` commands, run as the installed console script."""

from __future__ import annotations

import json

from conftest import REPO, run_qamtu


def test_stats_json_counts_every_district_and_region_and_adds_up(gazetteer):
    rows = json.loads(run_qamtu("settlements", "stats", "--json").stdout)
    districts = [r for r in rows if r["level"] == "district"]
    regions = [r for r in rows if r["level"] == "region"]
    total = rows[-1]
    assert total["level"] == "total"
    assert {r["district_kato"] for r in districts} == {s.district_kato for s in gazetteer if s.populated}
    for r in districts:
        assert r["total"] == r["with_coords"] + r["without_coords"]
        assert r["total"] == sum(1 for s in gazetteer if s.populated and s.district_kato == r["district_kato"])
    assert [r["region_kato"] for r in regions] == list(gazetteer.regions)
    for reg in regions:
        mine = [r for r in districts if r["region_kato"] == reg["region_kato"]]
        assert reg["total"] == sum(r["total"] for r in mine)
        assert reg["located_pct"] == round(100 * reg["with_coords"] / reg["total"], 1)
    assert total["total"] == sum(r["total"] for r in regions) == sum(1 for s in gazetteer if s.populated)
    all_rows = json.loads(run_qamtu("settlements", "stats", "--all-kinds", "--json").stdout)
    assert all_rows[-1]["total"] == len(gazetteer)
    one = json.loads(run_qamtu("settlements", "stats", "--region", "Kyzylorda", "--json").stdout)
    assert {r["region_kato"] for r in one} == {"430000000"} and one[-1]["level"] == "region"


def test_stats_table_shows_kazakh_names_of_every_region():
    out = run_qamtu("settlements", "stats").stdout
    for name in ("Бәйдібек ауданы", "Сарыағаш ауданы", "Шиелі ауданы", "Мерке ауданы", "Әл Фараби ауданы"):
        assert name in out or name.split()[0] in out, name


def test_search_disambiguates_same_name_places_across_regions():
    hits = json.loads(run_qamtu("settlements", "search", "Жанаталап", "--json").stdout)
    assert len({h["region_kato"] for h in hits}) >= 3
    assert all(h["district_name_ru"] and h["region_name_ru"] for h in hits)
    table = run_qamtu("settlements", "search", "Жанаталап", "--limit", "3").stdout
    assert "region" in table
    only = json.loads(run_qamtu("settlements", "search", "Жанаталап", "--region", "31", "--json").stdout)
    assert only and {h["region_kato"] for h in only} == {"310000000"}
    bad = run_qamtu("settlements", "search", "Жанаталап", "--region", "Tashkent", check=False)
    assert bad.returncode == 1 and "--region" in bad.stderr and "61 (" in bad.stderr


def test_locate_across_the_territory():
    for lat, lon, region in ((42.318, 69.590, "790000000"), (42.90, 71.37, "310000000"), (44.85, 65.50, "430000000")):
        data = json.loads(run_qamtu("settlements", "locate", str(lat), str(lon), "--json").stdout)
        assert data["region_kato"] == region, data


def test_search_show_and_locate_json():
    hits = json.loads(run_qamtu("settlements", "search", "Шубарсу", "--json").stdout)
    assert hits[0]["name_kk"] == "Шұбарсу"
    shown = json.loads(run_qamtu("settlements", "show", hits[0]["kato"], "--json").stdout)
    assert shown == hits[0]
    located = json.loads(run_qamtu("settlements", "locate", str(shown["lat"] + 0.001), str(shown["lon"]),
                                   "--json").stdout)
    assert located["kato"] == shown["kato"] and 100 < located["distance_m"] < 120


def test_locate_outside_and_unknown_code_fail_clearly():
    out = run_qamtu("settlements", "locate", "41.311", "69.279", check=False)
    assert out.returncode == 1 and "outside Kazakhstan" in out.stdout
    out = run_qamtu("settlements", "show", "619999999", check=False)
    assert out.returncode == 1
    assert "qamtu settlements show" in out.stderr and "619999999" in out.stderr and "Traceback" not in out.stderr


def test_malformed_gazetteer_option_names_file_and_field(write_gazetteer):
    path = write_gazetteer([{"type": "Feature", "properties": {"kato": "611010000"}, "geometry": None}])
    out = run_qamtu("settlements", "stats", "--gazetteer", str(path), check=False)
    assert out.returncode == 1
    assert "feature #0 (kato 611010000)" in out.stderr and "field 'name_kk'" in out.stderr


def test_build_command_reproduces_committed_bytes(tmp_path):
    result = json.loads(run_qamtu("settlements", "build", "--out", str(tmp_path / "s.geojson"), "--json").stdout)
    assert (tmp_path / "s.geojson").read_bytes() == (REPO / "settlements.geojson").read_bytes()
    units = json.loads((REPO / "mapping" / "data" / "districts.geojson").read_text(encoding="utf-8"))["features"]
    assert result["features"] > result["with_coordinates"] > 0 and result["districts"] == len(units)
    assert result["regions"] == ["79", "31", "61", "43"] and result["units_without_polygon"] == []


def test_version_and_help():
    assert run_qamtu("--version").stdout.startswith("qamtu ")
    assert "settlements" in run_qamtu("--help").stdout
