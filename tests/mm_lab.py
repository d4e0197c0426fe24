"""A real ModemManager (Debian's package, test mode) on a private D-Bus, driving a fake AT modem served
on a Unix socket by this process. Recipe: shared/reference/modemmanager-lab (modemmanager.md section 2A):
``ModemManager --test-session --test-enable --test-no-udev``, then ``Test.SetProfile`` creates a modem
whose AT port is the socket. About 5 s per scenario. Only the radio is fake; every D-Bus call, polkit-free
test-session rule, polling and +CESQ conversion is ModemManager's own.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

MM_BIN = shutil.which("ModemManager") or "/usr/sbin/ModemManager"
DBUS_DAEMON = shutil.which("dbus-daemon") or "/usr/bin/dbus-daemon"
AVAILABLE = (os.path.exists(MM_BIN) and os.path.exists(DBUS_DAEMON)
             and os.path.isdir("/usr/lib/python3/dist-packages/dbusmock"))  # Debian's python3-dbusmock
IMEI = "356938035643809"


class FakeAtModem:
    """A 3GPP AT modem on a Unix stream socket: answers what ModemManager's generic plugin asks.
    ``cesq`` can be changed while running; ``stop()`` closes the socket and every connection."""

    def __init__(self, path: str, imei: str = IMEI) -> None:
        self.path, self.imei = path, imei
        self.cesq = "99,99,255,255,20,50"   # rsrq -10 dB, rsrp -91 dBm (27.007 bins, lower edge)
        self.cops_format = 0
        self.cfun = 1
        self.commands = 0
        self._srv: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()

    def start(self) -> "FakeAtModem":
        if os.path.exists(self.path):
            os.unlink(self.path)
        self._stop.clear()
        self._srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._srv.bind(self.path)
        self._srv.listen(4)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for c in [self._srv, *self._conns]:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                c.close()
            except OSError:
                pass
        self._conns = []
        if os.path.exists(self.path):
            os.unlink(self.path)

    def _accept(self) -> None:
        srv = self._srv
        while not self._stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        while not self._stop.is_set():
            try:
                data = conn.recv(4096)
            except OSError:
                return
            if not data:
                return
            buf += data
            while b"\r" in buf:
                line, buf = buf.split(b"\r", 1)
                text = line.strip(b"\n").decode("ascii", "replace").strip()
                if not text:
                    continue
                self.commands += 1
                body = text[2:] if text.upper().startswith("AT") else text
                try:
                    conn.sendall(("\r\n" + self.respond(body) + "\r\n").encode())
                except OSError:
                    return

    def respond(self, cmd: str) -> str:  # noqa: C901 - one branch per AT command, like a modem
        u = cmd.strip().upper()
        ok = "OK"
        if u in ("", "Z", "V1", "&C1", "+CMEE=1", "+CMEE=2") or u.startswith(("E0", "X4")):
            return ok
        table = {"+CGMI": "QamtuFake", "+GMI": "QamtuFake", "+CGMM": "FAKE-LTE-1", "+GMM": "FAKE-LTE-1",
                 "+CGMR": "1.0.0", "+GMR": "1.0.0", "+CGSN": self.imei, "+GSN": self.imei,
                 "+GCAP": "+GCAP: +CGSM,+DS", "+WS46=?": "+WS46: (12,22,25,28,29,30,31)", "+WS46?": "+WS46: 28",
                 "+CPIN?": "+CPIN: READY", "+CIMI": "401021234567890", "+CCID": "+CCID: 89970201234567890123",
                 "+CREG?": '+CREG: 2,1,"2101","004E9201",7', "+CGREG?": '+CGREG: 2,1,"2101","004E9201",7',
                 "+CEREG?": '+CEREG: 2,1,"2101","004E9201",7', "+CSQ": "+CSQ: 20,99",
                 "+COPS=?": '+COPS: (2,"Kcell","Kcell","40102",7),,(0-4),(0-2)',
                 "+CESQ=?": "+CESQ: (0-63,99),(0-7,99),(0-96,255),(0-49,255),(0-34,255),(0-97,255)",
                 "+CIND=?": '+CIND: ("battchg",(0-5)),("signal",(0-5)),("service",(0,1)),("roam",(0,1))',
                 "+CIND?": "+CIND: 5,4,1,0", "+CGATT?": "+CGATT: 1",
                 "+CGDCONT=?": '+CGDCONT: (1-16),"IP",,,(0-2),(0-4)',
                 "+CGDCONT?": '+CGDCONT: 1,"IP","internet","0.0.0.0",0,0',
                 "+CFUN?": f"+CFUN: {self.cfun}", "+CESQ": f"+CESQ: {self.cesq}"}
        if u in table:
            return table[u] + "\r\n\r\n" + ok
        if u.startswith("+CFUN="):
            self.cfun = int(u[6]) if u[6:7].isdigit() else self.cfun
            return ok
        if u.startswith(("+CREG=", "+CGREG=", "+CEREG=", "+CMER", "+CGACT?")):
            return ok
        if u.startswith("+COPS=3,"):
            self.cops_format = int(u.split(",")[1].split(";")[0])
            return self._cops() if u.endswith("+COPS?") else ok
        if u == "+COPS?":
            return self._cops()
        return "ERROR"

    def _cops(self) -> str:
        oper = '"40102"' if self.cops_format == 2 else '"Kcell"'
        return f"+COPS: 0,{self.cops_format},{oper},7\r\n\r\nOK"


class MMLab:
    """dbus-daemon + ModemManager (test mode) + one fake modem. ``env`` points D-Bus clients at the bus."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="qamtu-mmlab-"))
        self.sock = str(self.dir / "modem.sock")
        self.modem = FakeAtModem(self.sock)
        self.bus: subprocess.Popen | None = None
        self.mm: subprocess.Popen | None = None
        self.address = ""
        self._profiles = 0
        self.polkit: subprocess.Popen | None = None
        self._inhibitor = None  # the D-Bus connection holding an InhibitDevice (the inhibition lasts as long)

    @property
    def env(self) -> dict[str, str]:
        return dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.address, DBUS_SESSION_BUS_ADDRESS=self.address)

    def start(self, *, enable: bool = True) -> "MMLab":
        r, w = os.pipe()
        self.bus = subprocess.Popen([DBUS_DAEMON, "--session", "--nofork", f"--print-address={w}"], pass_fds=(w,))
        os.close(w)
        with os.fdopen(r) as f:
            self.address = f.readline().strip()
        self._saved_env = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self.address  # for the in-process driver (restored by stop)
        self.modem.start()
        self._start_polkit()
        self.start_mm()
        self.add_modem(enable=enable)
        return self

    def _start_polkit(self) -> None:
        """python3-dbusmock's polkitd template, allowing everything: ModemManager 1.20 asks polkit before
        InhibitDevice even in a test session (modemmanager.md, "What did not work")."""
        from jeepney import DBusAddress, new_method_call

        self.polkit = subprocess.Popen(["/usr/bin/python3", "-m", "dbusmock", "--system", "--template", "polkitd"],
                                       env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        addr = DBusAddress("/org/freedesktop/PolicyKit1/Authority", bus_name="org.freedesktop.PolicyKit1",
                           interface="org.freedesktop.DBus.Mock")

        def allow():
            try:
                self._send(new_method_call(addr, "AllowUnknown", "b", (True,)), timeout=2)
                return True
            except Exception:  # noqa: BLE001 - not on the bus yet
                return False
        self._wait(allow, 15, "the polkit mock")

    def start_mm(self) -> None:
        self.mm = subprocess.Popen([MM_BIN, "--test-session", "--test-enable", "--test-no-udev",
                                    "--test-no-suspend-resume", f"--log-file={self.dir / 'mm.log'}"],
                                   env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait(lambda: self._call_mm("org.freedesktop.DBus.Peer", "Ping") is not None, 10,
                   "ModemManager on the bus")

    def stop_mm(self) -> None:
        if self.mm is not None:
            self.mm.terminate()
            try:
                self.mm.wait(10)
            except subprocess.TimeoutExpired:
                self.mm.kill()
                self.mm.wait()
            self.mm = None

    def restart_mm(self, *, enable: bool = True) -> None:
        """Stop and start ModemManager; the fake modem is offered to it again (as after a reboot)."""
        self.stop_mm()
        self.modem.stop()
        self.modem.start()
        self.start_mm()
        self.add_modem(enable=enable)

    def add_modem(self, *, enable: bool = True) -> str:
        """Hand the socket to ModemManager as a new device; returns the modem's object path once enabled."""
        from jeepney import DBusAddress, new_method_call

        self._profiles += 1
        addr = DBusAddress("/org/freedesktop/ModemManager1", bus_name="org.freedesktop.ModemManager1",
                           interface="org.freedesktop.ModemManager1.Test")
        self._send(new_method_call(addr, "SetProfile", "ssas", (f"fake{self._profiles}", "generic", [self.sock])))
        path = self._wait(self._modem_path, 20, "the modem object")
        if enable:
            self._enable(path)
        return path

    def remove_modem(self) -> None:
        """The modem goes away for ModemManager (``InhibitDevice``: MM closes its ports and drops the modem
        object, as when a USB modem is unplugged)."""
        from jeepney import DBusAddress, Properties, new_method_call
        from jeepney.io.blocking import open_dbus_connection
        from jeepney.wrappers import unwrap_msg

        path = self._modem_path()
        uid = self._send(Properties(DBusAddress(path, bus_name="org.freedesktop.ModemManager1",
                                                interface="org.freedesktop.ModemManager1.Modem")).get("Device"))[0][1]
        self._inhibitor = open_dbus_connection(bus=self.address)
        mgr = DBusAddress("/org/freedesktop/ModemManager1", bus_name="org.freedesktop.ModemManager1",
                          interface="org.freedesktop.ModemManager1")
        unwrap_msg(self._inhibitor.send_and_get_reply(new_method_call(mgr, "InhibitDevice", "sb", (uid, True)),
                                                      timeout=20))
        self._inhibited_uid = uid
        self._wait(lambda: self._modem_path() is None, 20, "ModemManager to drop the modem")

    def plug_modem_back(self, *, enable: bool = True) -> str:
        """End the inhibition: ModemManager probes the device again and creates a new modem object."""
        from jeepney import DBusAddress, new_method_call
        from jeepney.wrappers import unwrap_msg

        mgr = DBusAddress("/org/freedesktop/ModemManager1", bus_name="org.freedesktop.ModemManager1",
                          interface="org.freedesktop.ModemManager1")
        unwrap_msg(self._inhibitor.send_and_get_reply(new_method_call(mgr, "InhibitDevice", "sb",
                                                                      (self._inhibited_uid, False)), timeout=20))
        self._inhibitor.close()
        self._inhibitor = None
        path = self._wait(self._modem_path, 30, "the modem object after uninhibit")
        if enable:
            self._enable(path)
        return path

    def _enable(self, path: str) -> None:
        from jeepney import DBusAddress, new_method_call

        self._wait(lambda: self._state(path) >= 3, 20, "modem state disabled")  # MM_MODEM_STATE_DISABLED = 3
        m = DBusAddress(path, bus_name="org.freedesktop.ModemManager1", interface="org.freedesktop.ModemManager1.Modem")
        if self._state(path) < 8:
            self._send(new_method_call(m, "Enable", "b", (True,)), timeout=30)
        self._wait(lambda: self._state(path) >= 8, 20, "modem registered")  # MM_MODEM_STATE_REGISTERED = 8

    def stop(self) -> None:
        if self._inhibitor is not None:
            self._inhibitor.close()
        self.stop_mm()
        self.modem.stop()
        if self.polkit is not None:
            self.polkit.terminate()
            self.polkit.wait(5)
        if self.bus is not None:
            self.bus.terminate()
            self.bus.wait(5)
        if getattr(self, "_saved_env", None) is None:
            os.environ.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self._saved_env
        shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------------ D-Bus helpers
    def _send(self, msg, timeout: float = 10):
        from jeepney.io.blocking import open_dbus_connection
        from jeepney.wrappers import unwrap_msg

        with open_dbus_connection(bus=self.address) as conn:
            return unwrap_msg(conn.send_and_get_reply(msg, timeout=timeout))

    def _call_mm(self, iface: str, method: str):
        from jeepney import DBusAddress, new_method_call

        try:
            return self._send(new_method_call(DBusAddress("/org/freedesktop/ModemManager1",
                                                          bus_name="org.freedesktop.ModemManager1", interface=iface),
                                              method), timeout=2)
        except Exception:  # noqa: BLE001 - not on the bus yet
            return None

    def _modem_path(self) -> str | None:
        res = self._call_mm("org.freedesktop.DBus.ObjectManager", "GetManagedObjects")
        if not res:
            return None
        paths = sorted(p for p, ifs in res[0].items() if "org.freedesktop.ModemManager1.Modem" in ifs)
        return paths[-1] if paths else None

    def _state(self, path: str) -> int:
        from jeepney import DBusAddress, Properties

        try:
            v = self._send(Properties(DBusAddress(path, bus_name="org.freedesktop.ModemManager1",
                                                  interface="org.freedesktop.ModemManager1.Modem")).get("State"))
            return int(v[0][1])
        except Exception:  # noqa: BLE001
            return -1

    @staticmethod
    def _wait(pred, timeout_s: float, what: str):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            v = pred()
            if v:
                return v
            time.sleep(0.1)
        raise TimeoutError(f"MM lab: timed out waiting for {what}")
