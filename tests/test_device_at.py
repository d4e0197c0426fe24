"""The AT channel over real ptys: framing, echo, URCs, garbage, partial lines, errors, timeouts, busy ports."""

from __future__ import annotations

import time

import pytest

from qamtu.device import ATChannel, open_modem
from qamtu.device.at import response_prefix
from qamtu.device.errors import (ATCommandError, ATTimeout, DriverError, PortBusy, PortError, PortNotFound,
                                 PortVanished)
from qamtu.device.ports import busy_advice
from qamtu.device.sim_pty import PtyDevice


class Scripted(PtyDevice):
    """Answers each command line with the raw bytes given in ``script`` (default: OK)."""

    def __init__(self, script: dict[str, bytes | list[bytes]], echo: bool = False) -> None:
        super().__init__("scripted")
        self.script = script
        self.echo = echo
        self.buf = b""

    def on_bytes(self, data: bytes) -> None:
        self.buf += data
        while b"\r" in self.buf:
            line, self.buf = self.buf.split(b"\r", 1)
            if self.echo:
                self.write(line + b"\r")
            ans = self.script.get(line.decode(), b"\r\nOK\r\n")
            for part in ans if isinstance(ans, list) else [ans]:
                self.write(part)
                time.sleep(0.003)


@pytest.fixture
def scripted():
    devs = []

    def make(script, echo=False):
        d = Scripted(script, echo).start()
        devs.append(d)
        return d

    yield make
    for d in devs:
        d.stop()


def test_plain_answer_with_echo_and_blank_lines(scripted):
    dev = scripted({"AT+CSQ": b"\r\n\r\n+CSQ: 17,99\r\n\r\nOK\r\n"}, echo=True)
    with ATChannel(dev.path, timeout_s=2) as ch:
        r = ch.command("AT+CSQ")
    assert r.lines == ["+CSQ: 17,99"] and r.final == "OK" and r.events == [] and r.ok


def test_urcs_are_events_not_answer_lines(scripted):
    dev = scripted({'AT+QENG="servingcell"': b'\r\nRING\r\n+QENG: "servingcell","SEARCH"\r\n+CEREG: 2\r\n'
                                            b'^RSSI: 12\r\n+QIND: "csq",20,99\r\nOK\r\n'})
    with ATChannel(dev.path, timeout_s=2) as ch:
        r = ch.command('AT+QENG="servingcell"')
        assert r.lines == ['+QENG: "servingcell","SEARCH"']
        assert r.events == ["RING", "+CEREG: 2", "^RSSI: 12", '+QIND: "csq",20,99']
        assert ch.events[-4:] == r.events


def test_own_prefix_is_an_answer_even_if_it_looks_like_a_urc(scripted):
    dev = scripted({"AT+CEREG?": b'\r\n+CEREG: 2,1,"3584","00EF4A08",7\r\nOK\r\n'})
    with ATChannel(dev.path, timeout_s=2) as ch:
        assert ch.command("AT+CEREG?").lines == ['+CEREG: 2,1,"3584","00EF4A08",7']


def test_garbage_and_partial_lines(scripted):
    dev = scripted({"AT+CGMM": [b"\r\n\xff\xfe\x00\x81\r\n+CG", b"MM: EC", b"25\r", b"\nO", b"K\r\n"]})
    with ATChannel(dev.path, timeout_s=2) as ch:
        r = ch.command("AT+CGMM")
    assert r.lines == ["+CGMM: EC25"] and r.final == "OK"
    assert len(r.garbage) == 1


def test_urc_waiting_before_the_command_is_an_event(scripted):
    dev = scripted({})
    with ATChannel(dev.path, timeout_s=2) as ch:
        dev.write(b"\r\n+CEREG: 1\r\n")
        time.sleep(0.1)
        r = ch.command("AT")
    assert r.events == ["+CEREG: 1"] and r.lines == [] and r.ok


def test_cme_error_names_command_port_and_code(scripted):
    dev = scripted({"AT+CIMI": b"\r\n+CME ERROR: 10\r\n"})
    with ATChannel(dev.path, timeout_s=2) as ch:
        with pytest.raises(ATCommandError) as ei:
            ch.command("AT+CIMI")
        r = ch.command("AT+CIMI", check=False)
    e = ei.value
    assert (e.kind, e.code, e.meaning) == ("CME", 10, "SIM not inserted")
    assert "AT+CIMI" in str(e) and dev.path in str(e) and "+CME ERROR: 10" in str(e) and "SIM not inserted" in str(e)
    assert r.final == "+CME ERROR: 10" and not r.ok


def test_cms_and_plain_error(scripted):
    dev = scripted({"AT+CMGS": b"\r\n+CMS ERROR: 330\r\n", "AT+FOO": b"\r\nERROR\r\n"})
    with ATChannel(dev.path, timeout_s=2) as ch:
        with pytest.raises(ATCommandError) as e1:
            ch.command("AT+CMGS")
        with pytest.raises(ATCommandError) as e2:
            ch.command("AT+FOO")
    assert e1.value.kind == "CMS" and e1.value.code == 330 and "SMSC address unknown" in str(e1.value)
    assert e2.value.code is None and e2.value.kind == "ERROR"


def test_timeout_is_bounded_and_reports_what_arrived(scripted):
    dev = scripted({"AT+SLOW": b"\r\n+SLOW: 1\r\n"})  # never sends a final result code
    with ATChannel(dev.path, timeout_s=0.3) as ch:
        t0 = time.monotonic()
        with pytest.raises(ATTimeout) as ei:
            ch.command("AT+SLOW")
        assert time.monotonic() - t0 < 1.0
        assert ei.value.received == ["+SLOW: 1"] and "0.3 s" in str(ei.value) and dev.path in str(ei.value)
        assert ch.command("AT").ok  # the channel is still usable afterwards


def test_loop_url_times_out_instead_of_hanging():
    with ATChannel("loop://", timeout_s=0.2) as ch:
        with pytest.raises(ATTimeout):
            ch.command("AT")  # loop:// echoes "AT" back and never says OK


def test_missing_port_is_port_not_found(tmp_path):
    with pytest.raises(PortNotFound) as ei:
        ATChannel(str(tmp_path / "ttyUSB9"))
    assert "ttyUSB9" in str(ei.value)


def test_unknown_url_scheme_is_port_not_found():
    with pytest.raises(PortNotFound):
        ATChannel("nosuchscheme://x")


def test_second_open_is_port_busy_with_advice(scripted):
    dev = scripted({})
    with ATChannel(dev.path):
        with pytest.raises(PortBusy) as ei:
            ATChannel(dev.path)
    msg = str(ei.value)
    assert dev.path in msg and "ModemManager" in msg and "ID_MM_PORT_IGNORE" in msg


def test_busy_advice_names_modemmanager():
    msg = busy_advice("/dev/ttyUSB2", [(812, "ModemManager")])
    assert "ModemManager (pid 812)" in msg and "systemctl stop ModemManager" in msg and "ID_MM_PORT_IGNORE" in msg
    other = busy_advice("/dev/ttyUSB2", [(99, "minicom")])
    assert "minicom (pid 99)" in other and "ModemManager" not in other


def test_vanishing_device_closes_the_port(scripted):
    dev = scripted({})
    ch = ATChannel(dev.path, timeout_s=1)
    assert ch.command("AT").ok
    dev.vanish()
    with pytest.raises(PortVanished) as ei:
        ch.command("AT")
    assert not ch.is_open and dev.path in str(ei.value)
    ch.close()


def test_open_modem_closes_port_when_identification_fails(tmp_path):
    dev = Scripted({}, echo=False)
    dev.on_bytes = lambda data: None  # a dead modem: never answers
    dev.start()
    try:
        with pytest.raises(ATTimeout):
            open_modem(dev.path, timeout_s=0.2)
        with ATChannel(dev.path):  # exclusive re-open works: nothing leaked
            pass
    finally:
        dev.stop()


def test_unknown_driver_fails_before_opening_the_port(scripted):
    dev = scripted({})
    with pytest.raises(DriverError) as ei:
        open_modem(dev.path, driver="nokia")
    assert "generic" in str(ei.value) and "quectel" in str(ei.value)
    with ATChannel(dev.path):
        pass


@pytest.mark.parametrize("cmd,prefix", [("AT+CSQ", "+CSQ:"), ("AT^HCSQ?", "^HCSQ:"), ("AT#RFSTS", "#RFSTS:"),
                                        ('AT+QENG="servingcell"', "+QENG:"), ("AT!GSTATUS?", "!GSTATUS:"),
                                        ("ATI", None), ("AT", None)])
def test_response_prefix(cmd, prefix):
    assert response_prefix(cmd) == prefix


def test_socket_url_like_ser2net():
    import socket
    import threading

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def serve():
        conn, _ = srv.accept()
        with conn:
            buf = b""
            while b"AT+CSQ\r" not in buf:
                data = conn.recv(100)
                if not data:
                    return
                buf += data
            conn.sendall(b"AT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n")
            time.sleep(0.2)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        with ATChannel(f"socket://127.0.0.1:{port}", timeout_s=2) as ch:
            assert ch.command("AT+CSQ").lines == ["+CSQ: 20,99"]
    finally:
        t.join(2)
        srv.close()
    with pytest.raises(PortError) as ei:
        ATChannel(f"socket://127.0.0.1:{port}")
    assert f"socket://127.0.0.1:{port}" in str(ei.value)


def test_windows_style_name_that_does_not_exist_is_reported_clearly():
    with pytest.raises(PortError, match="COM77"):
        ATChannel("COM77")
