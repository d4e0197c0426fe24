"""Simulated devices and scenarios: the demo route, time scaling, vanishing modems, slow and garbled answers."""

from __future__ import annotations

import json
import os
import time

import pytest

from qamtu.device import (ATChannel, SimClock, SimModem, Technology, load_route, open_modem, read_modem,
                          static_route)
from qamtu.device.errors import ATTimeout, PortNotFound, PortVanished, ScenarioError
from qamtu.device.scenario import Event, Route, Signal, Waypoint

KZ = ("401-01", "401-02", "401-07", "401-77")


def _wait(cond, timeout=2.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return False


def test_demo_route_is_real_settlements_with_credit():
    route = load_route()
    assert "OpenStreetMap" in route.license and "ODbL" in route.license
    assert len(route.waypoints) >= 8 and 3000 <= route.duration_s <= 5400  # about an hour's drive
    for w in route.waypoints:
        assert w.kato and len(w.kato) == 9 and w.kato.startswith("61") and w.place
        assert 40.5 < w.lat < 44.5 and 65.5 < w.lon < 71  # Turkistan region
        assert set(w.signal) == set(KZ)
    assert {e.kind for e in route.events} == {"vanish", "no_fix", "slow", "garble"}
    techs = {w.signal[op].tech for w in route.waypoints for op in KZ}
    assert {"none", "LTE", "UMTS", "GSM", "NR-NSA"} <= techs  # no-service stretches included
    assert set(route.operators) == set(KZ)


def test_interpolation_and_steps():
    a = Waypoint(t_s=0, lat=43.0, lon=68.0, signal={"401-02": Signal(tech="LTE", rsrp_dbm=-80, sinr_db=20)})
    b = Waypoint(t_s=100, lat=43.1, lon=68.0, signal={"401-02": Signal(tech="LTE", rsrp_dbm=-100, sinr_db=0)})
    c = Waypoint(t_s=200, lat=43.2, lon=68.0, signal={"401-02": Signal(tech="none")})
    r = Route(waypoints=[a, b, c])
    s = r.signal_at(50, "401-02")
    assert (s.tech, s.rsrp_dbm, s.sinr_db) == ("LTE", -90.0, 10.0)
    assert r.signal_at(150, "401-02").rsrp_dbm == -100  # technology changes: the earlier point holds
    assert r.signal_at(250, "401-02").tech == "none" and r.signal_at(10, "401-99").tech == "none"
    lat, lon, alt, speed, course, ok = r.position_at(50)
    assert lat == pytest.approx(43.05) and speed == pytest.approx(111.32, rel=0.01) and course == pytest.approx(0.0)
    assert ok


def test_clock_speed_and_jump():
    clock = SimClock(speed=200.0)
    time.sleep(0.05)
    assert clock.now_s() >= 9.0
    clock.set(1000.0)
    assert 1000.0 <= clock.now_s() < 1010.0
    with pytest.raises(ScenarioError):
        SimClock(speed=0)


def test_bad_route_files(tmp_path):
    p = tmp_path / "r.json"
    p.write_text("{not json")
    with pytest.raises(ScenarioError, match="r.json"):
        load_route(p)
    p.write_text(json.dumps({"waypoints": [{"t_s": 5, "lat": 43, "lon": 68}, {"t_s": 1, "lat": 43, "lon": 68}]}))
    with pytest.raises(ScenarioError, match="sorted"):
        load_route(p)
    p.write_text(json.dumps({"waypoints": [{"t_s": 0, "lat": 95, "lon": 68}]}))
    with pytest.raises(ScenarioError, match="lat"):
        load_route(p)
    with pytest.raises(ScenarioError):
        load_route(tmp_path / "missing.json")
    with pytest.raises(ScenarioError, match="valid"):
        SimModem("nokia-3310")


def _route_with(event: Event, op="401-07") -> Route:
    return static_route().model_copy(update={"events": [event]})


def test_modem_vanishes_and_returns():
    route = _route_with(Event(kind="vanish", operator="401-07", from_s=10, to_s=20))
    clock = SimClock(1.0)
    with SimModem("quectel-ec25", route, operator="401-07", clock=clock) as sim:
        ch = ATChannel(sim.path, timeout_s=1)
        assert ch.command("AT").ok
        clock.set(12)
        assert _wait(lambda: not os.path.exists(sim.path))
        with pytest.raises(PortVanished):
            ch.command("AT")
        assert not ch.is_open
        with pytest.raises(PortNotFound):
            read_modem(sim.path)
        clock.set(25)
        assert _wait(lambda: os.path.exists(sim.path))
        with ATChannel(sim.path, timeout_s=1) as ch2:
            time.sleep(sim.boot_s + 0.2)
            assert "RDY" in ch2.command("AT").events  # the boot URC of the reset modem
        with open_modem(sim.path, timeout_s=1) as m:
            r = m.read()
        assert r.technology is Technology.LTE and r.operator_name == "Altel"


def test_slow_answers_hit_the_timeout_and_recover():
    route = _route_with(Event(kind="slow", operator="401-01", from_s=0, to_s=1e9, delay_s=0.4))
    with SimModem("generic", route, operator="401-01", echo=False) as sim, ATChannel(sim.path, timeout_s=0.15) as ch:
        with pytest.raises(ATTimeout):
            ch.command("AT+CSQ")
        # the late answer to AT+CSQ must not be taken for the answer to the next command
        r = ch.command("AT+CGMM", timeout_s=2.0)
        assert r.lines == ["LTE Modem"] and r.ok


def test_garbled_answers_still_give_the_right_reading():
    route = _route_with(Event(kind="garble", operator="401-77", from_s=0, to_s=1e9))
    with SimModem("quectel-ec25", route, operator="401-77", chunked=True) as sim:
        r = read_modem(sim.path, timeout_s=2)
    truth = route.signal_at(0, "401-77")
    assert r.serving.rsrp_dbm == truth.rsrp_dbm and r.serving.sinr_db == truth.sinr_db
    assert not any("\ufffd" in ln for x in r.raw for ln in x.lines)


def test_registration_change_is_reported_as_urc():
    a = Waypoint(t_s=0, lat=43, lon=68, signal={"401-02": Signal(tech="LTE", rsrp_dbm=-90, tac=1, cell_id=256)})
    b = Waypoint(t_s=100, lat=43, lon=68, signal={"401-02": Signal(tech="none")})
    clock = SimClock(1.0)
    with SimModem("generic", Route(waypoints=[a, b]), clock=clock) as sim, ATChannel(sim.path, timeout_s=1) as ch:
        ch.command("AT+CEREG=2")
        time.sleep(0.15)
        clock.set(150)
        time.sleep(0.2)
        r = ch.command("AT")
    assert "+CEREG: 2" in r.events


def test_four_operators_on_the_demo_route():
    route = load_route()
    clock = SimClock(1.0, route.start_utc)
    profiles = {"401-02": "quectel-ec25", "401-01": "huawei-me909", "401-77": "simcom-sim7600", "401-07": "telit-le910"}
    sims = [SimModem(p, route, operator=op, clock=clock).start() for op, p in profiles.items()]
    try:
        for w in (route.waypoints[0], route.waypoints[3], route.waypoints[4]):
            clock.set(w.t_s)
            for sim in sims:
                r = read_modem(sim.path, timeout_s=2)
                truth = w.signal[sim.operator]
                want = {"NR-NSA": "LTE"}.get(truth.tech, truth.tech)  # these profiles have no NR
                assert r.technology.value == want, (w.place, sim.operator)
                if truth.tech == "none":
                    assert r.cells == []
                elif truth.tech == "LTE":
                    assert r.serving.rsrp_dbm == truth.rsrp_dbm and r.serving.area_code == truth.tac
    finally:
        for s in sims:
            s.stop()


def test_an_hour_drive_runs_in_seconds():
    route = load_route()
    clock = SimClock(speed=2400.0, start_utc=route.start_utc)  # 62 min in ~1.5 s
    seen = set()
    with SimModem("quectel-rm500q", route, operator="401-77", clock=clock) as sim, open_modem(sim.path) as m:
        while clock.now_s() < route.duration_s:
            seen.add(m.read().technology.value)
    assert {"LTE", "GSM", "none"} <= seen  # each of these lasts 300+ s of scenario time on Tele2's route


def test_simulated_modems_have_distinct_valid_identities():
    from qamtu.device import modem_info

    def luhn_ok(num: str) -> bool:
        total = 0
        for i, ch in enumerate(reversed(num)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        return total % 10 == 0

    infos = []
    for profile, op in (("quectel-ec25", "401-02"), ("quectel-ec25", "401-01"), ("huawei-me909", "401-02")):
        with SimModem(profile, operator=op) as sim:
            infos.append(modem_info(sim.path))
    assert len({i.imei for i in infos}) == 3 and len({i.iccid for i in infos}) == 3
    assert all(luhn_ok(i.imei) and len(i.imei) == 15 and luhn_ok(i.iccid) for i in infos)
    assert [i.sim_operator for i in infos] == ["Kcell", "Beeline", "Kcell"]
