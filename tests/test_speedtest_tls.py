"""TLS between probe and qamtu server (the office's self-signed certificate, pinned), and requests
without markers of a test flow (issue 18, measurement integrity). Real TLS on loopback."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import threading

import pytest

from conftest import run_qamtu
from qamtu.probe.speedtest import ServerThread, run_speedtest
from qamtu.probe.speedtest.binding import Binding
from qamtu.probe.speedtest.qamtu_http import QamtuHttpClient, QamtuHttpParams
from qamtu.probe.speedtest.tls import TlsSetupError, cert_fingerprint, make_self_signed, normalise_pin

FAST = {"warmup_s": 0.3, "download_s": 1.0, "upload_s": 1.0, "tail_s": 0.2, "ping_count": 10,
        "stall_timeout_s": 3.0, "connect_timeout_s": 2.0}


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    pin = make_self_signed(d / "server.crt", d / "server.key", ["127.0.0.1", "localhost"])
    return {"cert": str(d / "server.crt"), "key": str(d / "server.key"), "pin": pin}


@pytest.fixture(scope="module")
def tls_server(cert):
    with ServerThread(tls=(cert["cert"], cert["key"]), api_path="/files/v2") as srv:
        yield srv


def test_pinned_tls_run_is_valid(tls_server, cert):
    assert tls_server.url.startswith("https://")
    r = run_speedtest("qamtu-http", tls_server.url, "lo",
                      {**FAST, "tls_pin_sha256": cert["pin"], "api_path": "/files/v2"})
    assert r.ok and r.valid, r.invalid_reasons
    assert r.download_mbps > 10 and r.upload_mbps > 10 and r.server_info["server"] == "qamtu"
    assert r.egress.verified  # TLS overhead only adds bytes on the interface


def test_a_wrong_pin_is_refused_before_any_request(tls_server, cert):
    wrong = "ab" * 32
    r = run_speedtest("qamtu-http", tls_server.url, None, {**FAST, "tls_pin_sha256": wrong, "api_path": "/files/v2"})
    assert not r.ok and r.failure.cause == "protocol_error"
    assert cert["pin"] in r.failure.message and "not the pinned" in r.failure.message
    assert r.download is None and r.upload is None


def test_plain_http_against_tls_and_pin_without_https_fail_clearly(tls_server, cert):
    r = run_speedtest("qamtu-http", tls_server.url.replace("https", "http"), None, {**FAST, "api_path": "/files/v2"})
    assert not r.ok
    r = run_speedtest("qamtu-http", tls_server.url.replace("https", "http"), None,
                      {**FAST, "tls_pin_sha256": cert["pin"], "api_path": "/files/v2"})
    assert not r.ok and "use https://" in r.failure.message


def test_certificate_files_pins_and_cli(tmp_path, cert):
    assert cert_fingerprint(cert["cert"]) == cert["pin"]
    assert stat.S_IMODE(os.stat(cert["key"]).st_mode) == 0o600
    colons = ":".join(cert["pin"][i:i + 2] for i in range(0, 64, 2)).upper()  # openssl's form
    assert normalise_pin(colons) == cert["pin"]
    with pytest.raises(TlsSetupError, match="64 hex digits"):
        normalise_pin("1234")
    with pytest.raises(TlsSetupError, match="already exists"):
        make_self_signed(cert["cert"], tmp_path / "k", ["x"])
    out = run_qamtu("server-cert", "--name", "10.0.0.5", "--out", str(tmp_path))
    assert f"tls_pin_sha256={cert_fingerprint(tmp_path / 'server.crt')}" in out.stdout
    with pytest.raises(ValueError, match="64 hex digits"):
        QamtuHttpParams(tls_pin_sha256="zz")


def test_requests_carry_no_marker_of_a_test(tmp_path):
    """What an on-path observer of plain HTTP sees: the configured path, no User-Agent, no 'qamtu'."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    seen: list[bytes] = []

    def answer():
        conn, _ = lsock.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(4096)
        seen.append(data)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        conn.close()

    t = threading.Thread(target=answer, daemon=True)
    t.start()
    port = lsock.getsockname()[1]
    client = QamtuHttpClient(f"http://127.0.0.1:{port}", Binding(), QamtuHttpParams(api_path="/files/v2"))

    async def info():
        try:
            return await client.info()
        finally:
            client._close_all()

    assert asyncio.run(info()) == {}
    t.join(5)
    lsock.close()
    head = seen[0].decode("latin-1").lower()
    assert head.startswith("get /files/v2/info http/1.1") and "qamtu" not in head and "user-agent" not in head


def test_a_hostile_server_cannot_fill_the_probes_memory():
    """An endless /info answer (chunked, huge chunk sizes) ends in a protocol error, not in memory use."""
    from qamtu.probe.errors import ProtocolError

    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)

    def answer():
        conn, _ = lsock.accept()
        conn.recv(4096)
        try:
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 40 + b"\r\n")
            block = b"x" * (1 << 20)
            for _ in range(64):
                conn.sendall(block)
        except OSError:
            pass
        finally:
            conn.close()

    t = threading.Thread(target=answer, daemon=True)
    t.start()
    client = QamtuHttpClient(f"http://127.0.0.1:{lsock.getsockname()[1]}", Binding(), QamtuHttpParams())

    async def info():
        try:
            return await client.info()
        finally:
            client._close_all()

    with pytest.raises(ProtocolError, match="answer body longer than"):
        asyncio.run(info())
    t.join(5)
    lsock.close()
