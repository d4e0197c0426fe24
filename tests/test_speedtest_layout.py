"""The speed-test package stays inside its layer and documents itself."""

from __future__ import annotations

import ast
from pathlib import Path

import qamtu.probe.speedtest as pkg

ROOT = Path(__file__).resolve().parents[1]
PKG_DIR = ROOT / "probe" / "speedtest"


def test_speedtest_imports_only_allowed_layers():
    for path in PKG_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                name = ("." * node.level) + node.module
                for banned in ("mapping", "reports", "cli"):
                    assert not name.lstrip(".").startswith(banned), f"{path.name} imports {name}"
                    assert f"qamtu.{banned}" not in name, f"{path.name} imports {name}"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith(("qamtu.mapping", "qamtu.reports", "qamtu.cli")), path.name


def test_public_api_is_sorted_exported_and_documented():
    assert pkg.__all__ == sorted(pkg.__all__)
    for name in pkg.__all__:
        assert hasattr(pkg, name), name
    doc = (ROOT / "docs" / "measurement-method.md").read_text()
    assert "version 1.0.0" in doc and pkg.METHOD_VERSION == "1.0.0"
    for word in ("run_speedtest", "arun_speedtest", "interface_down", "dns_failure", "server_unreachable",
                 "connection_reset", "consumer_comparable_only", "max_clients"):
        assert word in doc, word


def test_subpackage_is_declared_for_packaging():
    text = (ROOT / "pyproject.toml").read_text()
    assert '"qamtu.probe.speedtest"' in text and "aiohttp" in text
