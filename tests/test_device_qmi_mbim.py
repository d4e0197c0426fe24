"""``qmi:`` and ``mbim:`` ports: qmicli/mbimcli text parsed by label (fixtures written from libqmi's and
libmbim's print formats, each citing them), and the drivers end to end through the registry with a stand-in
for the command-line tool (no QMI/MBIM device can exist here)."""

from __future__ import annotations

import inspect
import json
import os
import stat
import sys
from pathlib import Path

import pytest

from qamtu.device import open_modem, read_modem
from qamtu.device.drivers import DRIVERS
from qamtu.device.errors import PortNotFound
from qamtu.device.models import Rat, RegState, Technology
from qamtu.device.qmi_mbim import (parse_mbim_base_stations, parse_mbim_signal_state, parse_qmi_rf_band_info,
                                   parse_qmi_serving_system, parse_qmi_signal_info)

FIX = Path(__file__).parent / "fixtures"


def sections(path: Path) -> dict[str, str]:
    """``== --option`` blocks of a fixture: the tool's stdout for that option."""
    out, cur = {}, None
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            continue
        if line.startswith("== "):
            cur = line[3:].strip()
            out[cur] = ""
        elif cur:
            out[cur] += line + "\n"
    return out


def test_qmicli_formats():
    s = sections(FIX / "qmi" / "rm500q_endc.txt")
    sig = parse_qmi_signal_info(s["--nas-get-signal-info"])
    assert sig["LTE"] == {"rssi": -47.0, "rsrq": -5.0, "rsrp": -70.0, "snr": 30.0}
    assert sig["5G"] == {"rsrp": -75.0, "snr": 18.5, "rsrq": -11.0}
    ss = parse_qmi_serving_system(s["--nas-get-serving-system"])
    assert (ss["registration"], ss["radio_interfaces"]) == ("registered", ["lte", "5gnr"])
    assert (ss["mcc"], ss["mnc"]) == ("401", "02")
    assert (ss["cell_id"], ss["tac"]) == (5149185, 8449)
    assert parse_qmi_rf_band_info(s["--nas-get-rf-band-info"])[1] == {"interface": "5gnr", "band": "nr5g-band-78",
                                                                       "channel": 636666}


def test_mbimcli_formats():
    s = sections(FIX / "mbim" / "fm350_endc.txt")
    assert parse_mbim_signal_state(s["--query-signal-state"]) == -65.0  # code 24: -113 + 2*24
    st = parse_mbim_base_stations(s["--ms-query-base-stations-info"])
    assert st["LTE"]["earfcn"] == "1300" and st["LTE"]["rsrp"] == "-92 dBm"
    assert st["NR"]["nrarfcn"] == "636666" and st["NR"]["nci"] is None and st["NR"]["sinr"] == "15 dB"


@pytest.fixture
def fake_tool(tmp_path, monkeypatch):
    """A stand-in for qmicli/mbimcli printing a fixture's block for the option it is given."""
    def make(kind: str, fixture: Path) -> str:
        script = tmp_path / f"fake-{kind}"
        script.write_text(f"#!{sys.executable} -S\nimport sys\nfrom pathlib import Path\n"
                          + inspect.getsource(sections) +
                          f"s = sections(Path({str(fixture)!r}))\n"
                          "opt = [a for a in sys.argv[1:] if a.startswith('--')][-1]\n"
                          "assert sys.argv[1] == '-d' and '-p' in sys.argv, sys.argv\n"
                          "sys.stdout.write(s.get(opt, ''))\nsys.exit(0 if opt in s else 1)\n")
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
        dev = tmp_path / "cdc-wdm0"
        dev.touch()
        monkeypatch.setenv("QAMTU_QMICLI" if kind == "qmi" else "QAMTU_MBIMCLI", str(script))
        return f"{kind}:{dev}"
    return make


def test_qmi_driver_end_to_end(fake_tool):
    port = fake_tool("qmi", FIX / "qmi" / "rm500q_endc.txt")
    assert "qmi" in DRIVERS and "mbim" in DRIVERS
    r = read_modem(port)
    assert (r.driver, r.technology, r.registration) == ("qmi", Technology.NR_NSA, RegState.HOME)
    assert r.operator_name == "Kcell"
    lte, nr = r.cells
    assert (lte.rat, lte.band, lte.channel, lte.rsrp_dbm, lte.sinr_db, lte.cell_id, lte.area_code) == \
        (Rat.LTE, "B3", 1300, -70.0, 30.0, 5149185, 8449)
    assert (nr.rat, nr.band, nr.channel, nr.rsrp_dbm, nr.sinr_db) == (Rat.NR, "n78", 636666, -75.0, 18.5)
    with open_modem(port) as m:
        info = m.info()
    assert (info.manufacturer, info.model, info.imei) == ("Quectel", "RM500Q-GL", "869710030002905")
    json.dumps(r.model_dump(mode="json"))


def test_mbim_driver_end_to_end(fake_tool):
    port = fake_tool("mbim", FIX / "mbim" / "fm350_endc.txt")
    r = read_modem(port)
    assert (r.driver, r.technology, r.registration, r.operator_mnc) == ("mbim", Technology.NR_NSA, RegState.HOME, "02")
    lte, nr = r.cells
    assert (lte.band, lte.channel, lte.pci, lte.area_code) == ("B3", 1300, 74, 8449)
    assert (lte.rsrp_dbm, lte.rsrq_db) == (-92.0, -11.0)
    assert (nr.band, nr.pci, nr.cell_id, nr.rsrp_dbm, nr.sinr_db) == ("n78", 520, None, -88.0, 15.0)


def test_missing_tool_or_device_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("QAMTU_QMICLI", raising=False)
    with pytest.raises(PortNotFound, match="libqmi-utils"):
        open_modem("qmi:/dev/cdc-wdm0")
    monkeypatch.setenv("QAMTU_MBIMCLI", "/bin/true")
    with pytest.raises(PortNotFound, match="cdc-wdm"):
        open_modem(f"mbim:{tmp_path / 'nothing'}")
    assert os.environ["QAMTU_MBIMCLI"] == "/bin/true"
