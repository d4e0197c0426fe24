"""GNSS: NMEA logs and the simulated receiver, gpsd over a real socket, the modem's GNSS, fixed positions."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from qamtu.device import FixMode, SimClock, SimGnss, SimModem, load_route, open_gnss, read_gnss, static_route
from qamtu.device.errors import GnssError, ParseError, PortNotFound
from qamtu.device.gnss import parse_cgpsinfo, parse_gpsd_tpv, parse_qgpsloc
from qamtu.device.nmea import FixBuilder, parse_sentence
from qamtu.device.scenario import Event, Route, Waypoint

NMEA = Path(__file__).parent / "fixtures" / "nmea"


def _fixes(name: str) -> tuple[list, int]:
    b, fixes, bad = FixBuilder("test"), [], 0
    for line in (NMEA / name).read_bytes().splitlines():
        if line.startswith(b"#") or not line.strip():
            continue
        try:
            f = b.feed(line)
        except ParseError:
            bad += 1
            continue
        if f:
            fixes.append(f)
    last = b.flush()  # end of the capture: the epoch in progress
    if last is not None:
        fixes.append(last)
    return fixes, bad


def test_ublox_gp_log():
    fixes, bad = _fixes("ublox_gp_fix.log")
    assert bad == 0 and len(fixes) == 1
    f = fixes[0]
    assert f.time_utc == datetime(2002, 12, 9, 8, 35, 59, tzinfo=timezone.utc)
    assert f.lat_deg == pytest.approx(47.2852331667) and f.lon_deg == pytest.approx(8.565265)
    assert (f.mode, f.satellites, f.hdop, f.alt_m) == (FixMode.FIX_3D, 8, 1.01, 499.6)
    assert f.speed_mps == pytest.approx(0.004 * 1852 / 3600, abs=1e-3) and f.course_deg == 77.52
    assert len(f.raw) == 4  # RMC, VTG, GGA and the epoch's own GSA


def test_multi_gnss_talkers_and_gns():
    fixes, bad = _fixes("multignss_gn_turkistan.log")
    assert bad == 0 and len(fixes) == 2
    assert fixes[0].lat_deg == pytest.approx(43.301945, abs=1e-5) and fixes[0].satellites == 14
    assert fixes[0].mode == FixMode.FIX_3D  # GLGSA navMode 3
    assert fixes[1].time_utc.second == 11


def test_cold_start_without_fix_and_bad_checksum():
    fixes, bad = _fixes("startup_no_fix_badck.log")
    assert bad == 2  # wrong checksum + garbage line
    assert fixes and all(f.mode == FixMode.NONE and f.lat_deg is None and not f.has_fix for f in fixes)
    with pytest.raises(ParseError, match="checksum"):
        parse_sentence((NMEA / "startup_no_fix_badck.log").read_text(encoding="latin-1").splitlines()[-2])


def test_simulated_receiver_follows_the_route():
    route = load_route()
    clock = SimClock(1.0, route.start_utc)
    w = route.waypoints[2]
    clock.set(w.t_s)
    with SimGnss(route, clock=clock, talker="GP") as gps, open_gnss(gps.path) as src:
        fix = src.read_fix(timeout_s=3)
        assert fix.has_fix and fix.mode == FixMode.FIX_3D
        assert fix.lat_deg == pytest.approx(w.lat, abs=2e-4) and fix.lon_deg == pytest.approx(w.lon, abs=2e-4)
        assert fix.time_utc is not None and abs((fix.time_utc - route.start_utc).total_seconds() - w.t_s) < 3
        assert fix.source == f"nmea:{gps.path}" and not fix.stale


def test_no_fix_stretch_and_stale_fix():
    route = static_route().model_copy(update={"events": [Event(kind="no_fix", from_s=100, to_s=200)]})
    clock = SimClock(1.0)
    with SimGnss(route, clock=clock) as gps, open_gnss(gps.path, max_age_s=0.3) as src:
        assert src.read_fix(2).has_fix
        clock.set(150)
        time.sleep(0.1)
        f = src.read_fix(2)
        for _ in range(3):  # sentences of the previous epoch may still be queued
            if f.mode == FixMode.NONE:
                break
            f = src.read_fix(2)
        assert f.mode == FixMode.NONE and not f.has_fix
        gps.vanish()  # receiver goes silent: the last fix comes back, aged and then stale
        time.sleep(0.05)
        try:
            g = src.read_fix(0.5)
        except GnssError:  # the pty closed under the reader: also an acceptable outcome
            return
        assert g.age_s > 0 and g.stale


class FakeGpsd:
    """A real TCP server speaking a few lines of the gpsd JSON protocol."""

    def __init__(self, reports: list[dict]) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.reports = reports
        self.watch = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            conn.sendall(b'{"class":"VERSION","release":"3.25","proto_major":3,"proto_minor":15}\n')
            self.watch = conn.recv(200)
            for r in self.reports:
                conn.sendall(json.dumps(r).encode() + b"\n")
            time.sleep(0.5)

    def close(self) -> None:
        self.sock.close()
        self.thread.join(2)


def test_gpsd_tpv_over_tcp():
    tpv = {"class": "TPV", "mode": 3, "time": "2026-06-01T05:10:00.000Z", "lat": 43.3019, "lon": 68.2704,
           "altMSL": 231.5, "speed": 13.9, "track": 10.0, "eph": 4.2}
    srv = FakeGpsd([{"class": "SKY", "hdop": 0.9}, tpv])
    try:
        fix = read_gnss(f"gpsd://127.0.0.1:{srv.port}", timeout_s=2)
    finally:
        srv.close()
    assert b"WATCH" in srv.watch
    assert (fix.mode, fix.lat_deg, fix.lon_deg, fix.alt_m,
            fix.speed_mps) == (FixMode.FIX_3D, 43.3019, 68.2704, 231.5, 13.9)
    assert fix.time_utc == datetime(2026, 6, 1, 5, 10, tzinfo=timezone.utc) and fix.source.startswith("gpsd://")


def test_gpsd_no_fix_and_errors():
    assert parse_gpsd_tpv({"class": "TPV", "mode": 1}).mode == FixMode.NONE
    assert parse_gpsd_tpv({"class": "SKY"}) is None
    with pytest.raises(ParseError):
        parse_gpsd_tpv({"class": "TPV", "mode": "x"})
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(GnssError, match="gpsd"):
        open_gnss(f"gpsd://127.0.0.1:{port}")


def test_modem_gnss_quectel_and_simcom():
    route = load_route()
    clock = SimClock(1.0, route.start_utc)
    for profile in ("quectel-ec25", "simcom-sim7600"):
        with SimModem(profile, route, clock=clock) as sim:
            fix = read_gnss(f"modem:{sim.path}", timeout_s=2)
        assert fix.has_fix and fix.lat_deg == pytest.approx(route.waypoints[0].lat, abs=1e-4)
        assert fix.source == f"modem:{sim.path}"


def test_modem_gnss_without_fix_is_a_reading():
    route = Route(waypoints=[Waypoint(t_s=0, lat=43, lon=68, gnss=False)])
    for profile in ("quectel-ec25", "simcom-sim7600"):
        with SimModem(profile, route) as sim:
            fix = read_gnss(f"modem:{sim.path}", timeout_s=2)
        assert fix.mode == FixMode.NONE and not fix.has_fix
    with SimModem("huawei-me909") as sim:
        with pytest.raises(GnssError, match="Quectel and SIMCom"):
            open_gnss(f"modem:{sim.path}")


def test_qgpsloc_and_cgpsinfo_formats():
    f = parse_qgpsloc("+QGPSLOC: 061951.0,3150.7223N,11711.9293E,0.7,62.2,2,0.0,0.0,0.0,110513,09")
    assert f.lat_deg == pytest.approx(31.845372, abs=1e-6) and f.lon_deg == pytest.approx(117.198822, abs=1e-6)
    assert (f.mode == FixMode.FIX_2D and f.satellites == 9
            and f.time_utc == datetime(2013, 5, 11, 6, 19, 51, tzinfo=timezone.utc))
    g = parse_cgpsinfo("+CGPSINFO: 3113.343286,N,12121.234064,E,250311,072809.3,44.1,0.0,0")
    assert g.lat_deg == pytest.approx(31.222388, abs=1e-6) and g.alt_m == 44.1
    assert parse_cgpsinfo("+CGPSINFO: ,,,,,,,,").mode == FixMode.NONE


def test_fixed_position_and_bad_specs(tmp_path):
    f = read_gnss("fixed:43.301946,68.270370,230")
    assert (f.lat_deg, f.lon_deg, f.alt_m, f.mode, f.source, f.stale) == (43.301946, 68.27037, 230.0, FixMode.FIX_3D,
                                                                          "fixed", False)
    assert read_gnss("fixed:43.3,68.27").mode == FixMode.FIX_2D
    for bad in ("fixed:abc", "fixed:1", "fixed:95,10", "gpsd://host:port:x"):
        with pytest.raises(GnssError):
            open_gnss(bad)
    with pytest.raises(PortNotFound):
        open_gnss(str(tmp_path / "ttyACM9"))


def test_silent_receiver_is_an_error_not_a_hang():
    route = Route(waypoints=[Waypoint(t_s=0, lat=43, lon=68)])
    gps = SimGnss(route)
    gps.tick = lambda: None  # never writes
    gps.start()
    try:
        with open_gnss(gps.path) as src:
            t0 = time.monotonic()
            with pytest.raises(GnssError, match="no GNSS data"):
                src.read_fix(0.3)
            assert time.monotonic() - t0 < 1.0
    finally:
        gps.stop()


# ---------------------------------------------------------------- issue 18 items 3 and 22 at parse time
def _feed(bodies):
    from qamtu.device.nmea import FixBuilder, sentence

    b, out = FixBuilder("nmea:test"), []
    for body in bodies:
        f = b.feed(sentence(body))
        if f is not None:
            out.append(f)
    last = b.flush()
    return out + ([last] if last is not None else [])


def _epoch(lat="4318.1168,N", lon="06816.2222,E", alt="230.0", hdop="0.9", t="050000.00"):
    return [f"GNRMC,{t},A,{lat},{lon},10.0,90.0,010626,,,A",
            f"GNGGA,{t},{lat},{lon},1,09,{hdop},{alt},M,-20.0,M,,",
            f"GNGSA,A,3,01,03,07,08,,,,,,,,,1.5,{hdop},1.3"]


def test_nan_altitude_and_hdop_become_null_with_a_note_and_the_fix_is_kept():
    fix = _feed(_epoch(alt="nan", hdop="nan"))[0]
    assert fix.has_fix and fix.alt_m is None and fix.hdop is None
    assert any("alt_m" in n for n in fix.notes) and any("hdop" in n for n in fix.notes)
    fix.model_dump_json()  # finite JSON


@pytest.mark.parametrize("lat,lon,why", [("9958.8000,N", "06816.2222,E", "WGS84"),
                                         ("4318.1168,N", "30000.0000,E", "WGS84"),
                                         ("4375.0000,N", "06816.2222,E", "minutes")])
def test_out_of_range_coordinates_are_refused_as_a_fix(lat, lon, why):
    fix = _feed(_epoch(lat=lat, lon=lon))[0]
    assert fix.mode.value == "none" and not fix.has_fix and fix.lat_deg is None
    assert any(why in n for n in fix.notes), fix.notes


def test_a_good_epoch_after_a_refused_one_is_a_fix_again():
    fixes = _feed(_epoch(lat="9958.8000,N") + _epoch(t="050001.00"))
    assert [f.has_fix for f in fixes] == [False, True]


def test_gpsd_reports_out_of_range_or_nan_are_not_fixes():
    f = parse_gpsd_tpv({"class": "TPV", "mode": 3, "lat": 99.98, "lon": 300.0, "alt": 200.0})
    assert not f.has_fix and f.notes
    f = parse_gpsd_tpv({"class": "TPV", "mode": 3, "lat": 43.3, "lon": 68.2, "alt": float("nan")})
    assert f.has_fix and f.alt_m is None and any("alt_m" in n for n in f.notes)


def test_qgpsloc_hemisphere_latitude_with_empty_longitude_is_a_parse_error():
    """Found by the property test: a ddmm.mmmmN latitude beside an empty longitude raised IndexError."""
    from qamtu.device.errors import ParseError
    from qamtu.device.gnss import parse_qgpsloc
    with pytest.raises(ParseError, match="longitude"):
        parse_qgpsloc("+QGPSLOC: 061951.0,3150.7223N,,0.7,62.2,2,0.0,0.0,0.0,110513,09")
