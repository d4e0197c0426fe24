"""`qamtu speedtest` and `qamtu server` commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from typer.testing import CliRunner

from qamtu.cli import app
from qamtu.probe.speedtest import ServerThread
from qamtu.probe.speedtest.server import free_port

runner = CliRunner()
FAST = ["--param", "warmup_s=0.3", "--param", "download_s=1", "--param", "upload_s=1", "--param", "tail_s=0.2"]


def test_speedtest_json_has_the_promised_keys():
    with ServerThread() as srv:
        res = runner.invoke(app, ["speedtest", "--server", srv.url, "--interface", "lo", "--json", *FAST])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    for key in ("download_mbps", "upload_mbps", "latency_ms", "method", "method_version", "valid"):
        assert key in data
    assert data["method"] == "qamtu-http" and data["valid"] is True and data["download_mbps"] > 0
    assert data["params"]["download_s"] == 1.0 and data["egress"]["verified"] is True


def test_speedtest_table_output_and_failure_exit_code():
    with ServerThread() as srv:
        res = runner.invoke(app, ["speedtest", "--server", srv.url, *FAST])
    assert res.exit_code == 0 and "download_mbps" in res.stdout and "qamtu-http" in res.stdout
    res = runner.invoke(app, ["speedtest", "--server", f"http://127.0.0.1:{free_port()}", "--json", *FAST])
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert data["valid"] is False and data["failure"]["cause"] == "server_unreachable"


def test_speedtest_rejects_unknown_method_and_bad_params():
    res = runner.invoke(app, ["speedtest", "--server", "http://x", "--method", "ookla"])
    assert res.exit_code == 2 and "qamtu-http" in res.output
    res = runner.invoke(app, ["speedtest", "--server", "http://x", "--param", "streams=100"])
    assert res.exit_code == 2 and "streams" in res.output


def test_server_command_serves_until_interrupted():
    port = free_port()
    exe = Path(sys.executable).with_name("qamtu")
    proc = subprocess.Popen([str(exe), "server", "--host", "127.0.0.1", "--port", str(port), "--max-clients", "3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    try:
        info = None
        for _ in range(100):
            try:
                info = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/qamtu/v1/info", timeout=1).read())
                break
            except OSError:
                time.sleep(0.1)
        assert info is not None and info["limits"]["max_clients"] == 3
        res = runner.invoke(app, ["speedtest", "--server", f"http://127.0.0.1:{port}", "--method", "speedtest-cli",
                                  "--param", "download_length_s=1", "--param", "upload_length_s=1", "--json"])
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["consumer_comparable_only"] is True
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "stopped" in err


def test_server_command_reports_a_busy_port():
    with ServerThread() as srv:
        res = runner.invoke(app, ["server", "--host", "127.0.0.1", "--port", str(srv.port)])
    assert res.exit_code == 1 and "cannot listen" in res.output
