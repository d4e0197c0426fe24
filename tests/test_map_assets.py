"""The map pages' JavaScript and CSS as package data (``mapping/data/map/``): they parse, use no
HTML sinks, are inlined once into each page, and the mapping modules share helpers through
``mapping/leaflet.py`` rather than each other's private names."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess

import pytest

from conftest import REPO
from qamtu import package_path
from qamtu.mapping import leaflet
from qamtu.mapping.leaflet import MapError, page_asset

ASSETS = package_path("mapping", "data", "map")
SCRIPTS = sorted(ASSETS.glob("*.js"))
#: ways a string becomes HTML in a page: none may appear in the map scripts
HTML_SINKS = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\.html\(|setContent\(\s*['\"]")


def test_the_assets_are_there():
    assert {p.name for p in ASSETS.iterdir()} >= {"qamtu-base.js", "qamtu-base.css", "coverage.js", "coverage.css",
                                                 "problems.js", "problems.css"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_parse(script):
    node = shutil.which("node") or shutil.which("nodejs")
    assert node, "nodejs is missing: install the Debian package 'nodejs' (.ci/run does)"
    out = subprocess.run([node, "--check", str(script)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_put_no_string_into_the_dom_as_html(script):
    text = script.read_text(encoding="utf-8")
    assert "'use strict'" in text
    assert not HTML_SINKS.search(text), HTML_SINKS.search(text).group(0)
    # tooltips and popups get elements or functions returning elements, never strings
    for call in re.finditer(r"\.(bindTooltip|bindPopup)\(\s*([^,]+)", text):
        assert call.group(2).startswith("function"), call.group(0)


def test_an_asset_that_would_end_its_inlined_block_is_refused(tmp_path, monkeypatch):
    (tmp_path / "map").mkdir(parents=True)
    (tmp_path / "map" / "bad.js").write_text("var s = '</script>';\n", encoding="utf-8")
    monkeypatch.setattr(leaflet, "package_path", lambda *parts: tmp_path.joinpath(*parts[2:]))
    with pytest.raises(MapError, match="bad.js: contains '</script'"):
        page_asset("bad.js")
    with pytest.raises(MapError, match="missing.js: map page asset missing"):
        page_asset("missing.js")


def test_mapping_modules_import_no_private_names():
    offenders = []
    for path in sorted((REPO / "mapping").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level and node.module:
                offenders += [f"{path.name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert offenders == []
