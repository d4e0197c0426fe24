"""Hostile text in both map pages, in a real headless Chromium (issue 18 items 1, 19, 20, 25).

Settlement, district and operator names, survey programmes and plan notes carry markup that would
run if it reached the DOM as HTML (``<img onerror>``) or closed the data block (``</script>``).
Each payload sets ``window.__pwned``; the page must show every one of them literally, run none,
log no error, and an offline page must still be built when a note quotes a web address."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import settlement_feature
from qamtu.mapping.classify import Period, classify
from qamtu.mapping.coverage_map import build_coverage_map
from qamtu.mapping.gazetteer import Gazetteer
from qamtu.mapping.leaflet import remote_references, script_json
from qamtu.mapping.problem_map import build_problem_map
from qamtu.mapping.problems import build_problems
from qamtu.mapping.rules import load_rules
from test_problems_browser import Browser

IMG = "<img src=x onerror=\"window.__pwned='img'\">"
BREAK = "</script><script>window.__pwned='script'</script>"
A, B, C = "611010001", "611010002", "611010003"
URL_NOTE = "see https://example.org/plan?id=1 and http://gov.kz"

#: every tooltip bound on a shown layer of the page: opened one by one; their text and whether they hold elements
TOOLTIPS = """(() => { const out = [];
  const seen = new Set();
  function walk(l) { if (!l || seen.has(l)) { return; } seen.add(l);
    if (l._map && l.getTooltip && l.getTooltip()) { const c = l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();
      l.openTooltip(c); const t = l.getTooltip().getElement();
      out.push([t.textContent, t.querySelectorAll('img,script').length]); l.closeTooltip(); }
    if (l.eachLayer) { l.eachLayer(walk); } }
  Object.keys(window).forEach(k => { const v = window[k]; if (v instanceof L.Layer) { walk(v); } });
  return out; })()"""


def districts_file(tmp: Path) -> Path:
    """One district polygon around the test settlements, its names hostile; a source URL in its properties."""
    ring = [[68.0, 43.0], [68.6, 43.0], [68.6, 43.6], [68.0, 43.6], [68.0, 43.0]]
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Polygon",
          "coordinates": [ring]}, "properties": {"name_kk": IMG + "Аудан", "name_ru": BREAK + "Район",
                                                 "approximate": True, "source": "https://example.org/districts"}}]}
    path = tmp / "districts.geojson"
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def hostile(write_gazetteer, tmp_path):
    feats = [settlement_feature(A, 43.30, 68.25, name=IMG + "Әуез", population=900),
             settlement_feature(B, 43.35, 68.30, name=BREAK + "Ұлы"),
             settlement_feature(C, None, None, name=IMG + "Қоңыр")]
    return Gazetteer.load(write_gazetteer(feats)), districts_file(tmp_path)


def open_page(url: str, tmp: Path) -> tuple[Browser, list[str]]:
    """The page loaded and ready; returns the browser and the errors it logged (exceptions, console.error)."""
    b = Browser(url, tmp)
    b.wait_for("document.documentElement.getAttribute('data-qamtu-ready') === '1'")
    time.sleep(0.2)
    b.js("1")
    return b, errors_of(b)


def errors_of(b: Browser) -> list[str]:
    out = []
    for e in b.events:
        if e.get("method") == "Runtime.exceptionThrown":
            out.append(json.dumps(e["params"]["exceptionDetails"])[:300])
        elif e.get("method") == "Runtime.consoleAPICalled" and e["params"].get("type") in ("error", "assert"):
            out.append(json.dumps(e["params"]["args"])[:300])
    return out


def assert_inert(b: Browser, errors: list[str]) -> None:
    assert b.js("window.__pwned === undefined"), f"a payload ran: {b.js('String(window.__pwned)')}"
    assert b.js("document.documentElement.getAttribute('data-qamtu-errors')") is None
    assert errors == []
    assert b.js("document.querySelectorAll('img[src=x], img[src=\"x\"]').length") == 0


def coverage_map(g: Gazetteer, districts: Path, out: Path) -> dict:
    t0 = datetime(2026, 6, 1, 6, tzinfo=timezone.utc)
    n = 40
    times = pd.to_datetime([t0 + timedelta(days=i % 2, seconds=i) for i in range(n)], utc=True)
    samples = pd.DataFrame({"time_utc": times,
                            "status": "ok", "operator_mcc": [BREAK if i % 2 else "401" for i in range(n)],
                            "operator_mnc": [IMG if i % 2 else "02" for i in range(n)], "technology": "LTE",
                            "rsrp_dbm": -90.0, "rscp_dbm": np.nan, "rssi_dbm": np.nan,
                            "kato": [A if i % 4 < 2 else B for i in range(n)], "lat": 43.3, "lon": 68.25})
    tests = pd.DataFrame(columns=["time_utc", "operator_mcc", "operator_mnc", "technology", "valid",
                                  "consumer_comparable_only", "download_mbps", "upload_mbps", "failure_cause", "kato"])
    tests["time_utc"] = pd.to_datetime(tests["time_utc"], utc=True)
    period = Period(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 7, 1, tzinfo=timezone.utc), "2026-06")
    cl = classify(samples, tests, g, load_rules(), period)
    assert any("script" in op for op in cl.operators), cl.operators    # the hostile operator code is a layer
    return build_coverage_map(cl, g, out, samples=samples, offline=True, districts_path=districts,
                              notes=[IMG + " " + URL_NOTE])


def test_coverage_map_shows_hostile_names_as_text(hostile, tmp_path):
    g, districts = hostile
    out = coverage_map(g, districts, tmp_path / "coverage.html")
    page = Path(out["path"]).read_text(encoding="utf-8")
    assert page.count("</script>") == page.count("<script")          # no value closes a script block
    # a malformed #search= fragment is ignored, the #kato= link still opens its popup
    b, errors = open_page(Path(out["path"]).as_uri() + "#search=%E0%A4%A&kato=" + A, tmp_path)
    try:
        assert_inert(b, errors)
        popup = b.wait_for("(document.querySelector('.qamtu-popup') || {}).textContent")
        assert IMG + "Әуез" in popup
        # every layer of the control, the operators' too, is listed as typed
        control = b.js("document.querySelector('.leaflet-control-layers').textContent")
        assert BREAK in control and IMG in control
        assert b.js("document.querySelectorAll('.leaflet-control-layers img,"
                    " .leaflet-control-layers script').length") == 0
        legend = b.js("document.querySelector('.qamtu-legend').textContent")
        assert IMG + " " + URL_NOTE in legend and IMG + "Аудан / " + BREAK + "Район" in legend
        assert IMG + "Қоңыр" in b.js("document.querySelector('.qamtu-unlocated').textContent")
        tips = b.js(TOOLTIPS)
        texts = [t for t, _ in tips]
        assert any(t.startswith(IMG + "Әуез / ") for t in texts), texts
        assert any(t.startswith(BREAK + "Ұлы") for t in texts), texts
        assert any(t.startswith(IMG + "Аудан / " + BREAK + "Район") for t in texts), texts   # district label
        assert all(n == 0 for _, n in tips), tips
        # the search box lists names as text
        b.js("(() => { const i = document.getElementById('qamtu-search-input'); i.value = 'ауез';"
             " i.dispatchEvent(new Event('input')); })()")
        results = b.js("document.querySelector('.qamtu-results').textContent")
        assert IMG + "Әуез" in results
        b.js("(() => { const i = document.getElementById('qamtu-search-input'); i.value = 'коныр';"
             " i.dispatchEvent(new Event('input')); })()")
        assert IMG + "Қоңыр" in b.js("document.querySelector('.qamtu-results').textContent")
        assert b.js("document.querySelectorAll('.qamtu-results img').length") == 0
        assert_inert(b, errors_of(b))
    finally:
        b.close()


def test_problem_map_shows_hostile_plans_and_names_as_text(hostile, tmp_path):
    g, districts = hostile
    years = [2024, 2025]
    none = {"mobile_status": "no_service", "mobile_judged": True, "internet_status": "none", "internet_judged": True}
    measured = {y: pd.DataFrame([{"kato": k, **none} for k in (A, B, C)]) for y in years}
    plans = pd.DataFrame([[A, "mobile", 2024, BREAK + "Бағдарлама", IMG + "Әкімдік", IMG + " " + URL_NOTE]],
                         columns=["kato", "dimension", "planned_year", "programme", "responsible", "note"])
    pic = build_problems(g, years, measured=measured, plans=plans, notes=[BREAK + " " + URL_NOTE])
    # a web address in a plan note is data, not a resource: the offline page is built
    out = build_problem_map(pic, g, tmp_path / "problems.html", offline=True, districts_path=districts)
    page = Path(out["path"]).read_text(encoding="utf-8")
    assert page.count("</script>") == page.count("<script")
    b, errors = open_page(Path(out["path"]).as_uri() + "#year=2025&search=%E0%A4%A&kato=" + A, tmp_path)
    try:
        assert_inert(b, errors)
        assert b.js("document.documentElement.getAttribute('data-qamtu-year')") == "2025"
        popup = b.wait_for("(document.querySelector('.qamtu-popup') || {}).textContent")
        assert IMG + "Әуез" in popup and BREAK + "Бағдарлама" in popup and IMG + " " + URL_NOTE in popup
        legend = b.js("document.querySelector('.qamtu-legend').textContent")
        assert BREAK + " " + URL_NOTE in legend and IMG + "Қоңыр" in legend
        texts = [t for t, n in b.js(TOOLTIPS) if n == 0]
        assert any(t.startswith(BREAK + "Ұлы") for t in texts) and any(t.startswith(IMG + "Аудан") for t in texts)
        assert len(texts) == len(b.js(TOOLTIPS))
        assert_inert(b, errors_of(b))
    finally:
        b.close()


def test_offline_check_looks_at_resources_not_at_data():
    data = f'<script type="application/json" id="qamtu-data">{script_json({"note": URL_NOTE + BREAK})}</script>'
    assert remote_references(data) == []
    assert remote_references(data + '<script src="https://cdn.example/x.js"></script>')
    assert remote_references(data + '<script>L.tileLayer("https://{s}.tile.example/{z}.png")</script>')


def test_script_json_escapes_everything_that_could_end_a_script():
    text = script_json({"a": "</script><!-- & \u2028\u2029 >"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028\u2029 >"}
