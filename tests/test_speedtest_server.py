"""qamtu server: its endpoints and that its abuse limits are enforced (real HTTP over loopback)."""

from __future__ import annotations

import http.client
import json
import socket
import time


from qamtu.probe.speedtest import ServerLimits, ServerThread


def conn(srv, source: str = "127.0.0.1", timeout: float = 10) -> http.client.HTTPConnection:
    host, port = srv.url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=timeout, source_address=(source, 0))


def start_download(srv, source="127.0.0.1", seconds=3):
    c = conn(srv, source)
    c.request("GET", f"/qamtu/v1/download?seconds={seconds}")
    r = c.getresponse()
    return c, r


def test_info_ping_and_mini_endpoints():
    with ServerThread() as srv:
        c = conn(srv)
        c.request("GET", "/qamtu/v1/info")
        info = json.loads(c.getresponse().read())
        assert info["server"] == "qamtu" and info["limits"]["max_clients"] == 8
        c.request("GET", "/qamtu/v1/ping")
        assert c.getresponse().read() == b"pong\n"
        c.request("GET", "/")
        assert b'upload_extension: "php"' in c.getresponse().read()
        c.request("GET", "/speedtest/latency.txt")
        assert c.getresponse().read().startswith(b"test=test")
        c.request("GET", "/speedtest/random350x350.jpg")
        r = c.getresponse()
        assert r.status == 200 and len(r.read()) == 2 * 350 * 350
        c.request("GET", "/speedtest/random351x351.jpg")
        r = c.getresponse()
        assert r.status == 404 and b"sizes" in r.read()
        c.request("GET", "/speedtest/upload.php")
        assert c.getresponse().read().strip() == b"size=0"
        c.request("POST", "/speedtest/upload.php", body=b"content1=" + b"x" * 991)
        assert c.getresponse().read() == b"size=1000"


def test_max_clients_rejects_a_second_address_with_503():
    with ServerThread(limits=ServerLimits(max_clients=1)) as srv:
        a, ra = start_download(srv, "127.0.0.1")
        assert ra.status == 200 and len(ra.read(65536)) == 65536
        b, rb = start_download(srv, "127.0.0.2")
        assert rb.status == 503 and rb.getheader("Retry-After") == "10"
        assert b"max_clients=1" in rb.read()
        a.close()
        b.close()
        time.sleep(0.3)  # the server notices the closed stream at its next write
        c, rc = start_download(srv, "127.0.0.2", seconds=0.5)
        assert rc.status == 200 and len(rc.read()) > 0
        c.close()
        s = conn(srv)
        s.request("GET", "/qamtu/v1/stats")
        assert json.loads(s.getresponse().read())["rejected_busy"] == 1


def test_max_streams_per_client_rejects_with_429():
    with ServerThread(limits=ServerLimits(max_streams_per_client=2)) as srv:
        open_ = [start_download(srv) for _ in range(2)]
        assert all(r.status == 200 for _, r in open_)
        c, r = start_download(srv)
        assert r.status == 429 and b"max_streams_per_client=2" in r.read()
        # another address is a different client and is admitted
        d, rd = start_download(srv, "127.0.0.3", seconds=0.3)
        assert rd.status == 200
        for x, _ in open_ + [(c, None), (d, None)]:
            x.close()


def test_transfer_duration_is_capped():
    with ServerThread(limits=ServerLimits(max_transfer_s=1.0)) as srv:
        c, r = start_download(srv, seconds=5)
        assert r.status == 400 and b"max_transfer_s" in r.read()
        c.close()
        t = time.monotonic()
        c, r = start_download(srv, seconds=1)
        n = len(r.read())  # the chunked stream ends by itself (how long reading takes depends on the CPU)
        assert n > 0 and time.monotonic() - t >= 0.9
        c.close()
        # A Speedtest-Mini file is cut at max_transfer_s too: read slowly (about 3 MB/s) a 32 MB file.
        c = conn(srv)
        c.request("GET", "/speedtest/random4000x4000.jpg")
        r = c.getresponse()
        assert r.status == 200 and r.getheader("Content-Length") == str(2 * 4000 * 4000)
        got = 0
        t = time.monotonic()
        try:
            while time.monotonic() - t < 8:
                part = r.read1(65536)
                if not part:
                    break
                got += len(part)
                time.sleep(0.02)
        except http.client.IncompleteRead as exc:
            got += len(exc.partial)
        assert got < 20_000_000, "the server kept sending past max_transfer_s"
        c.close()


def _chunked_upload(sock: socket.socket, path: str, chunks: list[bytes], pause_s: float = 0.0) -> None:
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
    for ch in chunks:
        sock.sendall(b"%x\r\n" % len(ch) + ch + b"\r\n")
        if pause_s:
            time.sleep(pause_s)


def _read_response(sock: socket.socket) -> tuple[int, bytes]:
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        part = sock.recv(65536)
        if not part:
            break
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length")), None)
    while length is not None and len(body) < length:
        part = sock.recv(65536)
        if not part:
            break
        body += part
    return status, body


def test_upload_size_limits():
    with ServerThread(limits=ServerLimits(max_upload_bytes=100_000, max_mini_upload_bytes=1000)) as srv:
        c = conn(srv)
        c.putrequest("POST", "/qamtu/v1/upload?seconds=2")
        c.putheader("Content-Length", "200000")
        c.endheaders()
        r = c.getresponse()
        assert r.status == 413 and b"limit of 100000" in r.read()
        host, port = srv.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as s:  # chunked: no length announced, counted as it comes
            try:
                _chunked_upload(s, "/qamtu/v1/upload?seconds=2", [b"x" * 65536] * 3)
            except (BrokenPipeError, ConnectionResetError):
                pass
            status, body = _read_response(s)
        assert status == 413 and b"limit of 100000" in body
        c = conn(srv)
        c.request("POST", "/speedtest/upload.php", body=b"x" * 2000)
        r = c.getresponse()
        assert r.status == 413 and b"limit of 1000" in r.read()


def test_stalled_and_overlong_uploads_are_cut():
    with ServerThread(limits=ServerLimits(stall_timeout_s=0.5, max_transfer_s=1.0)) as srv:
        host, port = srv.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as s:
            _chunked_upload(s, "/qamtu/v1/upload?seconds=1", [b"x" * 1000])
            status, body = _read_response(s)  # then nothing more: the server gives up after 0.5 s
        report = json.loads(body)
        assert status == 200 and report["truncated"] and "nothing received for 0.5 s" in report["reason"]
        assert report["bytes"] == 1000
        with socket.create_connection((host, int(port))) as s:
            try:
                _chunked_upload(s, "/qamtu/v1/upload?seconds=1", [b"y" * 1000] * 40, pause_s=0.1)
            except (BrokenPipeError, ConnectionResetError):
                pass
            status, body = _read_response(s)
        report = json.loads(body)
        assert report["truncated"] and "longer than max_transfer_s=1 s" in report["reason"]
        assert 8_000 <= report["bytes"] < 20_000  # about 1 s of 1000 bytes per 0.1 s


def test_oversized_header_is_rejected():
    with ServerThread(limits=ServerLimits(max_header_bytes=1024)) as srv:
        c = conn(srv)
        c.request("GET", "/qamtu/v1/ping", headers={"X-Big": "a" * 4000})
        r = c.getresponse()
        assert r.status in (400, 431)


def test_upload_report_counts_every_byte():
    with ServerThread() as srv:
        host, port = srv.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as s:
            _chunked_upload(s, "/qamtu/v1/upload?seconds=2", [b"z" * 5000] * 20 + [b""])
            status, body = _read_response(s)
    report = json.loads(body)
    assert status == 200 and report["bytes"] == 100_000 and not report["truncated"]
    times = [t for t, _ in report["samples"]]
    assert times == sorted(times) and report["samples"][-1][1] == 100_000 and report["started"] <= times[0]



def test_long_request_line_is_a_400_and_one_log_line_without_traceback(caplog):
    """aiohttp logs a traceback for a request line over the limit; the server keeps one line."""
    import logging
    caplog.set_level(logging.DEBUG)
    with ServerThread() as srv:
        s = socket.create_connection((srv.host, srv.port))
        s.sendall(b"GET /qamtu/v1/info?x=" + b"9" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        data = s.recv(100)
        s.close()
        time.sleep(0.2)
    assert data.split(b" ")[1] == b"400", data
    assert "Traceback" not in caplog.text, caplog.text
    assert "malformed request refused with 400: LineTooLong" in caplog.text, caplog.text
