"""The ``modemmanager`` driver: parsers on ModemManager's documented shapes, and the real ModemManager
(Debian's package, test mode, private D-Bus; tests/mm_lab.py) driving a fake AT modem: a reading,
values that change, Signal.Setup restored, the CLI, and a probe that mixes it with an AT modem while the
modem is removed and ModemManager restarted."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from conftest import QAMTU
from mm_lab import AVAILABLE, IMEI, MMLab

from qamtu.device import open_modem
from qamtu.device.errors import DriverError, GnssError, PortNotFound
from qamtu.device.models import FixMode, Rat, Technology
from qamtu.device.modemmanager import (fix_from_location, list_mm_modems, parse_cell_info, parse_location_3gpp,
                                       technology_from_bits)
from qamtu.device.scenario import SimClock, static_route
from qamtu.device.simulator import SimGnss, SimModem


# ---------------------------------------------------------------- shapes from ModemManager's documentation
def test_access_technology_bits():
    assert technology_from_bits(1 << 14) == Technology.LTE
    assert technology_from_bits((1 << 14) | (1 << 15)) == Technology.NR_NSA
    assert technology_from_bits(1 << 15) == Technology.NR_SA
    assert technology_from_bits(1 << 9) == Technology.UMTS and technology_from_bits(1 << 4) == Technology.GSM
    assert technology_from_bits(0) == Technology.NONE


def test_location_3gpp_string():
    # modemmanager.md: the raw D-Bus GetLocation reply is {1: '250,01,0,123ABCD,1A2B'} (MCC,MNC,LAC,CI,TAC hex)
    assert parse_location_3gpp("250,01,0,123ABCD,1A2B") == {"mcc": "250", "mnc": "01", "lac": None,
                                                           "ci": 0x123ABCD, "tac": 0x1A2B}
    assert parse_location_3gpp("") == {} and parse_location_3gpp("x,y") == {}


def test_cell_info_serving_cells_and_band_from_channel():
    # keys as libmm-glib MMCellInfoLte / MMCellInfoNr serialise them (mm-cell-info-lte.c, mm-cell-info-nr.c)
    cells = [{"cell-type": 5, "serving": True, "operator-id": "40102", "tac": "2101", "ci": "4E9201",
              "physical-ci": "4A", "earfcn": 1300, "rsrp": -95.0, "rsrq": -11.0, "bandwidth": 20000},
             {"cell-type": 6, "serving": True, "operator-id": "40102", "physical-ci": "208", "nrarfcn": 636666,
              "rsrp": -88.0, "rsrq": -11.0, "sinr": 15.5},
             {"cell-type": 5, "serving": False, "earfcn": 6300, "physical-ci": "11", "rsrp": -110.0},
             {"cell-type": 99, "serving": True}]
    notes: list[str] = []
    lte, nr = parse_cell_info(cells, notes)
    assert (lte.rat, lte.band, lte.channel, lte.pci, lte.area_code, lte.cell_id, lte.bandwidth_mhz) == \
        (Rat.LTE, "B3", 1300, 0x4A, 0x2101, 0x4E9201, 20.0)
    assert (nr.rat, nr.band, nr.pci, nr.sinr_db) == (Rat.NR, "n78", 0x208, 15.5)
    assert any("n78, n77" in n for n in notes)  # 636666 lies in both; the ambiguity is recorded


def test_gps_fix_from_location_nmea_and_raw():
    nmea = ("$GNRMC,050000.00,A,4318.1168,N,06816.2222,E,10.0,90.0,010626,,,A*7C\r\n"
            "$GNGGA,050000.00,4318.1168,N,06816.2222,E,1,09,0.9,230.0,M,-20.0,M,,*5E\r\n")
    from qamtu.device.nmea import sentence

    nmea = "".join(sentence(x[1:x.index("*")]).decode() for x in nmea.split("\r\n") if x)
    fix = fix_from_location({4: nmea}, "modemmanager-gps:0")
    assert fix is not None and fix.has_fix and abs(fix.lat_deg - 43.30195) < 1e-4 and fix.mode == FixMode.FIX_3D
    raw = fix_from_location({2: {"latitude": 43.3, "longitude": 68.27, "altitude": 230.0}}, "modemmanager-gps:0")
    assert raw.has_fix and raw.alt_m == 230.0
    bad = fix_from_location({2: {"latitude": 99.98, "longitude": 300.0}}, "modemmanager-gps:0")
    assert not bad.has_fix and bad.notes


def test_a_serial_driver_cannot_open_a_modemmanager_port():
    with pytest.raises(DriverError, match="modemmanager"):
        open_modem("modemmanager:0", "quectel")


# ---------------------------------------------------------------- the real ModemManager
WHY = "needs Debian's modemmanager, dbus and python3-dbusmock packages (.ci/run installs them)"
needs_mm = pytest.mark.skipif(not AVAILABLE, reason=WHY)


@pytest.fixture(scope="module")
def lab():
    if not AVAILABLE:
        pytest.skip(WHY)
    lab = MMLab().start()
    yield lab
    lab.stop()


def _read_until(modem, pred, timeout_s=8.0):
    deadline = time.monotonic() + timeout_s
    r = modem.read()
    while not pred(r) and time.monotonic() < deadline:
        time.sleep(0.3)
        r = modem.read()
    return r


@needs_mm
def test_reading_through_modemmanager_and_values_that_change(lab):
    assert [m["imei"] for m in list_mm_modems()] == [IMEI]
    with open_modem("modemmanager:0") as m:
        info = m.info()
        assert (info.driver, info.imei, info.model, info.sim_operator) == ("modemmanager", IMEI, "FAKE-LTE-1", "Kcell")
        r = _read_until(m, lambda r: r.serving is not None and r.serving.rsrp_dbm is not None)
        assert (r.technology, r.registration.value) == (Technology.LTE, "home")
        assert (r.operator_mcc, r.operator_mnc, r.operator_name) == ("401", "02", "Kcell")
        c = r.serving
        assert (c.rsrp_dbm, c.rsrq_db, c.area_code, c.cell_id, c.node_id) == (-91.0, -10.0, 0x2101, 0x4E9201, 0x4E92)
        # the generic AT plugin offers no cell info: empty fields and a hint, not an error
        assert any("GetCellInfo" in n for n in r.notes)
        lab.modem.cesq = "99,99,255,255,10,30"
        r = _read_until(m, lambda r: r.serving.rsrp_dbm == -111.0)
        assert (r.serving.rsrp_dbm, r.serving.rsrq_db) == (-111.0, -15.0)
    lab.modem.cesq = "99,99,255,255,20,50"
    # by IMEI and by equipment id too
    with open_modem(f"modemmanager:{IMEI}") as m:
        assert m.info().imei == IMEI


@needs_mm
def test_signal_setup_rate_is_restored_on_close(lab):
    from qamtu.device.mm_dbus import MMBus

    bus = MMBus()
    path = list_mm_modems(bus)[0]["path"]
    bus.call(path, "org.freedesktop.ModemManager1.Modem.Signal", "Setup", "u", (7,))
    with open_modem("modemmanager:0") as m:
        m.read()
        assert bus.get_all(path, "org.freedesktop.ModemManager1.Modem.Signal")["Rate"] == 1
    assert bus.get_all(path, "org.freedesktop.ModemManager1.Modem.Signal")["Rate"] == 7
    bus.close()


@needs_mm
def test_unknown_modem_and_gps_without_gps_say_what_to_do(lab):
    with pytest.raises(PortNotFound, match="modemmanager:0"):
        open_modem("modemmanager:7")
    from qamtu.device import open_gnss

    with pytest.raises(GnssError, match="no GPS"):
        open_gnss("modemmanager-gps:0")


@needs_mm
def test_cli_devices_modem_read_and_advice_for_the_owned_port(lab):
    env = lab.env
    out = subprocess.run([str(QAMTU), "devices", "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    mm = json.loads(out.stdout)["modemmanager"]
    assert mm and mm[0]["port"] == "modemmanager:0" and mm[0]["imei"] == IMEI
    out = subprocess.run([str(QAMTU), "modem", "read", "--port", "modemmanager:0", "--json"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["driver"] == "modemmanager" and r["operator_mnc"] == "02" and r["cells"][0]["cell_id"] == 0x4E9201
    # the AT port ModemManager holds (here its Unix socket): the message names the modemmanager: port
    out = subprocess.run([str(QAMTU), "modem", "read", "--port", lab.sock], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode != 0
    assert "modemmanager:0" in out.stdout + out.stderr


@needs_mm
def test_probe_mixes_an_at_modem_and_a_modemmanager_modem_through_removal_and_restart(tmp_path):
    lab = MMLab().start()
    route = static_route()
    clock = SimClock(speed=1.0, start_utc=route.start_utc)
    sim = SimModem("quectel-ec25", route, operator="401-77", clock=clock, name="tele2", link_dir=tmp_path).start()
    gps = SimGnss(route, clock=clock, link_dir=tmp_path).start()
    db = tmp_path / "q.db"
    proc = subprocess.Popen([str(QAMTU), "probe", "--port", "modemmanager:0", "--port", sim.path, "--gnss", gps.path,
                             "--inspector", "Test", "--db", str(db), "--interval", "0.5", "--json-lines", "--quiet"],
                            env=lab.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[dict] = []

    def collect(until, timeout_s=40.0):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(json.loads(line))
            if until(lines):
                return True
        return False

    def mm_ok(after):
        return sum(1 for x in lines[after:] if x["kind"] == "sample" and x["port"].startswith("modemmanager:")
                   and x["status"] == "ok" and x.get("rsrp_dbm") is not None)
    try:
        assert collect(lambda ls: mm_ok(0) >= 3), proc.stderr.read() if proc.poll() is not None else lines[-5:]
        mark = len(lines)
        lab.remove_modem()                                       # unplugged
        assert collect(lambda ls: any(x["kind"] == "sample" and x["status"] == "modem_lost" for x in ls[mark:]))
        lab.plug_modem_back()                                    # back as Modem/1
        assert collect(lambda ls: mm_ok(mark) >= 2)
        mark = len(lines)
        lab.restart_mm()                                         # ModemManager restarted
        assert collect(lambda ls: mm_ok(mark) >= 2)
    finally:
        proc.send_signal(2)
        out, err = proc.communicate(timeout=30)
        lines += [json.loads(x) for x in out.splitlines() if x.strip()]
        sim.stop()
        gps.stop()
        lab.stop()
    assert proc.returncode == 0, err
    events = [x["type"] for x in lines if x["kind"] == "event"]
    assert events.count("modem_lost") >= 2 and ("modem_moved" in events or events.count("modem_back") >= 2), events
    at = [x for x in lines if x["kind"] == "sample" and x["port"] == sim.path]
    assert len(at) >= 20 and {x["status"] for x in at} == {"ok"}, "the AT modem is not disturbed"


def test_permission_refused_gives_empty_fields_and_a_hint_not_a_crash():
    """ModemManager's test session never asks polkit, so a refusal is simulated at the bus boundary:
    Signal.Setup and GetLocation denied, GetCellInfo unsupported; the reading still comes, with hints."""
    from qamtu.device.mm_dbus import MMCallError
    from qamtu.device.modemmanager import IF_3GPP, IF_LOCATION, IF_MODEM, IF_SIGNAL, MMModem

    path = "/org/freedesktop/ModemManager1/Modem/0"
    props = {IF_MODEM: {"State": 8, "AccessTechnologies": 1 << 14},
             IF_3GPP: {"RegistrationState": 1, "OperatorCode": "40102", "OperatorName": "Kcell"},
             IF_SIGNAL: {"Rate": 0, "Lte": {"rsrp": -95.0, "rsrq": -11.0}},
             IF_LOCATION: {"Capabilities": 1, "Enabled": 0, "SignalsLocation": False}}

    class RefusingBus:
        def get_all(self, p, iface):
            return props[iface]

        def call(self, p, iface, method, sig=None, body=()):
            if method in ("Setup", "GetLocation"):
                raise MMCallError(method, "org.freedesktop.ModemManager1.Error.Core.Unauthorized", "not authorized")
            if method == "GetCellInfo":
                raise MMCallError(method, "org.freedesktop.ModemManager1.Error.Core.Unsupported")
            raise AssertionError(method)

        def managed_objects(self):
            return {path: {}}

        def close(self):
            pass

    m = MMModem.__new__(MMModem)
    m._port, m.bus, m.path, m.signal_rate_s = "modemmanager:0", RefusingBus(), path, 1
    m._previous_rate = m._previous_location = None
    m._skip, m._hints, m._setup_done = set(), {}, False
    r = m.read()
    assert r.technology == Technology.LTE and r.operator_name == "Kcell" and r.serving.rsrp_dbm == -95.0
    assert r.serving.area_code is None and r.serving.cell_id is None  # location refused: empty, not a crash
    assert any("polkit" in n and "Signal.Setup" in n for n in r.notes)
    assert any("GetCellInfo" in n for n in r.notes)
    m.read()
    m.close()
