"""qamtu-http against a real qamtu server on loopback: results, binding to lo, and failures as results."""

from __future__ import annotations

import json
import socket
import time

import pytest

from qamtu.probe.speedtest import (FailureCause, ServerLimits, ServerThread, SpeedTestResult, run_speedtest)
from qamtu.probe.errors import InterfaceDownError
from qamtu.probe.speedtest.binding import SO_BINDTODEVICE, Binding, make_binding
from qamtu.probe.speedtest.faults import ResettingProxy
from qamtu.probe.speedtest.server import free_port

FAST = {"warmup_s": 0.3, "download_s": 1.0, "upload_s": 1.0, "tail_s": 0.2, "ping_count": 10,
        "stall_timeout_s": 3.0, "connect_timeout_s": 2.0}


@pytest.fixture(scope="module")
def server():
    with ServerThread() as srv:
        yield srv


def test_full_run_through_lo_is_valid_and_verified(server):
    r = run_speedtest("qamtu-http", server.url, "lo", FAST)
    assert r.ok and r.valid, r.invalid_reasons
    assert r.method == "qamtu-http" and r.method_version == "1.0.0"
    assert r.binding == "so_bindtodevice"
    assert r.download_mbps > 10 and r.upload_mbps > 10
    assert r.download.streams == 3 and r.upload.streams == 3
    assert r.download.clock == "client" and r.upload.clock == "server"
    # the window is the planned 1 s (one whole second in the series), the warm-up was excluded
    assert r.download.measured_s == pytest.approx(1.0, abs=0.02)
    assert len(r.download.series_mbps) == 1 and len(r.upload.series_mbps) == 1
    assert r.download.bytes < r.download.total_bytes
    assert sum(r.download.per_stream_bytes) == pytest.approx(r.download.bytes, abs=3)
    assert r.download_mbps == pytest.approx(r.download.bytes * 8 / r.download.measured_s / 1e6, rel=1e-3)
    assert len(r.latency.samples_ms) == 10
    assert r.latency_ms == pytest.approx(sorted(r.latency.samples_ms)[4:6][0], abs=r.latency.max_ms)
    assert min(r.latency.samples_ms) <= r.latency_ms <= max(r.latency.samples_ms)
    assert r.jitter_ms >= 0
    assert r.latency_under_load_download_ms is not None and r.latency_under_load_upload_ms is not None
    e = r.egress
    assert e.verified and e.interface == "lo"
    assert e.rx_delta_bytes >= r.bytes_received and e.tx_delta_bytes >= r.bytes_sent
    assert r.bytes_received >= r.download.total_bytes and r.bytes_sent >= r.upload.total_bytes
    assert r.server_info["server"] == "qamtu" and r.server_info["method_version"] == "1.0.0"


def test_result_json_is_stable_and_round_trips(server):
    r = run_speedtest("qamtu-http", server.url, None, {**FAST, "upload": False})
    assert r.valid and r.upload is None and r.upload_mbps is None
    assert r.binding == "none" and r.egress is None
    dumped = r.model_dump(mode="json")
    for key in ("download_mbps", "upload_mbps", "latency_ms", "method", "method_version", "valid", "params",
                "server", "interface", "jitter_ms", "failure", "test_id", "schema_version"):
        assert key in dumped
    assert dumped["params"]["streams"] == 3 and dumped["params"]["download_s"] == 1.0
    again = SpeedTestResult.model_validate(json.loads(json.dumps(dumped)))
    assert again.model_dump(mode="json") == dumped


def test_server_unreachable_is_a_failed_result():
    port = free_port()
    r = run_speedtest("qamtu-http", f"http://127.0.0.1:{port}", "lo", FAST)
    assert not r.ok and not r.valid
    assert r.failure.cause == FailureCause.SERVER_UNREACHABLE
    assert "refused" in r.failure.message and f"127.0.0.1:{port}" in r.failure.message
    assert "qamtu-http" in r.failure.message and "via interface lo" in r.failure.message
    assert r.download_mbps is None and r.latency_ms is None


def test_dns_failure_is_a_failed_result():
    r = run_speedtest("qamtu-http", "http://no-such-host.invalid:8080", None, FAST)
    assert r.failure.cause == FailureCause.DNS_FAILURE
    assert "no-such-host.invalid" in r.failure.message and r.failure.phase == "resolve"


def test_missing_interface_is_interface_down(server):
    r = run_speedtest("qamtu-http", server.url, "qamtu-nope0", FAST)
    assert r.failure.cause == FailureCause.INTERFACE_DOWN
    assert "qamtu-nope0" in r.failure.message
    assert r.valid is False and r.download is None


@pytest.mark.parametrize("binding", [Binding("", "so_bindtodevice"), Binding(None, "so_bindtodevice"),
                                     Binding("lo", "source_address"), Binding("lo", "source_address", "")])
def test_a_binding_without_its_target_is_refused_not_left_unbound(binding):
    """A hand-built binding that lacks what its mode binds to is an InterfaceDownError before the socket is
    touched. (An empty device name given to SO_BINDTODEVICE removes the binding: the test would have left
    through the default route; a missing one crashed with AttributeError.)"""
    with socket.socket() as sock:
        with pytest.raises(InterfaceDownError, match="has no (interface|source_address): build it with make_binding"):
            binding.apply(sock)
        assert sock.getsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, 16).rstrip(b"\0") == b""
        assert sock.getsockname()[1] == 0  # not bound to an address either
    with pytest.raises(InterfaceDownError):
        Binding().target()  # mode none binds to nothing


def test_a_made_binding_names_its_target():
    assert make_binding("lo").target() == "lo"
    assert make_binding("lo", "source_address").target() == "127.0.0.1"


@pytest.mark.parametrize("direction", ["download", "upload"])
def test_reset_mid_test_is_connection_reset(server, direction):
    host, port = server.url.removeprefix("http://").split(":")
    with ResettingProxy(host, int(port), after_bytes=3_000_000, direction=direction) as proxy:
        r = run_speedtest("qamtu-http", proxy.url, None, FAST)
        assert proxy.resets >= 1
    assert r.failure is not None, r.summary()
    assert r.failure.cause == FailureCause.CONNECTION_RESET, r.failure.message
    assert r.failure.phase == direction
    assert "reset" in r.failure.message
    assert r.download_mbps is None and r.upload_mbps is None and not r.valid
    if direction == "upload":  # the download before it completed and is kept for audit, not reported
        assert r.download is not None and r.download.mbps > 0


def test_busy_server_is_refused_with_its_reason():
    with ServerThread(limits=ServerLimits(max_streams_per_client=2)) as srv:
        r = run_speedtest("qamtu-http", srv.url, None, FAST)  # 3 streams > 2 allowed
    assert r.failure.cause == FailureCause.SERVER_REFUSED
    assert "429" in r.failure.message and "max_streams_per_client=2" in r.failure.message


def test_stalled_server_times_out():
    """A server that accepts and never answers: the stall timeout fires and names it."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    try:
        t = time.monotonic()
        r = run_speedtest("qamtu-http", f"http://127.0.0.1:{lsock.getsockname()[1]}", None,
                          {**FAST, "stall_timeout_s": 0.5})
        assert time.monotonic() - t < 5
    finally:
        lsock.close()
    assert r.failure.cause == FailureCause.TIMEOUT
    assert "no progress for 0.5 s" in r.failure.message


def test_not_a_qamtu_server_is_a_protocol_or_refused_failure():
    with ServerThread() as srv:  # the mini page exists, but a wrong prefix gives 404 on info
        r = run_speedtest("qamtu-http", srv.url + "/elsewhere", None, FAST)
    assert r.failure.cause == FailureCause.SERVER_REFUSED and "404" in r.failure.message


def test_run_speedtest_works_inside_a_running_event_loop(server):
    import asyncio

    async def main():
        return run_speedtest("qamtu-http", server.url, None, {**FAST, "upload": False})

    assert asyncio.run(main()).valid


def test_upload_over_the_size_limit_is_refused_with_413():
    with ServerThread(limits=ServerLimits(max_upload_bytes=2_000_000)) as srv:
        r = run_speedtest("qamtu-http", srv.url, None, FAST)
    assert r.failure is not None and r.failure.phase == "upload", r.summary()
    assert r.failure.cause == FailureCause.SERVER_REFUSED and "413" in r.failure.message
    assert "limit of 2000000 bytes" in r.failure.message


def test_progress_is_reported_per_phase(server):
    seen = []
    r = run_speedtest("qamtu-http", server.url, None, FAST,
                      progress=lambda phase, elapsed, planned, mbps: seen.append((phase, elapsed, planned, mbps)))
    assert r.valid
    assert {"download", "upload"} <= {s[0] for s in seen}
    assert all(s[2] > 0 and s[1] >= 0 for s in seen)
    assert any(s[3] is not None and s[3] > 0 for s in seen if s[0] == "download")


def test_parallel_tests_from_threads_each_get_their_own_result(server):
    """The probe tests several modems at once, one thread each: results must not mix."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(run_speedtest, "qamtu-http", server.url, "lo", {**FAST, "streams": 2}) for _ in range(2)]
        a, b = (f.result() for f in futures)
    assert a.valid and b.valid, (a.invalid_reasons, b.invalid_reasons)
    assert a.test_id != b.test_id
    assert a.download.streams == b.download.streams == 2
