"""`qamtu probe` as a real process: JSON lines, Ctrl-C, and kill -9 at random moments."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import time

import pytest

from conftest import QAMTU

from qamtu.device.scenario import SimClock, static_route
from qamtu.device.simulator import SimGnss, SimModem
from qamtu.probe.store import Store


@pytest.fixture
def devices(tmp_path):
    route = static_route()
    clock = SimClock(speed=1.0, start_utc=route.start_utc)
    devs = [SimModem("quectel-ec25", route, operator="401-02", clock=clock, name="kcell", link_dir=tmp_path).start(),
            SimModem("simcom-sim7600", route, operator="401-77", clock=clock, name="tele2", link_dir=tmp_path).start(),
            SimGnss(route, clock=clock, link_dir=tmp_path).start()]
    yield [d.path for d in devs]
    for d in devs:
        d.stop()


def _probe(devices, db, *extra):
    cmd = [str(QAMTU), "probe", "--port", devices[0], "--port", devices[1], "--gnss", devices[2],
           "--inspector", "Ғалым", "--db", str(db), "--interval", "0.2", "--json-lines", "--quiet", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))


def test_json_lines_and_ctrl_c_close_the_session(devices, tmp_path):
    db = tmp_path / "q.db"
    proc = _probe(devices, db)
    lines = []
    while len([x for x in lines if x["kind"] == "sample"]) < 40:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        lines.append(json.loads(line))
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    lines += [json.loads(x) for x in out.splitlines() if x.strip()]
    samples = [x for x in lines if x["kind"] == "sample"]
    assert {s["status"] for s in samples} == {"ok"}
    # the first readings may come before the receiver's first fix; after it every sample is tagged
    first = next(i for i, s in enumerate(samples) if s["kato"])
    assert {s["kato"] for s in samples[first:]} == {"611010000"} and first < len(samples) - 5
    with Store(db) as st:
        sess = st.sessions()[0]
        assert sess["status"] == "closed" and sess["inspector"] == "Ғалым"
        assert sess["samples"] == len(samples)
        assert st.verify()[0].ok


def test_kill_9_at_random_moments_never_loses_a_reported_sample(devices, tmp_path):
    rng = random.Random(637)
    db = tmp_path / "q.db"
    reported = set()
    for run in range(8):
        proc = _probe(devices, db)
        want = rng.randint(0, 25)
        got = 0
        if want == 0:
            time.sleep(rng.uniform(0.0, 1.5))  # sometimes during start-up
        while got < want:
            line = proc.stdout.readline()
            if not line:
                break
            reported.add(json.loads(line)["record_id"])
            got += 1
        time.sleep(rng.uniform(0, 0.3))
        proc.kill()  # SIGKILL: no clean-up at all
        proc.wait(timeout=10)
        rest = proc.stdout.read()  # lines flushed before the kill were reported too
        reported |= {json.loads(x)["record_id"] for x in rest.splitlines() if x.strip()}
        con = sqlite3.connect(db)
        try:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok", f"run {run}"
            stored = {r[0] for r in con.execute("SELECT record_id FROM records")}
        finally:
            con.close()
        missing = reported - stored
        assert not missing, f"run {run}: {len(missing)} reported records are not in the store"
    with Store(db) as st:
        reports = st.verify()
        assert len(reports) >= 7 and all(r.ok for r in reports), [r for r in reports if not r.ok]
        assert any(s["status"] == "open" for s in st.sessions()), "killed sessions stay open, not closed"


def test_probe_on_a_full_disk_stops_with_a_clear_message(devices, tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        proc = _probe(devices, mnt / "q.db", "--interval", "0.05")
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 1
        assert "disk is full" in err and "q.db" in err and "Traceback" not in err
        con = sqlite3.connect(mnt / "q.db")
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        n = con.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
        con.close()
        assert n == sum(1 for x in out.splitlines() if json.loads(x)["kind"] == "sample") > 0
    finally:
        subprocess.run(["umount", "-l", str(mnt)])
