"""qamtu server against clients that misbehave on purpose (issue 18 items 2 and 17)."""

from __future__ import annotations

import http.client
import logging
import socket
import time

from qamtu.probe.speedtest import ServerLimits, ServerThread
from test_speedtest_server import conn


def stalled_download(srv, source: str, seconds: float) -> socket.socket:
    """A client that asks for a download and never reads a byte of it."""
    host, port = srv.url.removeprefix("http://").split(":")
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.bind((source, 0))
    s.connect((host, int(port)))
    s.sendall(f"GET /qamtu/v1/download?seconds={seconds:g} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return s


def stats(srv) -> dict:
    import json

    c = conn(srv)
    c.request("GET", "/qamtu/v1/stats")
    return json.loads(c.getresponse().read())


def test_clients_that_stop_reading_lose_their_slots_at_max_transfer_s():
    limits = ServerLimits(max_clients=8, max_transfer_s=2.0)
    with ServerThread(limits=limits) as srv:
        socks = [stalled_download(srv, f"127.0.0.{i}", 2.0) for i in range(2, 10)]
        try:
            time.sleep(0.5)
            assert stats(srv)["active_clients"] == 8
            c = conn(srv, "127.0.0.20")
            c.request("GET", "/qamtu/v1/download?seconds=0.2")
            assert c.getresponse().status == 503  # the server is full while they hold their slots
            c.close()
            deadline = time.monotonic() + 2.0 + 1.0 + 3.0  # planned + grace + slack on a shared machine
            while stats(srv)["active_clients"] and time.monotonic() < deadline:
                time.sleep(0.2)
            assert stats(srv)["active_clients"] == 0
            c = conn(srv, "127.0.0.20")
            c.request("GET", "/qamtu/v1/download?seconds=0.3")
            r = c.getresponse()
            assert r.status == 200 and len(r.read()) > 0
        finally:
            for s in socks:
                s.close()


def test_a_huge_number_in_a_mini_path_is_a_400_without_traceback(caplog):
    caplog.set_level(logging.DEBUG)
    with ServerThread() as srv:
        c = conn(srv)
        for path in ("/speedtest/random" + "9" * 5000 + "x1.jpg", "/speedtest/random1x" + "7" * 5000 + ".jpg"):
            c.request("GET", path)
            r = c.getresponse()
            assert r.status == 400 and b"sizes" in r.read()
        c.request("GET", "/speedtest/random350x350.jpg")
        assert c.getresponse().status == 200
    assert "Traceback" not in caplog.text and "Error handling request" not in caplog.text


def test_a_stalled_mini_download_is_aborted_too():
    with ServerThread(limits=ServerLimits(max_clients=1, max_transfer_s=1.0)) as srv:
        host, port = srv.url.removeprefix("http://").split(":")
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect((host, int(port)))
        s.sendall(b"GET /speedtest/random4000x4000.jpg HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            time.sleep(3.5)
            c = http.client.HTTPConnection(host, int(port), timeout=10, source_address=("127.0.0.3", 0))
            c.request("GET", "/speedtest/random350x350.jpg")
            r = c.getresponse()
            assert r.status == 200 and len(r.read()) == 2 * 350 * 350
        finally:
            s.close()


def test_stopping_the_server_cuts_a_stalled_upload_after_shutdown_timeout_s():
    """Ctrl-C must not wait for a client that stopped sending mid-upload (stall_timeout_s, here 30 s):
    transfers still running get shutdown_timeout_s, then their connections are closed."""
    srv = ServerThread(limits=ServerLimits(stall_timeout_s=30, max_transfer_s=60, shutdown_timeout_s=1)).start()
    host, port = srv.url.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)))
    try:
        s.sendall(b"POST /qamtu/v1/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n" + b"x" * 65536)
        deadline = time.monotonic() + 10
        while stats(srv)["active_clients"] == 0 and time.monotonic() < deadline:   # the upload is admitted
            time.sleep(0.05)
        assert stats(srv)["active_clients"] == 1
        t0 = time.monotonic()
        srv.stop()
        took = time.monotonic() - t0
        assert took < 5, f"stop took {took:.1f} s"
        s.settimeout(5)          # the server closed the stalled connection (an answer may come first)
        try:
            while s.recv(65536):
                pass
        except ConnectionResetError:
            pass
        try:
            socket.create_connection((host, int(port)), timeout=2).close()
            raise AssertionError("the server still accepts connections after stop()")
        except ConnectionRefusedError:
            pass
    finally:
        s.close()


def stats_from(srv, source: str) -> dict:
    import json

    c = conn(srv, source)
    c.request("GET", "/qamtu/v1/stats")
    return json.loads(c.getresponse().read())


def closed_by_server(s: socket.socket, within_s: float) -> bool:
    """True when the server closes ``s`` (EOF or reset) within ``within_s`` seconds, reading what it sends."""
    s.settimeout(within_s)
    try:
        while s.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_slow_headers_are_cut_at_header_timeout_s():
    """A slowloris client (headers a byte at a time, never finished) loses its connection, while a
    client that sends its request at once is served."""
    with ServerThread(limits=ServerLimits(header_timeout_s=1.0)) as srv:
        host, port = srv.url.removeprefix("http://").split(":")
        slow = socket.create_connection((host, int(port)))
        try:
            slow.sendall(b"GET /qamtu/v1/info HTTP/1.1\r\nHost: x\r\n")
            t0 = time.monotonic()
            for _ in range(8):               # one header byte every 0.25 s: never a complete request
                time.sleep(0.25)
                try:
                    slow.sendall(b"X")
                except OSError:
                    break
            assert closed_by_server(slow, 3.0), "a slow-header connection was left open"
            assert time.monotonic() - t0 < 4.0
        finally:
            slow.close()
        c = conn(srv, "127.0.0.2")
        c.request("GET", "/qamtu/v1/info")
        assert c.getresponse().status == 200
        got = stats_from(srv, "127.0.0.2")
        assert got["connections_timed_out"] == 1 and got["connections_refused"] == 0


def idle_connection(srv, source: str) -> socket.socket:
    """A connection from ``source`` that sends nothing."""
    host, port = srv.url.removeprefix("http://").split(":")
    s = socket.socket()
    s.bind((source, 0))
    s.connect((host, int(port)))
    return s


def test_open_connections_are_capped_per_address_and_in_all():
    with ServerThread(limits=ServerLimits(max_connections_per_client=3, max_connections=6)) as srv:
        host, port = srv.url.removeprefix("http://").split(":")
        held = []
        try:
            held += [idle_connection(srv, "127.0.0.1") for _ in range(3)]
            time.sleep(0.2)
            extra = socket.create_connection((host, int(port)), source_address=("127.0.0.1", 0))
            assert closed_by_server(extra, 3.0), "a 4th connection from one address was kept"
            extra.close()
            # another address is served; its stats request is its own connection
            got = stats_from(srv, "127.0.0.2")
            assert got["connections_refused"] == 1 and got["open_connections"] == 3 + 1
            # one of the three goes away: the address may open another
            held.pop().close()
            time.sleep(0.2)
            c = conn(srv, "127.0.0.1")
            c.request("GET", "/qamtu/v1/info")
            assert c.getresponse().status == 200
            c.close()
            # the two left from 127.0.0.1 and four from two other addresses make six: the seventh is refused
            held += [idle_connection(srv, source) for source in ("127.0.0.4", "127.0.0.4", "127.0.0.5", "127.0.0.5")]
            time.sleep(0.2)
            seventh = socket.create_connection((host, int(port)), source_address=("127.0.0.6", 0))
            assert closed_by_server(seventh, 3.0), "a connection over max_connections was kept"
            seventh.close()
        finally:
            for s in held:
                s.close()
