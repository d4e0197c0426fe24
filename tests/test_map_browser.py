"""The coverage map in a real browser: headless Chromium (Debian package ``chromium``) loads the
generated HTML with every network request made to fail, and we read back the DOM, the page's own
error log and Chromium's network log. A screenshot is kept in build/test-artifacts/."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from browser import chromium
from conftest import REPO, settlement_feature
from qamtu.mapping.classify import Period, classify
from qamtu.mapping.coverage_map import build_coverage_map
from qamtu.mapping.gazetteer import Gazetteer
from qamtu.mapping.rules import load_rules
from qamtu.reports.coverage import classify_store
from test_coverage_helpers import write_designed

ARTIFACTS = Path(os.environ.get("QAMTU_TEST_ARTIFACTS", REPO / "build" / "test-artifacts"))


def attrs(dom: str) -> dict[str, str]:
    html_tag = re.search(r"<html[^>]*>", dom)
    assert html_tag, dom[:500]
    return dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', html_tag.group(0)))


@pytest.fixture(scope="module")
def maps(tmp_path_factory, gazetteer):
    tmp = tmp_path_factory.mktemp("browser")
    db = tmp / "designed.db"
    write_designed(db, gazetteer, days=2)
    cl, inputs = classify_store(db, gazetteer=gazetteer, keep_samples=True)
    offline = build_coverage_map(cl, gazetteer, tmp / "offline.html", samples=inputs.samples, offline=True)
    online = build_coverage_map(cl, gazetteer, tmp / "online.html", samples=inputs.samples, offline=False)
    return tmp, offline, online


def test_offline_map_renders_without_network(maps, gazetteer):
    tmp, offline, _ = maps
    dom, requests = chromium(Path(offline["path"]).as_uri(), tmp, "--virtual-time-budget=8000", "--dump-dom")
    a = attrs(dom)
    assert a.get("data-qamtu-ready") == "1", "the page script did not finish"
    assert "data-qamtu-errors" not in a, f"JavaScript errors: {a.get('data-qamtu-errors')}"
    located = sum(1 for s in gazetteer if s.located)
    assert int(a["data-qamtu-markers"]) == located
    # markers really are in the DOM: one SVG path per located settlement in the visible best-of layer
    assert len(re.findall(r'class="[^"]*qamtu-layer-best[^"]*"', dom)) == located
    assert int(a["data-qamtu-hexes"]) == offline["hexagons"] > 0
    assert a["data-qamtu-rule-set"] == "kz-coverage-2026.1"
    assert requests == [], f"the offline page asked the network for: {requests[:5]}"
    # the legend is rendered in both languages, with the approximate districts named
    assert "Байланыс жоқ / Нет связи" in dom and "приблизительные" in dom and "Сауран" in dom


def test_online_map_asks_for_tiles_and_still_runs(maps, gazetteer):
    """Proves the network check above can fail: the online map's tile requests show up in the log."""
    tmp, _, online = maps
    dom, requests = chromium(Path(online["path"]).as_uri(), tmp, "--virtual-time-budget=8000", "--dump-dom")
    a = attrs(dom)
    assert a.get("data-qamtu-ready") == "1" and "data-qamtu-errors" not in a
    assert any("tile.openstreetmap.org" in u for u in requests), requests[:5]
    assert int(a["data-qamtu-markers"]) == sum(1 for s in gazetteer if s.located)


def test_screenshot_shows_coloured_markers(maps):
    """Region overview and one opened popup, kept in build/test-artifacts/ for people to look at."""
    import matplotlib.image as mpimg

    tmp, offline, _ = maps
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    overview, popup = ARTIFACTS / "coverage-map-offline.png", ARTIFACTS / "coverage-map-offline-popup.png"
    for png in (overview, popup):
        if png.exists():
            png.unlink()
    url = Path(offline["path"]).as_uri()
    chromium(url, tmp, "--virtual-time-budget=8000", "--window-size=1400,1000", f"--screenshot={overview}")
    chromium(url + "#kato=" + _first_measured(offline), tmp, "--virtual-time-budget=8000", "--window-size=1400,1000",
             f"--screenshot={popup}")
    assert overview.exists() and popup.exists() and popup.stat().st_size > 30_000
    img = mpimg.imread(overview)[:, :, :3]
    assert img.shape[:2] == (1000, 1400)
    mapped = img[120:, 320:1000]          # the map between the search box and the legend

    def near(hex_colour: str) -> int:
        rgb = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
        return int((np.abs(mapped - rgb).max(axis=2) < 0.04).sum())

    assert near("#bdbdbd") > 500, "no grey (unmeasured) markers on the map"
    red = (mapped[:, :, 0] > 0.7) & (mapped[:, :, 1] < 0.35) & (mapped[:, :, 2] < 0.35)   # fill opacity 0.9
    assert red.sum() > 5, "no red (no service) marker on the map"
    assert near("#f3f1ea") > 50_000, "the plain offline background is missing"


def _first_measured(result: dict) -> str:
    html = Path(result["path"]).read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script type="application/json" id="qamtu-data">(.*?)</script>', html, re.S).group(1))
    i = int(next(iter(data["layers"]["best"])))
    return data["settlements"][i][0]


EVIL = "<script>document.documentElement.setAttribute('data-pwned','1')</script>Әуез"
EVIL_IMG = "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','2')\">Қоңыр"


def test_script_in_a_settlement_name_is_text(tmp_path, write_gazetteer):
    feats = [settlement_feature("611010001", 43.3, 68.25, name=EVIL),
             settlement_feature("611010002", 43.35, 68.3, name="Ұлы"),
             settlement_feature("611010003", None, None, name=EVIL_IMG)]
    g = Gazetteer.load(write_gazetteer(feats))
    t0 = datetime(2026, 6, 1, 6, tzinfo=timezone.utc)
    samples = pd.DataFrame({"time_utc": pd.to_datetime([t0 + timedelta(days=i % 2, seconds=i) for i in range(40)],
                                                       utc=True),
                            "status": "ok", "operator_mcc": "401", "operator_mnc": "02", "technology": "LTE",
                            "rsrp_dbm": -90.0, "rscp_dbm": np.nan, "rssi_dbm": np.nan, "kato": "611010001",
                            "lat": 43.3, "lon": 68.25})
    tests = pd.DataFrame(columns=["time_utc", "operator_mcc", "operator_mnc", "technology", "valid",
                                  "consumer_comparable_only", "download_mbps", "upload_mbps", "failure_cause", "kato"])
    tests["time_utc"] = pd.to_datetime(tests["time_utc"], utc=True)
    period = Period(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 7, 1, tzinfo=timezone.utc), "2026-06")
    cl = classify(samples, tests, g, load_rules(), period)
    out = build_coverage_map(cl, g, tmp_path / "evil.html", samples=samples, offline=True)
    html = Path(out["path"]).read_text(encoding="utf-8")
    assert html.count("</script>") == html.count("<script")   # the name never closes a script block
    dom, requests = chromium(Path(out["path"]).as_uri() + "#kato=611010001", tmp_path, "--virtual-time-budget=6000",
                             "--dump-dom")
    a = attrs(dom)
    assert a.get("data-qamtu-ready") == "1" and "data-qamtu-errors" not in a, a
    assert "data-pwned" not in dom.split("<body")[0], "a settlement name ran as script"
    popup = re.search(r'<div class="qamtu-popup">(.*?)</table>', dom, re.S)
    assert popup, "the #kato= link did not open the popup"
    assert "&lt;script&gt;document.documentElement.setAttribute" in popup.group(1)
    assert "Әуез" in popup.group(1) and "4G" in popup.group(1)
    # the settlement without coordinates is listed, as text
    assert "&lt;img src=x onerror=" in dom and "Қоңыр" in dom
    assert int(a["data-qamtu-unlocated"]) == 1 and requests == []


def test_search_box_finds_kazakh_names_typed_with_russian_letters(maps):
    tmp, offline, _ = maps
    url = Path(offline["path"]).as_uri() + "#search=" + "шубарсу"       # typed without the Kazakh letter ұ
    dom, _requests = chromium(url, tmp, "--virtual-time-budget=6000", "--dump-dom")
    results = re.search(r'<ul class="qamtu-results">(.*?)</ul>', dom, re.S)
    assert results, "the search box is missing"
    items = re.findall(r"<li[^>]*>(.*?)</li>", results.group(1))
    assert any(i.startswith("Шұбарсу / Шубарсу") for i in items), items
    # a name that does not exist says so
    dom, _ = chromium(Path(offline["path"]).as_uri() + "#search=zzzqqq", tmp, "--virtual-time-budget=6000",
                      "--dump-dom")
    assert "Табылмады / Не найдено" in dom
