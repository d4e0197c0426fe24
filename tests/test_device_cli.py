"""The device commands of the CLI, in process (CliRunner) and once through the installed script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qamtu.cli import app
from qamtu.device import SimGnss, SimModem, load_route
from qamtu.device.errors import DriverError, PortNotFound

runner = CliRunner()


def test_devices_json_lists_ports():
    res = runner.invoke(app, ["devices", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    ports = out["serial_ports"]
    assert isinstance(ports, list) and isinstance(out["modemmanager"], list)
    for p in ports:
        assert {"device", "vid", "pid", "usb_interface", "model", "driver", "role", "holders"} <= set(p)


def test_modem_read_and_info():
    with SimModem("quectel-rm500q", operator="401-01") as sim:
        res = runner.invoke(app, ["modem", "read", "--port", sim.path, "--json"])
        assert res.exit_code == 0, res.output
        data = json.loads(res.output)
        assert (data["driver"], data["technology"], data["operator_name"]) == ("quectel", "LTE", "Beeline")
        assert data["cells"][0]["rsrp_dbm"] == -90.0 and data["raw"]
        res = runner.invoke(app, ["modem", "read", "--port", sim.path, "--driver", "generic"])
        assert res.exit_code == 0 and "generic" in res.output and "Beeline" in res.output
        res = runner.invoke(app, ["modem", "info", "--port", sim.path, "--json"])
        info = json.loads(res.output)
        assert (info["model"], info["sim_operator"]) == ("RM500Q-GL", "Beeline")
        res = runner.invoke(app, ["modem", "info", "--port", sim.path])
        assert res.exit_code == 0 and "RM500Q-GL" in res.output


def test_modem_read_no_service_prints_it():
    from qamtu.device.scenario import Signal, static_route

    with SimModem("huawei-me909", static_route({"401-02": Signal(tech="none")})) as sim:
        res = runner.invoke(app, ["modem", "read", "--port", sim.path])
    assert res.exit_code == 0 and "no service" in res.output


def test_errors_are_package_errors(tmp_path):
    from qamtu.device import driver_names, read_modem

    with pytest.raises(PortNotFound):
        read_modem(str(tmp_path / "ttyUSB7"))
    with pytest.raises(DriverError, match="valid drivers"):
        read_modem("loop://", "nokia")
    # the app prints them as one line naming the command (what users see, also in process)
    res = runner.invoke(app, ["modem", "read", "--port", str(tmp_path / "ttyUSB7")])
    assert res.exit_code == 1 and res.stderr.startswith("error (qamtu modem read): ")
    assert str(tmp_path / "ttyUSB7") in res.stderr
    # an unknown driver is refused while parsing, before the port is opened
    res = runner.invoke(app, ["modem", "read", "--port", "loop://", "--driver", "nokia"])
    assert res.exit_code == 2 and ", ".join(driver_names()) in " ".join(res.stderr.replace("│", " ").split())


def test_gnss_read_sources():
    res = runner.invoke(app, ["gnss", "read", "--source", "fixed:43.3,68.27", "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["lat_deg"] == 43.3
    with SimGnss(load_route()) as gps:
        res = runner.invoke(app, ["gnss", "read", "--source", gps.path, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["mode"] == "3D"
    res = runner.invoke(app, ["gnss", "read", "--source", "fixed:43.3,68.27"])
    assert "fixed" in res.output


def test_simulate_modem_prints_path_and_stops():
    res = runner.invoke(app, ["simulate", "modem", "--profile", "simcom-sim7600", "--duration", "0.2"])
    assert res.exit_code == 0, res.output
    path = res.output.strip().splitlines()[0]
    assert "simcom" in path and not os.path.exists(path)  # removed on stop
    res = runner.invoke(app, ["simulate", "gnss", "--duration", "0.1", "--speed", "60"])
    assert res.exit_code == 0 and res.output.strip()


def test_simulate_modem_replays_a_transcript():
    fixture = Path(__file__).parent / "fixtures" / "at" / "simcom" / "sim7600_lte.txt"
    res = runner.invoke(app, ["simulate", "modem", "--profile", f"transcript:{fixture}", "--duration", "0.1"])
    assert res.exit_code == 0 and "transcript-sim7600_lte" in res.output


def test_help_texts():
    for args in (["devices"], ["modem", "read"], ["modem", "info"], ["gnss", "read"], ["simulate", "modem"],
                 ["simulate", "gnss"]):
        res = runner.invoke(app, [*args, "--help"])
        assert res.exit_code == 0 and len(res.output) > 100


@pytest.mark.skipif(sys.platform == "win32", reason="pty")
def test_installed_script_end_to_end():
    exe = Path(sys.executable).parent / "qamtu"
    sim = subprocess.Popen([str(exe), "simulate", "modem", "--profile", "telit-lm960", "--operator", "401-07",
                            "--duration", "8"], stdout=subprocess.PIPE, text=True)
    try:
        path = sim.stdout.readline().strip()
        deadline = time.monotonic() + 5
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.05)
        out = subprocess.run([str(exe), "modem", "read", "--port", path, "--json"], capture_output=True, text=True,
                             timeout=20)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["operator_name"] == "Altel"
        bad = subprocess.run([str(exe), "modem", "read", "--port", path + "-missing"], capture_output=True, text=True,
                             timeout=20)
        assert bad.returncode == 1 and "error" in bad.stderr and "missing" in bad.stderr
    finally:
        sim.terminate()
        sim.wait(5)
