"""Result model, method registry, window arithmetic, egress check and modem-counter parsers."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from qamtu.probe.errors import ProbeError, ServerUnreachableError, SpeedTestError, UnknownMethodError
from qamtu.probe.speedtest import (Failure, FailureCause, InterfaceCounters, METHODS, ModemCounterReader,
                                   PhaseResult, QamtuHttpParams, SpeedTestResult, check_egress, method_names,
                                   run_speedtest)
from qamtu.device.counters import parse_dsflowqry, parse_qgdcnt
from qamtu.device.errors import ParseError
from qamtu.probe.speedtest.qamtu_http import interpolate, window_rate
from qamtu.probe.speedtest.registry import params_from_pairs


def phase(mbps=20.0):
    return PhaseResult(direction="download", streams=3, warmup_s=2, planned_s=7, measured_s=7,
                       bytes=int(mbps * 7e6 / 8), total_bytes=10**8, mbps=mbps, clock="client")


def counters(rx, tx):
    return InterfaceCounters(rx_bytes=rx, tx_bytes=tx, source="test")


def test_methods_registered_by_name():
    assert method_names() == ["iperf3", "qamtu-http", "speedtest-cli"]
    assert METHODS["speedtest-cli"].consumer_comparable_only and not METHODS["qamtu-http"].consumer_comparable_only


def test_unknown_method_raises_with_the_choices():
    with pytest.raises(UnknownMethodError, match="choose one of: iperf3, qamtu-http, speedtest-cli"):
        run_speedtest("ookla", "http://127.0.0.1:1")


def test_exceptions_sit_under_probe_error_and_name_method_server_interface():
    exc = ServerUnreachableError("connection refused", phase="connect")
    assert isinstance(exc, SpeedTestError) and isinstance(exc, ProbeError)
    exc.located(method="qamtu-http", server="http://10.0.0.5:8080", interface="wwan0")
    assert str(exc) == "qamtu-http against http://10.0.0.5:8080 via interface wwan0 during connect: connection refused"


def test_valid_result_reports_speeds_and_invalid_one_never_does():
    ok = SpeedTestResult(method="qamtu-http", method_version="1.0.0", params={}, server="s",
                         download=phase()).finalize()
    assert ok.valid and ok.download_mbps == 20.0
    bad_egress = check_egress("wwan0", "source_address", counters(0, 0), counters(1000, 1000), 10**6, 10**6)
    inv = SpeedTestResult(method="qamtu-http", method_version="1.0.0", params={}, server="s", interface="wwan0",
                          download=phase(), egress=bad_egress).finalize()
    assert inv.ok and not inv.valid and inv.download_mbps is None and inv.download.mbps == 20.0
    assert "egress not verified" in inv.invalid_reasons[0] and "did not (all) go through" in inv.invalid_reasons[0]
    failed = SpeedTestResult(method="qamtu-http", method_version="1.0.0", params={}, server="s", download=phase(),
                             failure=Failure(cause=FailureCause.CONNECTION_RESET, message="m",
                                             error_type="X")).finalize()
    assert not failed.ok and not failed.valid and failed.download_mbps is None
    assert failed.summary()["failure_cause"] == "connection_reset"


def test_egress_check_thresholds():
    good = check_egress("lo", "so_bindtodevice", counters(100, 100), counters(100 + 10_600, 100 + 5_300), 10_000, 5_000)
    assert good.verified and good.rx_delta_bytes == 10_600
    short_tx = check_egress("lo", "so_bindtodevice", counters(0, 0), counters(10_600, 4_000), 10_000, 5_000)
    assert not short_tx.verified and "sent 4000 bytes" in short_tx.reason
    nothing = check_egress("lo", "so_bindtodevice", counters(0, 0), counters(0, 0), 0, 0)
    assert not nothing.verified


@given(st.lists(st.tuples(st.floats(0.001, 1.0), st.integers(0, 10**6)), min_size=1, max_size=30),
       st.floats(-1, 40))
def test_interpolation_is_monotone_and_bounded(steps, t):
    samples, time_, total = [(0.0, 0)], 0.0, 0
    for dt, db in steps:
        time_ += dt
        total += db
        samples.append((time_, total))
    v = interpolate(samples, t)
    assert 0 <= v <= total
    assert interpolate(samples, t + 0.5) >= v


def test_window_rate_excludes_warmup_and_builds_series():
    # two streams, each 1 MB/s for 10 s, with a burst of 5 MB in the first second (warm-up)
    streams = [[(0.0, 0), (1.0, 5_000_000)] + [(1.0 + k, 5_000_000 + k * 1_000_000) for k in range(1, 10)]
               for _ in range(2)]
    p = QamtuHttpParams(warmup_s=2, download_s=5)
    ph = window_rate("download", streams, 0.0, p, 5.0, "client", [(1.0, 50.0), (3.0, 9.0), (4.0, 11.0)])
    assert ph.mbps == pytest.approx(16.0) and ph.series_mbps == [16.0] * 5
    assert ph.latency_under_load_ms == 10.0 and ph.latency_under_load_samples_ms == [9.0, 11.0]
    with pytest.raises(SpeedTestError, match="window only"):
        window_rate("download", [s[:4] for s in streams], 0.0, p, 5.0, "client", [])


def test_params_from_cli_pairs():
    p = params_from_pairs("qamtu-http", ["download_s=3", "streams=4"])
    assert p.download_s == 3.0 and p.streams == 4
    with pytest.raises(ValueError):
        params_from_pairs("qamtu-http", ["streams=99"])
    with pytest.raises(ValueError):
        params_from_pairs("qamtu-http", ["nonsense"])
    with pytest.raises(ValueError):
        params_from_pairs("qamtu-http", ["no_such=1"])


def test_modem_counter_parsers():
    assert parse_qgdcnt("\r\n+QGDCNT: 1200,34000\r\n\r\nOK\r\n") == (34000, 1200)
    assert parse_dsflowqry("^DSFLOWQRY:00000010,0000000000000400,0000000000001000,0000000000005000,"
                           "0000000000010000,0000000000020000\r\nOK") == (0x1000, 0x400)
    with pytest.raises(ParseError):
        parse_qgdcnt("ERROR")


def test_modem_witness_is_recorded_even_when_the_test_fails():
    answers = iter(["+QGDCNT: 100,200\r\nOK", "+QGDCNT: 150,260\r\nOK"])
    reader = ModemCounterReader(send=lambda cmd: next(answers), command="AT+QGDCNT?")
    r = run_speedtest("qamtu-http", "http://no-such-host.invalid", None, modem_counters=reader)
    w = r.modem_counters
    assert r.failure.cause == FailureCause.DNS_FAILURE
    assert (w.before_rx_bytes, w.before_tx_bytes, w.after_rx_bytes, w.after_tx_bytes) == (200, 100, 260, 150)
    assert (w.rx_delta_bytes, w.tx_delta_bytes) == (60, 50) and w.error is None


def test_modem_counter_reader_reads_through_an_at_channel_interface():
    class Answer:
        def __init__(self, lines):
            self.lines = lines

    class Channel:  # the shape of qamtu.device's AT channel: command(cmd) -> response with .lines
        def __init__(self):
            self.sent = []

        def command(self, cmd):
            self.sent.append(cmd)
            return Answer(["^DSFLOWQRY:00000010,00000000000000FF,0000000000000100,0,0,0"])

    ch = Channel()
    assert ModemCounterReader.for_at_channel(ch, "AT^DSFLOWQRY").read() == (256, 255)
    assert ch.sent == ["AT^DSFLOWQRY"]
