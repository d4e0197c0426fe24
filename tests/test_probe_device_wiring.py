"""Issue 16 part 3 and issue 18 items 3/22 through the probe, on simulated devices on real ptys:
a modem that comes back on another port is found again by IMEI in a real ``qamtu probe`` run; the modem's
own data counters witness each speed test; hostile numbers and positions are recorded as nulls and the
probe goes on; clock jumps become warning events."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import timedelta

from conftest import QAMTU

from qamtu.device.scenario import SimClock, static_route
from qamtu.device.sim_link import SimLink
from qamtu.device.simulator import NmeaReplay, SimGnss, SimModem, TranscriptModem, simulated_ports
from qamtu.probe.capture import Capture, CaptureConfig
from qamtu.probe.clock import ScaledClock
from qamtu.probe.runner import speedtest_runner
from qamtu.probe.speedtest import ServerThread
from qamtu.probe.store import Store


def _probe(args, env=None):
    return subprocess.Popen([str(QAMTU), "probe", *args, "--inspector", "Test", "--json-lines", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(env or os.environ, PYTHONUNBUFFERED="1"))


def _read_until(proc, lines, pred, timeout_s=40.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            return False
        lines.append(json.loads(line))
        if pred(lines):
            return True
    return False


def test_real_probe_finds_a_modem_again_on_another_port_by_imei(tmp_path):
    route = static_route()
    clock = SimClock(speed=1.0, start_utc=route.start_utc)
    first = SimModem("quectel-ec25", route, operator="401-02", clock=clock).start()  # in its own qamtu-sim-* dir
    assert first.path in simulated_ports()
    proc = _probe(["--port", first.path, "--db", str(tmp_path / "q.db"), "--interval", "0.3"])
    lines: list[dict] = []
    second = None
    try:
        assert _read_until(proc, lines, lambda ls: sum(x["kind"] == "sample" for x in ls) >= 5)
        first.stop()                                     # unplugged ...
        second = SimModem("quectel-ec25", route, operator="401-02", clock=clock).start()  # ... back elsewhere
        assert second.path != first.path
        assert _read_until(proc, lines, lambda ls: any(x.get("type") == "modem_moved" for x in ls))
        mark = len(lines)
        assert _read_until(proc, lines, lambda ls: sum(x["kind"] == "sample" and x["port"] == second.path
                                                       and x["status"] == "ok" for x in ls[mark:]) >= 3)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        for d in (first, second):
            if d is not None:
                d.stop()
    assert proc.returncode == 0, err
    types = [x["type"] for x in lines if x["kind"] == "event"]
    assert types.index("modem_lost") < types.index("modem_moved")
    moved = next(x for x in lines if x.get("type") == "modem_moved")
    assert moved["port"] == second.path and "IMEI" in moved["message"]


def test_modem_counters_witness_each_speed_test_during_the_probe(tmp_path):
    """The capture loop of ``qamtu probe`` with the CLI's runner: each speed test carries the modem's own
    counters, read over the same AT channel the probe reads signal on (Quectel +QGDCNT, Huawei ^DSFLOWQRY)."""
    route = static_route()
    clock = SimClock(speed=1.0, start_utc=route.start_utc)
    with ServerThread() as srv:
        modems = [SimModem("quectel-ec25", route, operator="401-02", clock=clock, link_dir=tmp_path).start(),
                  SimModem("huawei-me909", route, operator="401-01", clock=clock, link_dir=tmp_path).start()]
        links = {}
        for m in modems:
            links[m.path] = SimLink(lambda: (20e6, 5e6), srv.host, srv.port).start()
            m.attach_link(links[m.path])
        runners = {p: speedtest_runner("qamtu-http", link.url, {"download_s": 1, "upload_s": 1})
                   for p, link in links.items()}

        def runner(port, interface, modem_counters=None):
            return runners[port](port, interface, modem_counters=modem_counters)
        runner.takes_modem_counters = True
        assert speedtest_runner("qamtu-http", "http://x").takes_modem_counters  # what `qamtu probe` passes
        store = Store(tmp_path / "q.db")
        try:
            cfg = CaptureConfig(ports=list(links), inspector="T", duration_s=12, speedtest_every_s=2, interval_s=0.2)
            summary = Capture(store, cfg, speedtest=runner).run()
        finally:
            for x in [*links.values(), *modems]:
                x.stop()
    assert summary["speedtests"] >= 2
    sid = store.sessions()[0]["session_id"]
    tests = [json.loads(r["payload"]) for r in store.records(sid) if r["kind"] == "speedtest"]
    by_command = {}
    for t in tests:
        res = t["result"]
        w = res["modem_counters"]
        assert w is not None and w["error"] is None, w
        # the modem saw at least the payload (plus headers), never wildly more
        assert res["bytes_received"] <= w["rx_delta_bytes"] <= 1.5 * res["bytes_received"] + 200_000
        assert res["bytes_sent"] <= w["tx_delta_bytes"] <= 1.5 * res["bytes_sent"] + 200_000
        by_command[w["command"]] = True
    assert set(by_command) == {"AT+QGDCNT?", "AT^DSFLOWQRY"}
    assert summary["samples"] >= 20  # readings went on while the counters were read


HOSTILE_TRANSCRIPT = """# device: a hostile Quectel EC25 (RSRP of 400 digits, 16-hex-digit cell id, 20-digit EARFCN)
> AT+CGMI
< Quectel
< OK
> AT+CGMM
< EC25
< OK
> AT+CGSN
< 867698041234567
< OK
> AT+COPS?
< +COPS: 0,2,"40102",7
< OK
> AT+CEREG?
< +CEREG: 2,1,"2101","FFFFFFFFFFFFFFF0",7
< OK
> AT+QENG="servingcell"
< +QENG: "servingcell","NOCONN","LTE","FDD",401,02,FFFFFFFFFFFFFFF0,74,{earfcn},3,5,5,2101,-{rsrp},-11,-60,15,10,-,-
< OK
""".format(earfcn="9" * 20, rsrp="1" * 400)

HOSTILE_NMEA = [
    "$GNRMC,050000.00,A,4318.1168,N,06816.2222,E,10.0,90.0,010626,,,A",
    "$GNGGA,050000.00,4318.1168,N,06816.2222,E,1,09,nan,nan,M,-20.0,M,,",    # NaN HDOP and altitude
    "$GNGSA,A,3,01,03,07,08,,,,,,,,,1.5,0.9,1.3",
    "$GNRMC,050001.00,A,9958.8000,N,06816.2222,E,10.0,90.0,010626,,,A",   # latitude 99.98
    "$GNGGA,050001.00,9958.8000,N,06816.2222,E,1,09,0.9,230.0,M,-20.0,M,,",
    "$GNGSA,A,3,01,03,07,08,,,,,,,,,1.5,0.9,1.3",
    "$GNRMC,050002.00,A,4318.1168,N,30000.0000,E,10.0,90.0,010626,,,A",   # longitude 300
    "$GNGGA,050002.00,4318.1168,N,30000.0000,E,1,09,0.9,230.0,M,-20.0,M,,",
    "$GNGSA,A,3,01,03,07,08,,,,,,,,,1.5,0.9,1.3",
    "$GNRMC,050003.00,A,4375.0000,N,06816.2222,E,10.0,90.0,010626,,,A",   # 75 minutes
    "$GNGGA,050003.00,4375.0000,N,06816.2222,E,1,09,0.9,230.0,M,-20.0,M,,",
    "$GNGSA,A,3,01,03,07,08,,,,,,,,,1.5,0.9,1.3",
]


def test_probe_keeps_recording_through_non_finite_and_out_of_range_values(tmp_path):
    t = tmp_path / "hostile.txt"
    t.write_text(HOSTILE_TRANSCRIPT)
    modem = TranscriptModem(t, link_dir=tmp_path).start()
    gps = NmeaReplay(HOSTILE_NMEA, lines_per_s=30, link_dir=tmp_path).start()
    db = tmp_path / "q.db"
    proc = _probe(["--port", modem.path, "--gnss", gps.path, "--db", str(db), "--interval", "0.2"])
    lines: list[dict] = []
    try:
        assert _read_until(proc, lines, lambda ls: sum(x["kind"] == "sample" for x in ls) >= 15), proc.stderr.read()
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        modem.stop()
        gps.stop()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    with Store(db) as st:
        report = st.verify()[0]
        assert report.ok
        sid = st.sessions()[0]["session_id"]
        samples = [json.loads(r["payload"]) for r in st.records(sid) if r["kind"] == "sample"]
    assert len(samples) >= 15
    cells = [s["reading"]["cells"][0] for s in samples if s["reading"] and s["reading"]["cells"]]
    assert cells and all(c["rsrp_dbm"] is None and c["cell_id"] is None and c["channel"] is None for c in cells)
    assert all(c["pci"] == 74 and c["rsrq_db"] == -11.0 for c in cells)
    notes = {n for s in samples if s["reading"] for n in s["reading"]["notes"]}
    assert any("non-finite" in n for n in notes) and any("cell_id" in n for n in notes)
    fixes = [s["fix"] for s in samples if s["fix"]]
    assert fixes
    for f in fixes:  # never a position outside WGS84 or with 75 minutes; NaN never stored
        assert f["lat_deg"] is None or (-90 <= f["lat_deg"] <= 90 and -180 <= f["lon_deg"] <= 180
                                        and abs(f["lat_deg"] - 44.25) > 1e-6)
        assert f["alt_m"] is None or f["alt_m"] == f["alt_m"]
    refused = {n for f in fixes for n in f["notes"]}
    assert any("WGS84" in n for n in refused) or any("minutes" in n for n in refused)


class JumpingClock:
    """The laptop's clock, which jumps an hour ahead after ``after_s`` seconds (NTP fix, manual change)."""

    speed = 1.0

    def __init__(self, after_s: float) -> None:
        from datetime import datetime, timezone

        self._now = lambda: datetime.now(timezone.utc)
        self.t0 = time.monotonic()
        self.after_s = after_s

    def utc(self):
        jump = timedelta(hours=1) if time.monotonic() - self.t0 > self.after_s else timedelta(0)
        return self._now() + jump

    def sleep(self, s):
        time.sleep(max(0, s))


def test_clock_jumps_become_warning_events(tmp_path):
    route = static_route()
    sim_clock = SimClock(speed=1.0, start_utc=route.start_utc)
    modem = SimModem("quectel-ec25", route, operator="401-02", clock=sim_clock, link_dir=tmp_path).start()
    gps = SimGnss(route, clock=sim_clock, link_dir=tmp_path).start()
    records = []
    try:
        # 1. the system clock jumps an hour ahead
        store = Store(tmp_path / "a.db")
        cfg = CaptureConfig(ports=[modem.path], gnss=gps.path, inspector="T", duration_s=6, interval_s=0.3)
        Capture(store, cfg, clock=JumpingClock(3.0), on_record=lambda k, d: records.append((k, d))).run()
        system = [d for k, d in records if k == "event" and d["type"] == "clock_jump"]
        assert len(system) == 1 and system[0]["clock"] == "system" and 3500 < system[0]["jump_s"] < 3700
        # 2. the receiver's time jumps (the simulated GNSS clock moves 2 hours ahead; the laptop's does not)
        records.clear()
        store = Store(tmp_path / "b.db")
        cfg = CaptureConfig(ports=[modem.path], gnss=gps.path, inspector="T", duration_s=8, interval_s=0.3)
        cap = Capture(store, cfg, clock=ScaledClock(SimClock(speed=1.0, start_utc=route.start_utc)),
                      on_record=lambda k, d: records.append((k, d)))
        import threading
        threading.Timer(4.0, lambda: sim_clock.set(sim_clock.now_s() + 7200)).start()
        cap.run()
        gnss = [d for k, d in records if k == "event" and d["type"] == "clock_jump"]
        assert gnss and gnss[0]["clock"] == "gnss" and 7000 < gnss[0]["jump_s"] < 7400
        # no false alarm without a jump
        records.clear()
        cfg = CaptureConfig(ports=[modem.path], gnss=gps.path, inspector="T", duration_s=4, interval_s=0.3)
        Capture(Store(tmp_path / "c.db"), cfg, on_record=lambda k, d: records.append((k, d))).run()
        assert not [d for k, d in records if k == "event" and d["type"] == "clock_jump"]
    finally:
        modem.stop()
        gps.stop()
