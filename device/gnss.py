"""GNSS sources behind one interface: NMEA serial receivers, the modem's GNSS over AT, gpsd, and a
fixed position typed by the inspector.

:func:`open_gnss` takes a source string:

* ``/dev/ttyUSB1``, ``COM8``, ``socket://…``, a pty path: an NMEA 0183 stream (receiver or the
  modem's NMEA port);
* ``gpsd://host:port`` (default ``localhost:2947``): gpsd JSON ``TPV`` reports;
* ``modem:<port>``: the modem's own GNSS (Quectel ``AT+QGPS=1`` + ``AT+QGPSLOC=2``, SIMCom
  ``AT+CGPS=1`` + ``AT+CGPSINFO``), field-anchors.md 5.8;
* ``modemmanager-gps:<index | IMEI | id>``: the GPS of a modem that ModemManager owns (Location interface);
* ``fixed:LAT,LON[,ALT]``: a position typed by the inspector (WGS84 degrees, metres).

Every source remembers its last fix. If no new fix arrives within the read timeout, the last one is
returned with its age, and marked ``stale`` when older than ``max_age_s``.
"""

from __future__ import annotations

import json
import re
import socket
import time
from datetime import date, datetime, timezone

import serial

from .at import ATChannel, open_port
from .errors import ATError, GnssError, ParseError, PortError
from .models import FixMode, GnssFix, utc_now
from .nmea import FixBuilder
from .sanity import check_fix
from .values import payload, split_fields, to_float, to_int


class GnssSource:
    """Base class. Subclasses implement :meth:`_poll` (one attempt at a fresh fix within a deadline)."""

    source = "gnss"

    def __init__(self, max_age_s: float = 5.0) -> None:
        self.max_age_s = max_age_s
        self._last: GnssFix | None = None
        self._last_at = 0.0

    def read_fix(self, timeout_s: float = 3.0) -> GnssFix:
        """The newest fix ("no fix" is a valid answer). Falls back to the last one, with its age.

        :raises GnssError: nothing at all was received within ``timeout_s`` and no earlier fix exists.
        """
        deadline = time.monotonic() + timeout_s
        fix = self._poll(deadline)
        now = time.monotonic()
        if fix is not None:
            self._last, self._last_at = fix, now
            return fix
        if self._last is None:
            raise GnssError(f"{self.source}: no GNSS data within {timeout_s:g} s")
        age = round(now - self._last_at, 3)
        return self._last.model_copy(update={"age_s": age, "stale": age > self.max_age_s})

    def _poll(self, deadline: float) -> GnssFix | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        """Release the port or socket."""

    def __enter__(self) -> "GnssSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FixedSource(GnssSource):
    """A position typed by the inspector; reported as a 2D fix (3D when an altitude is given), never stale."""

    def __init__(self, lat_deg: float, lon_deg: float, alt_m: float | None = None) -> None:
        super().__init__(max_age_s=float("inf"))
        if not (-90 <= lat_deg <= 90 and -180 <= lon_deg <= 180):
            raise GnssError(f"fixed position out of range: {lat_deg}, {lon_deg}")
        self.lat, self.lon, self.alt = lat_deg, lon_deg, alt_m
        self.source = "fixed"

    def _poll(self, deadline: float) -> GnssFix:
        return GnssFix(time_utc=utc_now(), lat_deg=self.lat, lon_deg=self.lon, alt_m=self.alt,
                       mode=FixMode.FIX_3D if self.alt is not None else FixMode.FIX_2D, source="fixed")


class NmeaSource(GnssSource):
    """An NMEA 0183 stream on a serial port or pyserial URL. Bad sentences are skipped (and counted)."""

    def __init__(self, url: str, *, baudrate: int = 9600, max_age_s: float = 5.0) -> None:
        super().__init__(max_age_s)
        self.url = url
        self.source = f"nmea:{url}"
        self.bad_sentences = 0
        self._builder = FixBuilder(self.source)
        self._buf = b""
        self._ser = open_port(url, baudrate=baudrate, exclusive=True, timeout_s=0.05)

    def _poll(self, deadline: float) -> GnssFix | None:
        if self._ser is None:
            raise GnssError(f"{self.source}: port is closed")
        while time.monotonic() < deadline:
            try:
                chunk = self._ser.read(max(1, min(self._ser.in_waiting, 4096)))
            except (serial.SerialException, OSError) as exc:
                self.close()
                raise GnssError(f"{self.source}: device went away: {exc}") from exc
            self._buf += chunk
            *lines, self._buf = re.split(rb"\r\n|\r|\n", self._buf)
            fix = None
            for line in lines:
                if not line.strip():
                    continue
                try:
                    fix = self._builder.feed(line) or fix
                except ParseError:
                    self.bad_sentences += 1
            if fix is not None:
                return fix
            if len(self._buf) > 4096:  # a line without end: drop it
                self._buf = b""
        return self._builder.flush_if_complete()  # quiet receiver: the epoch that only waited for its GSA

    def close(self) -> None:
        ser, self._ser = self._ser, None
        if ser is not None:
            try:
                ser.close()
            except Exception:  # noqa: BLE001
                pass


def parse_gpsd_tpv(obj: dict, source: str = "gpsd") -> GnssFix | None:
    """A gpsd ``TPV`` report (dict) -> fix; None for other classes. Mode 0/1 = no fix, 2 = 2D, 3 = 3D.

    :raises ParseError: wrong types in the report.
    """
    if not isinstance(obj, dict) or obj.get("class") != "TPV":
        return None
    try:
        mode = int(obj.get("mode", 0))
        t = obj.get("time")
        when = datetime.fromisoformat(t.replace("Z", "+00:00")) if isinstance(t, str) else None
        has = mode >= 2 and "lat" in obj and "lon" in obj
        alt = obj.get("altMSL", obj.get("alt"))
        return check_fix(GnssFix(time_utc=when, lat_deg=float(obj["lat"]) if has else None,
                       lon_deg=float(obj["lon"]) if has else None,
                       alt_m=float(alt) if has and mode == 3 and alt is not None else None,
                       mode={2: FixMode.FIX_2D, 3: FixMode.FIX_3D}.get(mode, FixMode.NONE),
                       speed_mps=float(obj["speed"]) if has and "speed" in obj else None,
                       course_deg=float(obj["track"]) if has and "track" in obj else None,
                       source=source, raw=[json.dumps(obj, sort_keys=True)]))
    except (TypeError, ValueError, KeyError) as exc:
        raise ParseError("gpsd TPV", json.dumps(obj, default=str)[:200], str(exc)) from None


class GpsdSource(GnssSource):
    """gpsd over TCP (default port 2947): ``?WATCH={"enable":true,"json":true}``, then TPV reports."""

    def __init__(self, host: str = "localhost", port: int = 2947, *, max_age_s: float = 5.0,
                 connect_timeout_s: float = 3.0) -> None:
        super().__init__(max_age_s)
        self.source = f"gpsd://{host}:{port}"
        try:
            self._sock: socket.socket | None = socket.create_connection((host, port), timeout=connect_timeout_s)
            self._sock.sendall(b'?WATCH={"enable":true,"json":true};\n')
        except OSError as exc:
            raise GnssError(f"{self.source}: cannot connect to gpsd ({exc}); is gpsd running "
                            f"(`systemctl status gpsd`)?") from exc
        self._buf = b""

    def _poll(self, deadline: float) -> GnssFix | None:
        while self._sock is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._sock.settimeout(left)
            try:
                chunk = self._sock.recv(4096)
            except socket.timeout:
                return None
            except OSError as exc:
                self.close()
                raise GnssError(f"{self.source}: connection lost: {exc}") from exc
            if not chunk:
                self.close()
                raise GnssError(f"{self.source}: gpsd closed the connection")
            self._buf += chunk
            *lines, self._buf = self._buf.split(b"\n")
            fix = None
            for line in lines:
                try:
                    fix = parse_gpsd_tpv(json.loads(line), self.source) or fix
                except (ValueError, ParseError):
                    continue
            if fix is not None:
                return fix
        raise GnssError(f"{self.source}: closed")

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()


def _nmea_deg(value: str, hemi: str, command: str) -> float | None:
    v = to_float(value, command=command)
    if v is None:
        return None
    deg = int(v // 100)
    out = deg + (v - deg * 100) / 60.0
    return -out if hemi.strip().upper() in ("S", "W") else out


def parse_qgpsloc(line: str) -> GnssFix:
    """``+QGPSLOC: <UTC>,<lat>,<lon>,<hdop>,<alt>,<fix>,<cog>,<spkm>,<spkn>,<date>,<nsat>`` (mode 2: signed
    degrees; mode 0/1: ddmm.mmmm[N|S]). ``fix`` 2 = 2D, 3 = 3D."""
    c = "AT+QGPSLOC=2"
    f = split_fields(payload(line, "+QGPSLOC:", command=c))
    if len(f) != 11:
        raise ParseError(c, line, f"expected 11 fields, got {len(f)}")
    lat_s, lon_s = f[1].strip(), f[2].strip()
    if lat_s[-1:].upper() in "NS" and lat_s[-1:].isalpha():
        if lon_s[-1:].upper() not in ("E", "W"):
            raise ParseError(c, line, "latitude has a hemisphere letter but longitude has no E/W")
        lat, lon = _nmea_deg(lat_s[:-1], lat_s[-1], c), _nmea_deg(lon_s[:-1], lon_s[-1], c)
    else:
        lat, lon = to_float(lat_s, command=c), to_float(lon_s, command=c)
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ParseError(c, line, "latitude/longitude missing or out of range")
    fixn = to_int(f[5], command=c)
    when = _utc(f[0], f[9], c, line)
    spkm = to_float(f[7], command=c)
    return GnssFix(time_utc=when, lat_deg=lat, lon_deg=lon, alt_m=to_float(f[4], command=c),
                   mode=FixMode.FIX_3D if fixn == 3 else FixMode.FIX_2D, satellites=to_int(f[10], command=c),
                   hdop=to_float(f[3], command=c), speed_mps=None if spkm is None else round(spkm / 3.6, 3),
                   course_deg=to_float(f[6], command=c), raw=[line])


def parse_cgpsinfo(line: str) -> GnssFix:
    """``+CGPSINFO: <lat>,<N/S>,<lon>,<E/W>,<date>,<UTC>,<alt>,<speed kn>,<course>``; all empty = no fix."""
    c = "AT+CGPSINFO"
    f = split_fields(payload(line, "+CGPSINFO:", command=c))
    if len(f) < 9:
        raise ParseError(c, line, f"expected 9 fields, got {len(f)}")
    if not any(x.strip() for x in f):
        return GnssFix(mode=FixMode.NONE, raw=[line])
    lat, lon = _nmea_deg(f[0], f[1], c), _nmea_deg(f[2], f[3], c)
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ParseError(c, line, "latitude/longitude missing or out of range")
    kn = to_float(f[7], command=c)
    alt = to_float(f[6], command=c)
    return GnssFix(time_utc=_utc(f[5], f[4], c, line), lat_deg=lat, lon_deg=lon, alt_m=alt,
                   mode=FixMode.FIX_3D if alt is not None else FixMode.FIX_2D,
                   speed_mps=None if kn is None else round(kn * 1852 / 3600, 3), course_deg=to_float(f[8], command=c),
                   raw=[line])


def _utc(hms: str, dmy: str, command: str, line: str) -> datetime | None:
    hms, dmy = hms.strip(), dmy.strip()
    if not hms or not dmy:
        return None
    m1, m2 = re.fullmatch(r"(\d\d)(\d\d)(\d\d)(?:\.\d+)?", hms), re.fullmatch(r"(\d\d)(\d\d)(\d\d)", dmy)
    if not m1 or not m2:
        raise ParseError(command, line, "bad UTC time or date")
    try:
        d = date(2000 + int(m2.group(3)), int(m2.group(2)), int(m2.group(1)))
        return datetime(d.year, d.month, d.day, int(m1.group(1)), int(m1.group(2)), int(m1.group(3)),
                        tzinfo=timezone.utc)
    except ValueError:
        raise ParseError(command, line, "bad UTC time or date") from None


class ModemGnssSource(GnssSource):
    """The modem's own GNSS over its AT port (Quectel or SIMCom), started on open."""

    def __init__(self, url: str, *, max_age_s: float = 5.0, timeout_s: float = 3.0) -> None:
        super().__init__(max_age_s)
        from .drivers import choose_driver
        from .generic import identify

        self.url = url
        self.source = f"modem:{url}"
        self._ch: ATChannel | None = ATChannel(url, timeout_s=timeout_s)
        try:
            vendor = choose_driver(identify(self._ch))
            if vendor == "quectel":
                r = self._ch.command("AT+QGPS=1", check=False)
                if not (r.ok or r.final.endswith(" 504")):  # 504: already running
                    raise GnssError(f"{self.source}: AT+QGPS=1 failed: {r.final}")
                self._cmd, self._prefix, self._parse = "AT+QGPSLOC=2", "+QGPSLOC:", parse_qgpsloc
            elif vendor == "simcom":
                self._ch.command("AT+CGPS=1", check=False)
                self._cmd, self._prefix, self._parse = "AT+CGPSINFO", "+CGPSINFO:", parse_cgpsinfo
            else:
                raise GnssError(f"{self.source}: GNSS over AT is supported for Quectel and SIMCom modems, "
                                f"not {vendor}; use the modem's NMEA port instead")
        except BaseException:
            self.close()
            raise

    def _poll(self, deadline: float) -> GnssFix | None:
        if self._ch is None:
            raise GnssError(f"{self.source}: port is closed")
        try:
            r = self._ch.command(self._cmd, check=False, timeout_s=max(0.2, deadline - time.monotonic()))
        except (ATError, PortError) as exc:
            raise GnssError(f"{self.source}: {exc}") from exc
        if r.final.endswith(" 516"):  # Quectel: not fixed now
            return GnssFix(mode=FixMode.NONE, source=self.source, raw=[r.final])
        if not r.ok:
            raise GnssError(f"{self.source}: {self._cmd} failed: {r.final}")
        for ln in r.prefixed(self._prefix):
            try:
                return self._parse(ln).model_copy(update={"source": self.source})
            except ParseError as exc:
                raise GnssError(f"{self.source}: {exc}") from exc
        return None

    def close(self) -> None:
        ch, self._ch = self._ch, None
        if ch is not None:
            ch.close()


def open_gnss(spec: str, *, max_age_s: float = 5.0) -> GnssSource:
    """Open a GNSS source from its string form (see the module docstring).

    :raises GnssError, PortError: the source cannot be opened.
    """
    s = spec.strip()
    if s.startswith("fixed:"):
        parts = s[6:].split(",")
        try:
            nums = [float(p) for p in parts]
        except ValueError:
            raise GnssError(f"fixed position must be fixed:LAT,LON[,ALT], got {spec!r}") from None
        if len(nums) not in (2, 3):
            raise GnssError(f"fixed position must be fixed:LAT,LON[,ALT], got {spec!r}")
        return FixedSource(*nums)
    if s.startswith("gpsd://") or s == "gpsd":
        m = re.fullmatch(r"gpsd(?:://([^:/]*)(?::(\d+))?)?/?", s)
        if not m:
            raise GnssError(f"gpsd source must be gpsd://HOST[:PORT], got {spec!r}")
        return GpsdSource(m.group(1) or "localhost", int(m.group(2) or 2947), max_age_s=max_age_s)
    if s.startswith("modem:"):
        return ModemGnssSource(s[6:], max_age_s=max_age_s)
    if s.startswith("modemmanager-gps:"):
        from .modemmanager import MMGnssSource

        return MMGnssSource(s, max_age_s=max_age_s)
    return NmeaSource(s, max_age_s=max_age_s)


def read_gnss(spec: str, *, timeout_s: float = 3.0, max_age_s: float = 5.0) -> GnssFix:
    """Open a source, read one fix, close."""
    with open_gnss(spec, max_age_s=max_age_s) as src:
        return src.read_fix(timeout_s)
