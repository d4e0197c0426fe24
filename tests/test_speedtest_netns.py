"""A real shaped link: two network namespaces, a veth pair shaped with tc tbf (bench/speedtest_netns.sh).

qamtu server and iperf3 -s run in one namespace; the methods run in the other, bound to the veth.
Skips (with the reason) only where network namespaces cannot be created.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "speedtest_netns.sh"
QAMTU = str(Path(sys.executable).with_name("qamtu"))
RATE_MBIT = 20
TAG = f"t{os.getpid() % 100000}"
CLI_NS, SRV_NS, IF, OTHER_IF = f"qs-cli-{TAG}", f"qs-srv-{TAG}", f"qsc-{TAG}", f"qsd-{TAG}"


def _netns_unavailable() -> str | None:
    if shutil.which("ip") is None or shutil.which("tc") is None:
        return "iproute2 (ip, tc) is not installed"
    probe = f"qs-probe-{TAG}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        return f"cannot create network namespaces here: {r.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


_reason = _netns_unavailable()
pytestmark = pytest.mark.skipif(_reason is not None, reason=_reason or "")


TLS: dict[str, str] = {}


@pytest.fixture(scope="module")
def link(tmp_path_factory):
    from qamtu.probe.speedtest.tls import make_self_signed

    subprocess.run([str(SCRIPT), "down", TAG], capture_output=True)
    subprocess.run([str(SCRIPT), "up", TAG, str(RATE_MBIT), "0"], check=True, capture_output=True)
    procs = []
    certs = tmp_path_factory.mktemp("tls")
    TLS["pin"] = make_self_signed(certs / "server.crt", certs / "server.key", ["10.77.0.2"])
    try:
        procs.append(subprocess.Popen(["ip", "netns", "exec", SRV_NS, QAMTU, "server", "--host", "10.77.0.2",
                                       "--port", "8080"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        procs.append(subprocess.Popen(["ip", "netns", "exec", SRV_NS, QAMTU, "server", "--host", "10.77.0.2",
                                       "--port", "8443", "--tls-cert", str(certs / "server.crt"),
                                       "--tls-key", str(certs / "server.key")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        if shutil.which("iperf3"):
            procs.append(subprocess.Popen(["ip", "netns", "exec", SRV_NS, "iperf3", "-s", "-B", "10.77.0.2",
                                           "-p", "5201"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for _ in range(100):  # wait until the server answers (probing from inside the client namespace)
            r = subprocess.run(["ip", "netns", "exec", CLI_NS, sys.executable, "-c",
                                "import urllib.request;urllib.request.urlopen('http://10.77.0.2:8080/qamtu/v1/info',timeout=1)"],
                               capture_output=True)
            if r.returncode == 0:
                break
            time.sleep(0.1)
        for _ in range(100):  # and the TLS one accepts connections
            r = subprocess.run(["ip", "netns", "exec", CLI_NS, sys.executable, "-c",
                                "import socket;socket.create_connection(('10.77.0.2',8443),timeout=1).close()"],
                               capture_output=True)
            if r.returncode == 0:
                break
            time.sleep(0.1)
        yield
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run([str(SCRIPT), "down", TAG], capture_output=True)


def speedtest(method: str, server: str, interface: str, *params: str, binding: str = "auto") -> dict:
    cmd = ["ip", "netns", "exec", CLI_NS, QAMTU, "speedtest", "--method", method, "--server", server,
           "--interface", interface, "--binding", binding, "--json"]
    for p in params:
        cmd += ["--param", p]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return json.loads(out.stdout)


QAMTU_FAST = ("warmup_s=1", "download_s=3", "upload_s=3")
#: the most a 3 s window may read above the shaped rate (timing noise; full runs are the bench's)
SHORT_WINDOW_MAX = 1.10


def test_qamtu_http_matches_shaped_rate_and_iperf3(link):
    q = speedtest("qamtu-http", "http://10.77.0.2:8080", IF, *QAMTU_FAST)
    assert q["valid"], q["invalid_reasons"]
    assert q["egress"]["verified"] and q["binding"] == "so_bindtodevice"
    # Payload can reach at most ~0.956 of the tbf rate; a 3 s window has been seen 2.7 % above the rate
    # (CI, upload, busy machine) and once 5.7 % above (download 21.14 on 20 Mbit/s, CI on a quiet
    # machine; typical runs give 19.1), so the short test allows 10 % over. Accuracy against
    # full-length runs is the benchmark's job (bench/bench_speedtest_shaped.py).
    for d in ("download_mbps", "upload_mbps"):
        assert 0.85 * RATE_MBIT <= q[d] <= SHORT_WINDOW_MAX * RATE_MBIT, (d, q[d])
    if shutil.which("iperf3"):
        i = speedtest("iperf3", "10.77.0.2:5201", IF, "duration_s=3", "omit_s=1")
        assert i["valid"], i["invalid_reasons"]
        # The goal (within 5 % of iperf3) is for full-length runs and is checked by
        # bench/bench_speedtest_shaped.py; in 3 s runs on a busy 2-core machine iperf3 itself
        # strays (20.1 and 17.97 Mbit/s seen on this 20 Mbit/s link), so this short version only
        # checks that both land near the shaped rate and within 15 % of each other.
        for d in ("download_mbps", "upload_mbps"):
            assert 0.85 * RATE_MBIT <= i[d] <= SHORT_WINDOW_MAX * RATE_MBIT, (d, i[d])
            assert abs(q[d] / i[d] - 1) <= 0.15, (d, q[d], i[d])


def test_qamtu_http_over_pinned_tls_keeps_its_accuracy(link):
    q = speedtest("qamtu-http", "https://10.77.0.2:8443", IF, *QAMTU_FAST, f"tls_pin_sha256={TLS['pin']}")
    assert q["valid"], q["invalid_reasons"]
    assert q["egress"]["verified"]
    for d in ("download_mbps", "upload_mbps"):
        assert 0.85 * RATE_MBIT <= q[d] <= SHORT_WINDOW_MAX * RATE_MBIT, (d, q[d])
    wrong = speedtest("qamtu-http", "https://10.77.0.2:8443", IF, *QAMTU_FAST, "tls_pin_sha256=" + "0" * 64)
    assert not wrong["ok"] and wrong["failure"]["cause"] == "protocol_error" and "pinned" in wrong["failure"]["message"]


def test_source_address_binding_that_leaks_is_marked_invalid(link):
    """Bound by address to qsd (10.88.0.1), the kernel still routes out of qsc: the counters show it."""
    r = speedtest("qamtu-http", "http://10.77.0.2:8080", OTHER_IF, "warmup_s=0.2", "download_s=1", "upload_s=1",
                  binding="source_address")
    assert r["ok"] and not r["valid"]
    assert r["binding"] == "source_address" and r["egress"]["verified"] is False
    assert r["download_mbps"] is None and r["upload_mbps"] is None
    assert any("did not (all) go through" in reason for reason in r["invalid_reasons"])
    assert r["download"]["mbps"] > 0  # measured, kept for audit, never reported


def test_so_bindtodevice_keeps_traffic_on_the_named_interface(link):
    """SO_BINDTODEVICE to qsd: no route to the server through it, so the test fails instead of leaking."""
    r = speedtest("qamtu-http", "http://10.77.0.2:8080", OTHER_IF, "warmup_s=0.2", "download_s=1", "upload_s=1")
    assert not r["ok"] and r["failure"]["cause"] == "server_unreachable"
    assert OTHER_IF in r["failure"]["message"]


def test_interface_down_is_a_failed_result(link):
    subprocess.run(["ip", "-n", CLI_NS, "link", "set", OTHER_IF, "down"], check=True)
    try:
        r = speedtest("qamtu-http", "http://10.77.0.2:8080", OTHER_IF)
    finally:
        subprocess.run(["ip", "-n", CLI_NS, "link", "set", OTHER_IF, "up"], check=True)
    assert r["failure"]["cause"] == "interface_down" and "down" in r["failure"]["message"]
