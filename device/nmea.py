"""NMEA 0183: parse GGA, RMC, GSA, GNS and VTG from any talker (GP, GL, GA, GB, GN…) into fixes,
and write the same sentences for the simulated receiver.

Parsing is delegated to pynmeagps with checksum validation; anything it rejects becomes our
:class:`~qamtu.device.errors.ParseError`. :class:`FixBuilder` groups the sentences of one epoch
(same UTC time) into one :class:`~qamtu.device.models.GnssFix`.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import reduce

from pynmeagps import VALCKSUM, NMEAReader

from .errors import ParseError
from .models import FixMode, GnssFix
from .sanity import check_fix

KNOT_MPS = 1852.0 / 3600.0
_TYPES = ("GGA", "RMC", "GSA", "GNS", "VTG", "GLL", "GRMZ")
FOOT_M = 0.3048


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


def _minutes_ok(text: str) -> str | None:
    """A reason when a GGA/RMC/GNS position field has minutes >= 60 (``4375.0000`` is not a coordinate)."""
    body = text.split("*", 1)[0].split(",")
    kind = body[0][-3:] if body else ""
    idx = {"GGA": (2, 4), "GNS": (2, 4), "RMC": (3, 5)}.get(kind)
    if idx is None:
        return None
    for i, width in zip(idx, (2, 3)):
        if len(body) > i and body[i]:
            try:
                minutes = float(body[i][width:])
            except ValueError:
                return f"position field {body[i]!r} is not ddmm.mmmm"
            if not 0 <= minutes < 60:
                return f"position field {body[i]!r} has {minutes:g} minutes (must be < 60)"
    return None


class FixBuilder:
    """Collects the sentences of one epoch; :meth:`feed` returns a fix when an epoch is complete.

    An epoch is complete when a position sentence (GGA or GNS) and RMC of the same time have arrived
    and the epoch's GSA too (it may come before or after GGA: the Telit SL869 sends it after); or when
    a sentence with a newer time starts the next epoch. A receiver that sends no GSA is recognised at
    its first epoch boundary; from then on its epochs end at GGA + RMC. The 2D/3D
    mode is the GSA of the same epoch, so it is never taken from the previous one. Values that are not
    finite or out of range are dropped with a note, and a position outside WGS84 or with minutes >= 60
    is refused as a fix (:func:`qamtu.device.sanity.check_fix`).
    """

    def __init__(self, source: str = "nmea") -> None:
        self.source = source
        self._cur: dict = {}
        self._raw: list[str] = []
        self._nav_mode: int | None = None  # last GSA mode seen (for receivers that send GSA less often)
        self._sends_gsa = False
        self._no_gsa = False  # learnt at the first epoch boundary without any GSA so far
        self._gsa_closed = False
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

    def flush(self) -> GnssFix | None:
        """The epoch in progress as a fix (end of a capture), or None."""
        return self._finish() if self._cur else None

    def flush_if_complete(self) -> GnssFix | None:
        """The epoch in progress if it already has its position and RMC (a receiver that went quiet
        before the epoch's GSA); None otherwise. Called by a reader whose wait for data timed out."""
        c = self._cur
        return self._finish() if c.get("pos") and c.get("rmc") else None

    def _ready(self) -> bool:
        c = self._cur
        return bool(c.get("pos") and c.get("rmc") and (c.get("nav_mode_seen") or self._no_gsa))

    def _apply(self, msg, text: str) -> GnssFix | None:
        ident = msg.msgID
        if ident == "GSA":
            self._sends_gsa = True
            mode = int(msg.navMode) if msg.navMode not in ("", None) else None
            if self._gsa_closed:  # the 2nd/3rd GSA (one per constellation) of an epoch already finished
                return None
            if not self._cur.get("nav_mode_seen"):  # the first GSA of the epoch (GN receivers send one per system)
                self._cur["nav_mode"] = mode
                self._cur["nav_mode_seen"] = True
            self._nav_mode = mode
            hd = _num(msg.HDOP)
            if hd is not None:
                self._cur.setdefault("hdop", hd)
            self._raw.append(text)
            if self._ready():
                self._gsa_closed = True
                return self._finish()
            return None
        if ident == "VTG":  # speed and course from RMC win (as in gpsd); VTG fills in when RMC has none
            if msg.sogk not in ("", None):
                self._cur["vtg_speed_mps"] = float(msg.sogk) / 3.6
            if msg.cogt not in ("", None):
                self._cur["vtg_course_deg"] = float(msg.cogt)
            self._raw.append(text)
            return None
        if ident == "GRMZ":  # Garmin altitude sentence (feet or metres)
            if msg.alt not in ("", None):
                self._cur["alt"] = float(msg.alt) * (FOOT_M if str(msg.altUnit).lower() == "f" else 1.0)
            self._raw.append(text)
            return None
        self._gsa_closed = False
        t = msg.time if isinstance(getattr(msg, "time", None), dt.time) else None
        done: GnssFix | None = None
        if self._cur.get("time") is not None and t is not None and t != self._cur["time"]:
            carried = {k: self._cur.pop(k) for k in ("nav_mode", "nav_mode_seen") if k in self._cur} \
                if not (self._cur.get("pos") or self._cur.get("rmc")) else {}
            if not self._sends_gsa:
                self._no_gsa = True  # a whole epoch without GSA: finish the next ones at GGA + RMC
            done = self._finish()
            self._cur.update(carried)
        if t is not None:
            self._cur["time"] = t
        self._raw.append(text)
        bad = _minutes_ok(text)
        if bad:
            self._cur.setdefault("refused", []).append(bad)
        if ident in ("GGA", "GNS"):
            self._cur["pos"] = True
            q = msg.quality if ident == "GGA" else (0 if str(msg.posMode).strip("N") == "" else 1)
            self._cur["quality"] = int(q) if q not in ("", None) else 0
            if msg.lat not in ("", None) and msg.lon not in ("", None):
                self._cur["lat"], self._cur["lon"] = float(msg.lat), float(msg.lon)
            self._cur["alt"] = _num(msg.alt)
            self._cur["sats"] = int(msg.numSV) if msg.numSV not in ("", None) else None
            self._cur["hdop"] = _num(msg.HDOP)
        elif ident == "GLL":  # position only; a Garmin 48 sends it as a fix of its own, one second after RMC/GGA
            self._cur["pos"] = True
            self._cur.setdefault("quality", 1 if msg.status == "A" else 0)
            if msg.lat not in ("", None) and msg.lon not in ("", None):
                self._cur.setdefault("lat", float(msg.lat))
                self._cur.setdefault("lon", float(msg.lon))
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
        if done is None and self._ready():
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
        nav_mode = c.get("nav_mode") if c.get("nav_mode_seen") else self._nav_mode
        if not has_pos:
            mode = FixMode.NONE
        elif nav_mode in (2, 3):
            mode = FixMode.FIX_3D if nav_mode == 3 else FixMode.FIX_2D
        elif nav_mode == 1 and c.get("nav_mode_seen"):
            mode = FixMode.NONE  # the receiver's own GSA of this epoch says "no fix"
            has_pos = False
        else:
            mode = FixMode.FIX_3D if c.get("alt") is not None else FixMode.FIX_2D
        when = None
        if c.get("time") is not None and self._date is not None:
            when = dt.datetime.combine(self._date, c["time"]).replace(tzinfo=dt.timezone.utc)
        refused = c.get("refused") or []
        if refused and has_pos:
            has_pos, mode = False, FixMode.NONE
        speed = c.get("speed_mps", c.get("vtg_speed_mps"))
        course = c.get("course_deg", c.get("vtg_course_deg"))
        fix = GnssFix(time_utc=when, lat_deg=c.get("lat") if has_pos else None,
                      lon_deg=c.get("lon") if has_pos else None, alt_m=c.get("alt") if has_pos else None,
                      mode=mode, satellites=c.get("sats"), hdop=c.get("hdop"),
                      speed_mps=round(speed, 3) if has_pos and speed is not None and math.isfinite(speed) else
                      (speed if has_pos else None),
                      course_deg=course if has_pos else None, source=self.source,
                      notes=[f"not a fix: {r}" for r in dict.fromkeys(refused)], raw=raw)
        return check_fix(fix)


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
