"""One contract for every modem: each simulated profile always, a real modem when QAMTU_TEST_MODEM is set.

Real modem: ``QAMTU_TEST_MODEM=/dev/ttyUSB2 .venv/bin/python -m pytest tests/test_device_contract.py``
(optionally ``QAMTU_TEST_DRIVER=quectel``). The modem must not be held by ModemManager.
"""

from __future__ import annotations

import os
import re
from datetime import timezone

import pytest

from qamtu.device import (ATChannel, ModemReading, RegState, SimModem, Technology, driver_names, open_modem,
                          profile_names)
from qamtu.device.scenario import Signal, static_route

REAL = os.environ.get("QAMTU_TEST_MODEM")
EXPECTED_DRIVER = {"generic": "generic", "quectel-ec25": "quectel", "quectel-rm500q": "quectel",
                   "quectel-rm520n": "quectel", "huawei-me909": "huawei", "simcom-sim7600": "simcom",
                   "sierra-em7455": "sierra", "telit-le910": "telit", "telit-lm960": "telit"}
TARGETS = [pytest.param(("sim", p), id=p) for p in profile_names()] + [
    pytest.param(("real", REAL), id="real-modem",
                 marks=pytest.mark.skipif(not REAL, reason="set QAMTU_TEST_MODEM=/dev/ttyUSB2 to run on a real modem"))]


@pytest.fixture(params=TARGETS)
def target(request):
    kind, name = request.param
    if kind == "real":
        yield name, os.environ.get("QAMTU_TEST_DRIVER"), None
        return
    with SimModem(name, static_route(), operator="401-02") as sim:
        yield sim.path, None, sim


def test_every_profile_is_covered():
    assert set(EXPECTED_DRIVER) == set(profile_names())
    # every AT driver has a simulated profile (modemmanager/qmi/mbim ports are covered in their own tests)
    from qamtu.device.drivers import at_driver_names

    assert set(EXPECTED_DRIVER.values()) == set(at_driver_names())


def test_driver_is_chosen_and_identity_read(target):
    port, driver, sim = target
    with open_modem(port, driver) as modem:
        assert modem.name in driver_names()
        if sim is not None:
            assert modem.name == EXPECTED_DRIVER[sim.profile.name]
        info = modem.info()
    assert info.port == port and info.driver == modem.name
    assert info.imei is None or re.fullmatch(r"\d{14,16}", info.imei)
    assert info.imsi is None or re.fullmatch(r"\d{6,15}", info.imsi)
    if sim is not None:
        assert (info.manufacturer, info.model) == (sim.profile.manufacturer, sim.profile.model)
        assert info.sim_operator == "Kcell" and info.imei


def test_reading_is_complete_and_consistent(target):
    port, driver, sim = target
    with open_modem(port, driver) as modem:
        r1 = modem.read()
        r2 = modem.read()
    for r in (r1, r2):
        assert isinstance(r, ModemReading) and r.time_utc.tzinfo is not None
        assert r.time_utc.utcoffset() == timezone.utc.utcoffset(None)
        assert r.raw and all(x.final for x in r.raw)
        if r.technology is Technology.NONE:
            assert r.cells == [] or r.registration is not RegState.HOME
        for c in r.cells:
            for v, lo, hi in ((c.rsrp_dbm, -160, -30), (c.rsrq_db, -40, 10), (c.rssi_dbm, -130, 0),
                              (c.sinr_db, -30, 50), (c.rscp_dbm, -130, -20)):
                assert v is None or lo <= v <= hi
        ModemReading.model_validate(r.model_dump(mode="json"))
    assert r2.time_utc >= r1.time_utc
    if sim is not None:
        truth = sim.route.signal_at(0, "401-02")
        assert r1.registration is RegState.HOME and r1.technology is Technology.LTE
        assert (r1.operator_mcc, r1.operator_mnc, r1.operator_name) == ("401", "02", "Kcell")
        cell = r1.serving
        assert cell is not None and cell.rsrp_dbm == truth.rsrp_dbm and cell.rsrq_db == truth.rsrq_db
        if sim.profile.name != "generic":  # 27.007 alone has no SINR
            assert cell.rssi_dbm == truth.rssi_dbm
        assert cell.area_code == truth.tac and cell.cell_id == truth.cell_id


def test_port_is_released_after_use(target):
    port, driver, sim = target
    with open_modem(port, driver) as modem:
        modem.read()
    with ATChannel(port):  # exclusive open succeeds: the driver closed the port
        pass


@pytest.mark.parametrize("profile", profile_names())
def test_no_service_is_a_valid_reading(profile):
    route = static_route({"401-02": Signal(tech="none")})
    with SimModem(profile, route, operator="401-02") as sim, open_modem(sim.path) as modem:
        r = modem.read()
    assert r.technology is Technology.NONE and r.cells == [] and not r.has_service
    assert r.registration in (RegState.SEARCHING, RegState.NOT_REGISTERED)
    assert r.operator_mcc is None


@pytest.mark.parametrize("profile,tech", [("quectel-ec25", "UMTS"), ("quectel-ec25", "GSM"), ("huawei-me909", "UMTS"),
                                          ("quectel-rm520n", "NR-SA"), ("quectel-rm500q", "NR-NSA"),
                                          ("generic", "UMTS"), ("simcom-sim7600", "GSM")])
def test_other_technologies(profile, tech):
    sig = {"UMTS": Signal(tech="UMTS", rscp_dbm=-85, ecio_db=-6, rssi_dbm=-70, lac=0x2B6F, cell_id=0xC1A3F1, pci=187,
                          channel=10737),
           "GSM": Signal(tech="GSM", rssi_dbm=-71, lac=0xC2D, cell_id=0x4E21, pci=33, channel=62),
           "NR-SA": Signal(tech="NR-SA", rsrp_dbm=-88, rsrq_db=-11, sinr_db=15, tac=0xA1B2, cell_id=0x1A2B3C4D5,
                           pci=101, channel=627264, band="n78"),
           "NR-NSA": Signal(tech="NR-NSA", rsrp_dbm=-80, rsrq_db=-9, sinr_db=20, rssi_dbm=-52, tac=0x2101,
                            cell_id=0x4E9201, pci=74, channel=1300, band="B3",
                            nr={"rsrp_dbm": -84, "rsrq_db": -10, "sinr_db": 18.0, "pci": 106, "channel": 636666,
                                "band": "n78"})}[tech]
    with SimModem(profile, static_route({"401-77": sig}), operator="401-77") as sim, open_modem(sim.path) as m:
        r = m.read()
    assert r.technology.value == tech and r.registration is RegState.HOME and r.operator_name == "Tele2"
    rats = [c.rat.value for c in r.cells]
    want = {"UMTS": ["UMTS"], "GSM": ["GSM"], "NR-SA": ["NR"], "NR-NSA": ["LTE", "NR"]}[tech]
    assert rats == want
    if tech == "UMTS":
        assert r.cells[0].rscp_dbm == -85.0 and r.cells[0].ecio_db == -6.0
    if tech == "NR-NSA":
        assert r.cells[1].sinr_db == 18.0 and r.cells[0].sinr_db == 20.0
    if tech == "NR-SA":
        assert r.cells[0].cell_id == 0x1A2B3C4D5 and r.cells[0].sinr_db == 15.0
