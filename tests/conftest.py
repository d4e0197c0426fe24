"""Shared fixtures: the bundled gazetteer, small synthetic gazetteers, running `qamtu` (in process, or the
console script)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
QAMTU = Path(sys.executable).with_name("qamtu.exe" if os.name == "nt" else "qamtu")


@pytest.fixture(scope="session")
def gazetteer():
    from qamtu.mapping.gazetteer import Gazetteer

    return Gazetteer.load()


def settlement_feature(kato: str, lat: float | None, lon: float | None, *, kind: str = "village",
                       population: int | None = None, name: str = "Тест") -> dict:
    """A valid settlements.geojson feature for synthetic gazetteers."""
    return {"type": "Feature", "properties": {
        "kato": kato, "name_kk": name, "name_ru": name, "name_latin": None, "kind": kind,
        "kato_name_kk": name + " а.", "kato_name_ru": "с." + name,
        "region_kato": kato[:2] + "0000000", "region_name_kk": f"Облыс {kato[:2]}",
        "region_name_ru": f"Область {kato[:2]}",
        "district_kato": kato[:4] + "00000", "district_name_kk": "Аудан", "district_name_ru": "Район",
        "rural_okrug_kato": None, "rural_okrug_name_kk": None, "rural_okrug_name_ru": None,
        "population": population, "population_source": None, "coord_source": None, "coord_source_id": None,
        "match_method": None, "okrug_median_km": None, "kato_version": "test"},
        "geometry": None if lat is None else {"type": "Point", "coordinates": [lon, lat]}}


@pytest.fixture
def write_gazetteer(tmp_path):
    """Write features to a settlements GeoJSON in tmp_path and return its path."""
    def write(features: list[dict], name: str = "settlements.geojson") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                        encoding="utf-8")
        return path
    return write


def run_qamtu(*args: str, check: bool = True, timeout: float = 120,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `qamtu ARGS` in this process (typer's CliRunner): the same stdout, stderr and exit status a
    user sees, since the app itself turns Qamtu errors into `error (qamtu ...): ...` and exit 1.

    Any other exception is a bug: it is raised here with its traceback. ``timeout`` is accepted for
    the console-script form's sake and not used.
    """
    from typer.testing import CliRunner

    from qamtu.cli import app

    result = CliRunner(env={"COLUMNS": "120", **(env or {})}).invoke(app, list(args), prog_name="qamtu")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    proc = subprocess.CompletedProcess(["qamtu", *args], result.exit_code, result.stdout, result.stderr)
    if check and proc.returncode != 0:
        raise AssertionError(f"qamtu {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def run_console_script(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the installed `qamtu` console script in a child process, as a user would (smoke tests only)."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8", COLUMNS="120")
    proc = subprocess.run([str(QAMTU), *args], capture_output=True, text=True, encoding="utf-8", timeout=timeout,
                          env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"qamtu {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def cluster():
    """A throwaway PostgreSQL/PostGIS cluster for the test module (Debian packages that .ci/run installs);
    missing, the test fails saying so: no skip hides a store path that was not tested."""
    from pg import Cluster, pg_bin, postgis_available

    if pg_bin() is None or not postgis_available():
        pytest.fail("PostgreSQL/PostGIS not installed (apt: postgresql postgresql-15-postgis-3; .ci/run installs them)")
    c = Cluster().start()
    yield c
    c.stop()
