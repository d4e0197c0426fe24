"""Discovery, data tables with citations, and the package's boundaries."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest

import qamtu.device as device
from qamtu.device.discovery import classify, list_serial_ports, usb_interface_number
from qamtu.device.drivers import choose_driver
from qamtu.device.generic import Identity
from qamtu.device.values import table

DEVICE_DIR = Path(device.__file__).parent


def _port(dev, vid, pid, location):
    return SimpleNamespace(device=dev, description="USB serial", vid=vid, pid=pid, serial_number="0123",
                           manufacturer="Quectel", product="EC25", location=location)


def test_usb_interface_number():
    assert usb_interface_number("1-1.2:1.3") == 3 and usb_interface_number("1-4:1.0") == 0
    assert usb_interface_number(None) is None and usb_interface_number("COM7") is None


def test_quectel_ports_are_classified():
    ports = [_port("/dev/ttyUSB1", 0x2C7C, 0x0125, "1-1:1.1"), _port("/dev/ttyUSB2", 0x2C7C, 0x0125, "1-1:1.2"),
             _port("/dev/ttyUSB0", 0x2C7C, 0x0125, "1-1:1.0"), _port("/dev/ttyS0", None, None, None),
             _port("/dev/ttyUSB5", 0x12D1, 0x9999, "1-2:1.0")]
    got = {p.device: p for p in list_serial_ports(ports, with_holders=False)}
    assert (got["/dev/ttyUSB2"].role, got["/dev/ttyUSB2"].driver, got["/dev/ttyUSB2"].vid) == ("AT", "quectel", "2c7c")
    assert got["/dev/ttyUSB1"].role == "NMEA" and got["/dev/ttyUSB0"].role == "other"
    assert "EC25" in got["/dev/ttyUSB2"].model
    assert got["/dev/ttyS0"].vendor is None and got["/dev/ttyS0"].role is None
    assert got["/dev/ttyUSB5"].driver == "huawei" and got["/dev/ttyUSB5"].model is None  # known vendor, unknown PID
    assert [p.device for p in got.values()] == sorted(got)


def test_real_port_listing_does_not_fail():
    assert isinstance(list_serial_ports(), list)


def test_every_vendor_of_the_issue_is_in_the_table():
    vids = {v["vid"] for v in table("usb_models")["vendors"].values()}
    assert {"2c7c", "12d1", "1e0e", "1199", "1bc7"} <= vids
    for m in table("usb_models")["models"]:
        assert m["source"] and m["vid"] in vids and len(m["pid"]) == 4
    assert classify(0x1199, 0x9071, 3)["role"] == "AT" and classify(0x1199, 0x9071, 2)["role"] == "NMEA"


@pytest.mark.parametrize("ident,driver", [
    (Identity("Quectel", "EC25"), "quectel"), (Identity("huawei", "E3372"), "huawei"),
    (Identity("SIMCOM INCORPORATED", "SIMCOM_SIM7600E-H"), "simcom"),
    (Identity(None, None, None, "Manufacturer: Sierra Wireless, Incorporated"), "sierra"),
    (Identity("Telit", "LM960A18"), "telit"), (Identity("Fibocom", "L850-GL"), "generic"), (Identity(), "generic")])
def test_driver_choice_from_identity(ident, driver):
    assert choose_driver(ident) == driver


def test_device_imports_nothing_from_the_other_packages():
    forbidden = {"probe", "mapping", "reports", "cli"}
    for path in DEVICE_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level >= 2:  # from ..x import y  ->  qamtu.x.y
                    targets = [f"qamtu.{base}.{a.name}".replace("..", ".") for a in node.names]
                elif node.level == 0:
                    targets = [base]
            for t in targets:
                parts = t.split(".")
                assert not (parts[0] == "qamtu" and len(parts) > 1 and parts[1] in forbidden), f"{path.name}: {t}"


def test_data_files_are_declared_as_package_data():
    import fnmatch
    import tomllib

    setup = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["tool"]["setuptools"]
    globs = setup["package-data"]["qamtu.device"]
    files = [p.relative_to(DEVICE_DIR).as_posix() for p in (DEVICE_DIR / "data").rglob("*") if p.is_file()]
    assert files and all(any(fnmatch.fnmatch(f, g) for g in globs) for f in files), (files, globs)
    assert "qamtu.device" in setup["packages"]


def test_public_api_is_exported():
    assert sorted(device.__all__) == device.__all__
    for name in device.__all__:
        assert getattr(device, name) is not None
