"""The capture loop against simulated modems and GNSS on real ptys (in-process)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from qamtu.device.scenario import Event as ScenarioEvent
from qamtu.device.scenario import Route, Signal, SimClock, Waypoint
from qamtu.device.simulator import SimGnss, SimModem
from qamtu.probe.capture import Capture, CaptureConfig
from qamtu.probe.clock import ScaledClock
from qamtu.probe.store import Store

TURKISTAN = (43.301946, 68.27037)        # 611010000
AKDALA = (42.467228, 68.904243)          # 611633100, Arys
LTE = Signal(tech="LTE", rsrp_dbm=-92, rsrq_db=-10, sinr_db=11, rssi_dbm=-63, tac=0x1A2B, cell_id=0x0EF4A08, pci=12,
             channel=1300, band="B3")


def _route(events=(), signal_b=None, gnss=True) -> Route:
    sig = {"401-02": LTE, "401-01": LTE.model_copy(update={"rsrp_dbm": -101})}
    sig_b = signal_b or sig
    return Route(name="test", start_utc=datetime(2026, 6, 1, 6, tzinfo=timezone.utc), waypoints=[
        Waypoint(t_s=0, lat=TURKISTAN[0], lon=TURKISTAN[1], signal=sig, gnss=gnss),
        Waypoint(t_s=300, lat=TURKISTAN[0], lon=TURKISTAN[1], signal=sig, gnss=gnss),
        Waypoint(t_s=301, lat=AKDALA[0], lon=AKDALA[1], signal=sig_b, gnss=gnss),
        Waypoint(t_s=100000, lat=AKDALA[0], lon=AKDALA[1], signal=sig_b, gnss=gnss),
    ], events=list(events))


def _capture(tmp_path, route, *, speed=20.0, duration_s=60.0, gnss=True, **config):
    clock = SimClock(speed=speed, start_utc=route.start_utc)
    modems = [SimModem("quectel-ec25", route, operator="401-02", clock=clock, name="kcell",
                       link_dir=tmp_path).start(),
              SimModem("huawei-me909", route, operator="401-01", clock=clock, name="beeline",
                       link_dir=tmp_path).start()]
    gps = SimGnss(route, clock=clock, link_dir=tmp_path).start() if gnss else None
    store = Store(tmp_path / "q.db")
    records = []
    try:
        cfg = CaptureConfig(ports=[m.path for m in modems], gnss=gps.path if gps else None, inspector="Test",
                            duration_s=duration_s, **config)
        cap = Capture(store, cfg, clock=ScaledClock(clock), on_record=lambda k, d: records.append((k, d)))
        summary = cap.run()
    finally:
        for d in modems + ([gps] if gps else []):
            d.stop()
    return store, summary, records, [m.path for m in modems]


def test_two_modems_in_parallel_are_tagged_and_chained(tmp_path):
    # a fix may be 60 simulated seconds (3 s of real time) old before it counts as stale: at the default
    # 5 s (0.25 s real) a busy CI machine could starve the GNSS reader, and a stale fix rightly leaves a
    # reading untagged, which is not what this test is about (staleness has its own tests)
    store, summary, records, ports = _capture(tmp_path, _route(), duration_s=40, max_fix_age_s=60)
    df = store.samples_frame()
    assert summary["samples"] == len(df) and len(df) >= 2 * 30
    per_port = df.groupby("port").size()
    assert set(per_port.index) == set(ports) and per_port.min() >= 30
    assert set(df["status"]) == {"ok"}
    assert set(df["operator_mnc"]) == {"02", "01"} and set(df["technology"]) == {"LTE"}
    kcell = df[df["operator_mnc"] == "02"]
    assert kcell["rsrp_dbm"].median() == pytest.approx(-92, abs=1)
    assert df[df["operator_mnc"] == "01"]["rsrp_dbm"].median() == pytest.approx(-101, abs=1)
    # readings taken before the receiver's first fix are recorded untagged; every one after is tagged
    first_fix = df["lat"].notna().idxmax()
    assert set(df.loc[first_fix:, "kato"]) == {"611010000"} and df.loc[first_fix:, "lat"].notna().all()
    assert first_fix <= 8
    assert df.loc[:first_fix - 1, "kato"].isna().all()
    assert df["imei"].notna().all()
    report = store.verify()[0]
    assert report.ok and report.records == summary["samples"] + summary["events"] + 2
    # every record reported as recorded is in the store
    assert {d["record_id"] for _, d in records} <= set(r["record_id"] for r in store.records(report.session_id))
    # the first sample (the modems' attach events come first, in either order under load)
    raw = next(r["payload"] for r in store.records(report.session_id) if r["kind"] == "sample")
    assert "AT+" in raw, "raw AT exchanges are kept with each reading"


def test_entering_a_settlement_triggers_a_speed_test_event(tmp_path):
    store, summary, records, _ = _capture(tmp_path, _route(), speed=40, duration_s=340, speedtest_on_entry=True)
    triggers = [d for k, d in records if k == "event" and d["type"] == "speedtest_trigger"]
    # one on the first fix in Türkistan and one on entering Akdala, per modem
    assert len(triggers) == 4 and {t["trigger"] for t in triggers} == {"settlement"}
    df = store.samples_frame()
    assert {"611010000", "611633100"} <= set(df["kato"].dropna())


def test_no_service_and_no_fix_are_recorded_not_dropped(tmp_path):
    route = _route(signal_b={"401-02": Signal(tech="none"), "401-01": LTE}, gnss=True,
                   events=[ScenarioEvent(kind="no_fix", from_s=150, to_s=250)])
    store, summary, _, _ = _capture(tmp_path, route, speed=30, duration_s=400, max_fix_age_s=3)
    df = store.samples_frame()
    kcell = df[df["port"].str.endswith("kcell")]
    assert ((kcell["status"] == "no_service").sum() >= 20
            and summary["no_service"] == (df["status"] == "no_service").sum())
    nofix = df[df["fix_mode"] == "none"]
    assert len(nofix) >= 10 and nofix["kato"].isna().all() and summary["no_fix"] >= len(nofix)
    payloads = [r["payload"] for r in store.records(store.sessions()[0]["session_id"])
                if '"no_fix_reason":"' in r["payload"]]
    assert payloads, "no-fix samples say why"


def test_unplugged_modem_is_lost_then_back_while_the_other_keeps_going(tmp_path):
    route = _route(events=[ScenarioEvent(kind="vanish", operator="401-02", from_s=60, to_s=140)])
    store, summary, records, ports = _capture(tmp_path, route, speed=20, duration_s=240)
    types = [d["type"] for k, d in records if k == "event" and d["port"] == ports[0]]
    assert types[:3] == ["modem_attached", "modem_lost", "modem_back"], types
    df = store.samples_frame()
    kcell, beeline = df[df["port"] == ports[0]], df[df["port"] == ports[1]]
    assert (kcell["status"] == "modem_lost").sum() >= 5 and summary["modem_lost"] >= 5
    lost = kcell[kcell["status"] == "modem_lost"]["time_utc"]
    after_back = kcell[(kcell["time_utc"] > lost.max()) & (kcell["status"] == "ok")]
    assert len(after_back) >= 20, "readings resume after the modem returns"
    during = beeline[(beeline["time_utc"] >= lost.min()) & (beeline["time_utc"] <= lost.max())]
    assert len(during) >= 20 and set(during["status"]) == {"ok"}, "the other modem is not disturbed"
    assert store.verify()[0].ok


def test_modem_reappearing_on_another_port_is_found_by_imei(tmp_path):
    route = _route()
    clock = SimClock(speed=20, start_utc=route.start_utc)
    first_dir, second_dir = tmp_path / "usb0", tmp_path / "usb1"
    first_dir.mkdir()
    second_dir.mkdir()
    modem = SimModem("quectel-ec25", route, operator="401-02", clock=clock, name="kcell", link_dir=first_dir).start()
    gps = SimGnss(route, clock=clock, link_dir=tmp_path).start()
    store = Store(tmp_path / "q.db")
    records = []
    moved = {}

    def candidates():
        return [moved["path"]] if "path" in moved else []

    runs = []

    class _Result:  # stands in for a SpeedTestResult
        def model_dump(self, mode="python"):
            return {"download_mbps": 10.0}

        def summary(self):
            return {"download_mbps": 10.0}

    def speedtest(port, interface):
        runs.append((port, interface))
        return _Result()

    cfg = CaptureConfig(ports=[modem.path], gnss=gps.path, inspector="Test", duration_s=200, candidates=candidates,
                        interfaces={modem.path: "wwan0"}, speedtest_every_s=20)
    cap = Capture(store, cfg, clock=ScaledClock(clock), speedtest=speedtest,
                  on_record=lambda k, d: records.append((k, d)))
    import threading
    import time

    def replug():
        time.sleep(2)
        modem.stop()  # unplugged ...
        time.sleep(1)
        again = SimModem("quectel-ec25", route, operator="401-02", clock=clock, name="kcell",
                         link_dir=second_dir).start()
        moved["path"], moved["dev"] = again.path, again  # ... and back under another name (same IMEI)

    t = threading.Thread(target=replug)
    t.start()
    try:
        cap.run()
    finally:
        t.join()
        gps.stop()
        moved.get("dev") and moved["dev"].stop()
    events = [d for k, d in records if k == "event"]
    assert [e["type"] for e in events][:4] == ["modem_attached", "modem_lost", "modem_moved", "modem_back"]
    assert events[2]["port"] == moved["path"]
    df = store.samples_frame()
    on_new = df[(df["port"] == moved["path"]) & (df["status"] == "ok")]
    assert len(on_new) >= 20 and on_new["imei"].nunique() == 1
    assert on_new["imei"].iloc[0] == df[df["port"] == modem.path]["imei"].dropna().iloc[0]
    # the modem's state moved with it, and its speed tests keep running through its configured interface
    state = cap.state.modems[moved["path"]]
    assert set(cap.state.modems) == {moved["path"]}
    assert state.port == state.identity.port == moved["path"] and state.configured_port == modem.path
    tests_on_new = [d for k, d in records if k == "speedtest" and d["port"] == moved["path"]]
    assert len(tests_on_new) >= 2 and not state.test_running
    assert (moved["path"], "wwan0") in runs and {i for _, i in runs} == {"wwan0"}
