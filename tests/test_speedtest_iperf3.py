"""iperf3 method: the real binary against a real iperf3 server on loopback."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from qamtu.probe.speedtest import FailureCause, run_speedtest
from qamtu.probe.speedtest.iperf3 import map_iperf3_error, parse_server
from qamtu.probe.speedtest.server import free_port

needs_iperf3 = pytest.mark.skipif(shutil.which("iperf3") is None,
                                  reason="iperf3 is not installed (.ci/run installs it)")
FAST = {"duration_s": 1, "omit_s": 0, "streams": 2}


@pytest.fixture
def iperf3_server():
    port = free_port()
    proc = subprocess.Popen(["iperf3", "-s", "-B", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(5)


@needs_iperf3
def test_iperf3_through_lo(iperf3_server):
    r = run_speedtest("iperf3", iperf3_server, "lo", FAST)
    assert r.ok and r.valid, r.invalid_reasons
    assert r.method_version.endswith("+qamtu.1") and r.method_version.startswith("3.")
    assert r.download_mbps > 10 and r.upload_mbps > 10
    assert r.download.clock == "iperf3" and r.download.streams == 2
    assert r.download.measured_s == pytest.approx(1.0, abs=0.1) and len(r.download.series_mbps) >= 1
    assert r.egress.verified and r.latency_ms is None


@needs_iperf3
def test_iperf3_server_unreachable():
    r = run_speedtest("iperf3", f"127.0.0.1:{free_port()}", None, FAST)
    assert r.failure.cause == FailureCause.SERVER_UNREACHABLE and "iperf3" in r.failure.message
    assert r.failure.phase == "connect"


def test_iperf3_missing_binary_is_method_unavailable():
    r = run_speedtest("iperf3", "127.0.0.1:5201", None, {**FAST, "binary": "qamtu-no-such-iperf3"})
    assert r.failure.cause == FailureCause.METHOD_UNAVAILABLE and "not installed" in r.failure.message


def test_iperf3_helpers():
    assert parse_server("10.0.0.2") == ("10.0.0.2", 5201)
    assert parse_server("iperf3://h:5300") == ("h", 5300)
    assert parse_server("[fe80::1]:7000") == ("fe80::1", 7000)
    assert map_iperf3_error("unable to connect to server: Connection refused").cause == "server_unreachable"
    assert map_iperf3_error("the server is busy running a test. try again later").cause == "server_refused"
    assert map_iperf3_error("unable to resolve host: Name or service not known").cause == "dns_failure"
    assert map_iperf3_error("control socket has closed unexpectedly").cause == "connection_reset"
