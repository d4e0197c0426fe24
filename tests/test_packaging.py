"""The layout rules of docs/architecture.md, checked on the source tree."""

from __future__ import annotations

import ast
import tomllib

from conftest import REPO

PACKAGES = ("device", "store", "probe", "mapping", "reports", "cases", "office")
#: package -> the Qamtu packages it may import (besides the root ``qamtu`` and itself); see docs/architecture.md.
#: device, mapping and store are at the bottom; cases sits above reports, office above cases; only the CLI
#: imports office; nothing imports the CLI.
ALLOWED = {
    "device": set(),
    "mapping": set(),
    "store": set(),
    "probe": {"device", "mapping", "store"},
    "reports": {"device", "mapping", "store", "probe"},
    "cases": {"device", "mapping", "store", "probe", "reports"},
    "office": {"device", "mapping", "store", "probe", "reports", "cases"},
}
#: every second-level name a module may name: the packages, and the root's own modules/data
#: the root package and its small shared modules, importable by every package (docs/architecture.md)
ROOT_NAMES = {"__version__", "package_path", "QamtuError", "read_toml", "load_model", "validate_model",
              "validation_message", "toml_line", "safeio", "textsafe"}


def _modules():
    for pkg in PACKAGES:
        for path in sorted((REPO / pkg).rglob("*.py")):
            yield pkg, path


def _imported_packages(path, root=REPO):
    """Second-level names (``qamtu.<name>``) that a module imports, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = ["qamtu", *path.parent.relative_to(root).parts]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name.split(".") for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            mod = base + (node.module.split(".") if node.module else [])
            targets = [mod] if len(mod) > 1 or not node.level else [mod + [a.name] for a in node.names]
        else:
            continue
        for t in targets:
            if t[0] == "click":
                found.add("click")
            elif t[0] == "qamtu" and len(t) > 1:
                found.add(t[1])
    return found


def test_import_scan_sees_relative_and_absolute_imports(tmp_path):
    mod = tmp_path / "device" / "drivers"
    mod.mkdir(parents=True)
    (mod / "x.py").write_text("from ...probe import store\nfrom .. import at\nimport qamtu.mapping.tagging\n"
                              "from ... import cli\nimport click\n", encoding="utf-8")
    assert _imported_packages(mod / "x.py", tmp_path) == {"probe", "device", "mapping", "cli", "click"}


def test_imports_go_one_way():
    bad = []
    for pkg, path in _modules():
        hits = _imported_packages(path) - ALLOWED[pkg] - ROOT_NAMES - {pkg}
        if hits:
            bad.append(f"{path.relative_to(REPO)} imports {sorted(hits)}")
    assert not bad, "\n".join(bad)


def test_the_store_imports_nothing_of_qamtu_but_the_root():
    for path in sorted((REPO / "store").rglob("*.py")):
        assert _imported_packages(path) <= ROOT_NAMES | {"store"}, path


def test_nothing_imports_click_or_the_cli():
    for path in sorted(REPO.rglob("*.py")):
        if ".venv" in path.parts or "build" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not any(a.name == "click" or a.name.startswith("click.") for a in node.names), path
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                assert not (node.module or "").startswith("click"), path


def test_every_package_directory_is_listed_in_pyproject():
    conf = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(conf["tool"]["setuptools"]["packages"])
    on_disk = {"qamtu"} | {"qamtu." + ".".join(p.parent.relative_to(REPO).parts)
                           for pkg in PACKAGES for p in (REPO / pkg).rglob("__init__.py")}
    assert on_disk == listed, (f"pyproject packages differ from the tree: missing {on_disk - listed}, "
                               f"extra {listed - on_disk}")


def test_wheel_ships_the_data_files(tmp_path):
    """`pip install .` (not editable) must carry the gazetteer, the sources and every data table."""
    import subprocess
    import sys
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("qamtu-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {"qamtu/settlements.geojson", "qamtu/cli.py", "qamtu/mapping/data/districts.geojson",
                "qamtu/mapping/data/tagging.toml", "qamtu/data/sources/kato.csv", "qamtu/mapping/data/regions.geojson"}
    for pkg in PACKAGES:
        for f in (REPO / pkg).rglob("*"):
            if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc":
                expected.add("qamtu/" + f.relative_to(REPO).as_posix())
    missing = sorted(expected - names)
    assert not missing, f"not in the wheel (add to [tool.setuptools] packages / package-data): {missing}"
    assert not any(n.startswith(("qamtu/tests/", "qamtu/bench/", "qamtu/.venv/")) for n in names)
