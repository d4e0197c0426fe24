"""The `qamtu settlements` commands, run as the installed console script."""

from __future__ import annotations

import json

from conftest import REPO, run_qamtu


def test_stats_json_counts_every_district_and_adds_up(gazetteer):
    rows = json.loads(run_qamtu("settlements", "stats", "--json").stdout)
    districts, total = rows[:-1], rows[-1]
    assert len(districts) == 17
    for r in districts:
        assert r["total"] == r["with_coords"] + r["without_coords"]
        assert r["total"] == sum(1 for s in gazetteer if s.populated and s.district_kato == r["district_kato"])
    assert total["total"] == sum(r["total"] for r in districts) == sum(1 for s in gazetteer if s.populated)
    all_rows = json.loads(run_qamtu("settlements", "stats", "--all-kinds", "--json").stdout)
    assert all_rows[-1]["total"] == len(gazetteer)


def test_stats_table_shows_kazakh_names():
    out = run_qamtu("settlements", "stats").stdout
    assert "Бәйдібек ауданы" in out and "Сарыағаш ауданы" in out


def test_search_show_and_locate_json():
    hits = json.loads(run_qamtu("settlements", "search", "Шубарсу", "--json").stdout)
    assert hits[0]["name_kk"] == "Шұбарсу"
    shown = json.loads(run_qamtu("settlements", "show", hits[0]["kato"], "--json").stdout)
    assert shown == hits[0]
    located = json.loads(run_qamtu("settlements", "locate", str(shown["lat"] + 0.001), str(shown["lon"]), "--json").stdout)
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
    assert result["features"] > result["with_coordinates"] > 0 and result["districts"] == 17


def test_version_and_help():
    assert run_qamtu("--version").stdout.startswith("qamtu ")
    assert "settlements" in run_qamtu("--help").stdout
