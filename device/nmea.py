"""NMEA 0183: parse GGA, RMC, GSA, GNS and VTG from any talker (GP, GL, GA, GB, GN…) into fixes,
and write the same sentences for the simulated receiver.

Parsing is delegated to pynmeagps with checksum validation; anything it rejects becomes our
:class:`~qamtu.device.errors.ParseError`. :class:`FixBuilder` groups the sentences of one epoch
(same UTC time) into one :class:`~qamtu.device.models.GnssFix`.
"""

from __future__ import annotations

import datetime as dt
from functools import reduce

from pynmeagps import VALCKSUM, NMEAReader

from .errors import ParseError
from .models import FixMode, GnssFix

KNOT_MPS = 1852.0 / 3600.0
_TYPES = ("GGA", "RMC", "GSA", "GNS", "VTG")


def parse_sentence(line: bytes | str):
    """One NMEA sentence -> pynmeagps message, or None for a type we do not use (GSV, GLL…).

    :raises ParseError: bad checksum, malformed sentence or not NMEA at all.
    """
    raw = line.encode("ascii", "replace") if isinstance(line, str) else bytes(line)
    raw = raw.strip()
    text = raw.decode("ascii", "replace")
    if not raw.startswith(b"$") or b"*" not in raw:
        raise ParseError("NMEA", text, "not an NMEA sentence")
    try:
        msg = NMEAReader.parse(raw + b"\r\n", validate=VALCKSUM)
    except Exception as exc:  # noqa: BLE001 - pynmeagps raises several unrelated types; all mean "bad sentence"
        raise ParseError("NMEA", text, str(exc) or type(exc).__name__) from None
    if msg is None:
        raise ParseError("NMEA", text, "not an NMEA sentence")
    ident = getattr(msg, "msgID", "")
    return msg if ident in _TYPES else None


def _num(v) -> float | None:
    return None if v in ("", None) else float(v)


class FixBuilder:
    """Collects the sentences of one epoch; :meth:`feed` returns a fix when an epoch is complete.

    An epoch is complete when both a position sentence (GGA or GNS) and RMC of the same time have
    arrived, or when a sentence with a newer time starts the next epoch.
    """

    def __init__(self, source: str = "nmea") -> None:
        self.source = source
        self._cur: dict = {}
        self._raw: list[str] = []
        self._nav_mode: int | None = None
        self._date: dt.date | None = None

    def feed(self, line: bytes | str) -> GnssFix | None:
        """Add one line; returns a finished fix or None. Raises ParseError for a bad sentence."""
        msg = parse_sentence(line)
        if msg is None:
            return None
        text = (line.decode("ascii", "replace") if isinstance(line, bytes) else line).strip()
        try:
            return self._apply(msg, text)
        except (AttributeError, TypeError, ValueError) as exc:
            # pynmeagps returns short sentences with attributes missing, or odd field types
            self._cur, self._raw = {}, []
            raise ParseError("NMEA", text, f"malformed {getattr(msg, 'msgID', '')} fields ({exc})") from None

    def _apply(self, msg, text: str) -> GnssFix | None:
        ident = msg.msgID
        if ident == "GSA":
            self._nav_mode = int(msg.navMode) if msg.navMode not in ("", None) else None
            hd = _num(msg.HDOP)
            if hd is not None:
                self._cur.setdefault("hdop", hd)
            self._raw.append(text)
            return None
        if ident == "VTG":
            if msg.sogk not in ("", None):
                self._cur["speed_mps"] = float(msg.sogk) / 3.6
            if msg.cogt not in ("", None):
                self._cur["course_deg"] = float(msg.cogt)
            self._raw.append(text)
            return None
        t = msg.time if isinstance(getattr(msg, "time", None), dt.time) else None
        done: GnssFix | None = None
        if self._cur.get("time") is not None and t is not None and t != self._cur["time"]:
            done = self._finish()
        if t is not None:
            self._cur["time"] = t
        self._raw.append(text)
        if ident in ("GGA", "GNS"):
            self._cur["pos"] = True
            q = msg.quality if ident == "GGA" else (0 if str(msg.posMode).strip("N") == "" else 1)
            self._cur["quality"] = int(q) if q not in ("", None) else 0
            if msg.lat not in ("", None) and msg.lon not in ("", None):
                self._cur["lat"], self._cur["lon"] = float(msg.lat), float(msg.lon)
            self._cur["alt"] = _num(msg.alt)
            self._cur["sats"] = int(msg.numSV) if msg.numSV not in ("", None) else None
            self._cur["hdop"] = _num(msg.HDOP)
        elif ident == "RMC":
            self._cur["rmc"] = True
            self._cur["valid"] = msg.status == "A"
            if isinstance(msg.date, dt.date):
                self._date = msg.date
            if msg.lat not in ("", None) and msg.lon not in ("", None):
                self._cur.setdefault("lat", float(msg.lat))
                self._cur.setdefault("lon", float(msg.lon))
            if msg.spd not in ("", None):
                self._cur["speed_mps"] = float(msg.spd) * KNOT_MPS
            if msg.cog not in ("", None):
                self._cur["course_deg"] = float(msg.cog)
        if done is None and self._cur.get("pos") and self._cur.get("rmc"):
            done = self._finish()
        return done

    def _finish(self) -> GnssFix | None:
        c, raw = self._cur, self._raw
        self._cur, self._raw = {}, []
        if not c.get("pos") and not c.get("rmc"):
            return None
        has_pos = c.get("lat") is not None and (c.get("quality", 1) > 0 if c.get("pos") else c.get("valid", False))
        if c.get("rmc") and not c.get("valid", True):
            has_pos = False
        if not has_pos:
            mode = FixMode.NONE
        elif self._nav_mode in (2, 3):
            mode = FixMode.FIX_3D if self._nav_mode == 3 else FixMode.FIX_2D
        else:
            mode = FixMode.FIX_3D if c.get("alt") is not None else FixMode.FIX_2D
        when = None
        if c.get("time") is not None and self._date is not None:
            when = dt.datetime.combine(self._date, c["time"]).replace(tzinfo=dt.timezone.utc)
        return GnssFix(time_utc=when, lat_deg=c.get("lat") if has_pos else None,
                       lon_deg=c.get("lon") if has_pos else None, alt_m=c.get("alt") if has_pos else None,
                       mode=mode, satellites=c.get("sats"), hdop=c.get("hdop"),
                       speed_mps=round(c["speed_mps"], 3) if has_pos and c.get("speed_mps") is not None else None,
                       course_deg=c.get("course_deg") if has_pos else None, source=self.source, raw=raw)


# ---------------------------------------------------------------------- writing (simulator)
def checksum(body: str) -> str:
    """NMEA checksum (XOR of the characters between ``$`` and ``*``) as two hex digits."""
    return f"{reduce(lambda a, ch: a ^ ord(ch), body, 0):02X}"


def sentence(body: str) -> bytes:
    """``body`` (without ``$`` and ``*hh``) as a complete sentence with checksum and CR LF."""
    return f"${body}*{checksum(body)}\r\n".encode("ascii")


def _dm(deg: float, width: int) -> str:
    d = int(abs(deg))
    return f"{d:0{width}d}{(abs(deg) - d) * 60:08.5f}"


def epoch_sentences(utc: dt.datetime, lat: float | None, lon: float | None, alt_m: float, speed_mps: float,
                    course_deg: float, *, talker: str = "GN", sats: int = 9, hdop: float = 0.9) -> list[bytes]:
    """RMC, VTG, GGA and GSA of one epoch; ``lat=None`` writes the receiver's "no fix" forms."""
    hms = f"{utc:%H%M%S}.00"
    date = f"{utc:%d%m%y}"
    kn = speed_mps / KNOT_MPS
    if lat is None or lon is None:
        return [sentence(f"{talker}RMC,{hms},V,,,,,,,{date},,,N"),
                sentence(f"{talker}VTG,,T,,M,,N,,K,N"),
                sentence(f"{talker}GGA,{hms},,,,,0,00,99.99,,,,,,"),
                sentence(f"{talker}GSA,A,1,,,,,,,,,,,,,99.99,99.99,99.99")]
    ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
    pos = f"{_dm(lat, 2)},{ns},{_dm(lon, 3)},{ew}"
    return [sentence(f"{talker}RMC,{hms},A,{pos},{kn:.3f},{course_deg:.2f},{date},,,A"),
            sentence(f"{talker}VTG,{course_deg:.2f},T,,M,{kn:.3f},N,{speed_mps * 3.6:.3f},K,A"),
            sentence(f"{talker}GGA,{hms},{pos},1,{sats:02d},{hdop:.2f},{alt_m:.1f},M,-20.0,M,,"),
            sentence(f"{talker}GSA,A,3,01,03,07,08,11,14,17,22,28,,,,{hdop + 0.6:.2f},{hdop:.2f},{hdop + 0.4:.2f}")]
